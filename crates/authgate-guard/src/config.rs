//! What a [`Verifier`](crate::Verifier) accepts: issuer, audiences, leeway, cache size.

use authgate_jwt::DEFAULT_LEEWAY;

/// Default number of verified tokens kept in the cache.
pub const DEFAULT_CACHE_CAPACITY: usize = 10_000;

/// The settings of a [`Verifier`](crate::Verifier); read once, when it is built.
///
/// `#[non_exhaustive]`: build it with [`VerifierConfig::new`], then set the
/// public fields, so adding a setting later breaks no caller.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifierConfig {
    /// The only accepted `iss`: the authgate server's `tokens.issuer`. Required, non-empty.
    pub issuer: String,
    /// The accepted audiences; a token's `aud` must contain at least one.
    /// Required and non-empty: a verifier that does not know who it is
    /// cannot tell a token meant for another service from one meant for it.
    pub audiences: Vec<String>,
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`, on the cold
    /// path and on every cache hit alike. Defaults to 60; must not be negative.
    pub leeway_secs: i64,
    /// How many verified tokens the cache holds at most. Defaults to 10 000;
    /// 0 turns the cache off, so every token is verified in full.
    pub cache_capacity: usize,
}

impl VerifierConfig {
    /// Accepts tokens from `issuer` for `audience`, with the default leeway
    /// (60 s) and cache capacity (10 000).
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audiences: vec![audience.into()],
            leeway_secs: DEFAULT_LEEWAY,
            cache_capacity: DEFAULT_CACHE_CAPACITY,
        }
    }

    /// Also accepts tokens for `audience`.
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Sets the clock-skew leeway in seconds.
    #[must_use]
    pub fn leeway_secs(mut self, seconds: i64) -> Self {
        self.leeway_secs = seconds;
        self
    }

    /// Sets the cache capacity; 0 turns the cache off.
    #[must_use]
    pub fn cache_capacity(mut self, entries: usize) -> Self {
        self.cache_capacity = entries;
        self
    }

    /// Refuses settings that would make every token fail, or any token pass.
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        if self.issuer.is_empty() {
            return Err("the issuer is empty");
        }
        if self.audiences.is_empty() {
            return Err("no accepted audience");
        }
        if self.audiences.iter().any(String::is_empty) {
            return Err("an accepted audience is empty");
        }
        if self.leeway_secs < 0 {
            return Err("the leeway is negative");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_uses_the_documented_defaults() {
        let config = VerifierConfig::new("https://auth.example", "api");
        assert_eq!(config.leeway_secs, 60);
        assert_eq!(config.cache_capacity, 10_000);
        assert_eq!(config.audiences, ["api"]);
        assert_eq!(config.check(), Ok(()));
    }

    #[test]
    fn a_config_without_audience_issuer_or_with_negative_leeway_is_refused() {
        let good = VerifierConfig::new("https://auth.example", "api");
        let mut no_aud = good.clone();
        no_aud.audiences.clear();
        assert!(no_aud.check().is_err());
        assert!(good.clone().audience("").check().is_err());
        let mut no_iss = good.clone();
        no_iss.issuer.clear();
        assert!(no_iss.check().is_err());
        assert!(good.leeway_secs(-1).check().is_err());
    }
}
