//! What a verified token must also satisfy: time window, issuer, audience,
//! type, required claims and size. Strict by default (RFC 8725).

use crate::Error;

/// Default leeway for clock skew, in seconds.
pub const DEFAULT_LEEWAY: i64 = 60;

/// Default maximum token length in bytes, checked before any decoding.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;

/// The checks a token must pass after its signature verifies.
///
/// Build one per verifier and reuse it; it is read-only during verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`. Defaults to 60.
    pub leeway: i64,
    /// Claims that must be present. Defaults to `["exp"]`: a token that never
    /// expires is refused. Removing `exp` from this list is rarely wise.
    /// At most 64 names.
    pub required_claims: Vec<String>,
    /// Refuse tokens whose `nbf` is in the future. Defaults to `true`.
    pub validate_nbf: bool,
    /// Refuse tokens whose `iat` is in the future. Defaults to `true`.
    pub validate_iat: bool,
    /// When set, `iss` must be present and equal. Defaults to `None`.
    pub issuer: Option<String>,
    /// When non-empty, `aud` must be present and contain one of these.
    /// When empty, a token *with* an `aud` is refused (RFC 7519 §4.1.3: we
    /// cannot be its audience if we do not know who we are). Defaults to empty.
    pub audiences: Vec<String>,
    /// When set, the header `typ` must match (RFC 8725 §3.11 explicit typing),
    /// e.g. `at+jwt` for access tokens (RFC 9068). Defaults to `None`.
    pub typ: Option<String>,
    /// Longest token accepted, in bytes; longer ones are refused before any
    /// decoding. Defaults to 8192.
    pub max_token_len: usize,
    /// Skip the audience check entirely. Defaults to `false`; set only through
    /// [`Validation::insecure_ignore_audience`].
    pub(crate) ignore_audience: bool,
}

impl Default for Validation {
    fn default() -> Self {
        Self {
            leeway: DEFAULT_LEEWAY,
            required_claims: vec!["exp".to_owned()],
            validate_nbf: true,
            validate_iat: true,
            issuer: None,
            audiences: Vec::new(),
            typ: None,
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
            ignore_audience: false,
        }
    }
}

impl Validation {
    /// The strict defaults: `exp` required, `nbf`/`iat` checked, 60 s leeway, 8 KiB cap.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requires `iss` to equal `issuer`.
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Accepts tokens whose `aud` contains `audience` (call again to accept several).
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Requires the header `typ` to be `typ` (compared as RFC 7515 says).
    #[must_use]
    pub fn typ(mut self, typ: impl Into<String>) -> Self {
        self.typ = Some(typ.into());
        self
    }

    /// Sets the clock-skew leeway in seconds.
    #[must_use]
    pub fn leeway(mut self, seconds: i64) -> Self {
        self.leeway = seconds;
        self
    }

    /// Also requires `claim` to be present.
    #[must_use]
    pub fn require(mut self, claim: impl Into<String>) -> Self {
        let claim = claim.into();
        if !self.required_claims.contains(&claim) {
            self.required_claims.push(claim);
        }
        self
    }

    /// The time checks of [`verify`](crate::verify), for claims already
    /// verified once and checked again later (a cache of verified tokens, an
    /// introspection answer kept for a while): `exp` with the leeway, then
    /// `nbf` and `iat` when [`Validation::validate_nbf`] and
    /// [`Validation::validate_iat`] say so. An absent claim passes, as in
    /// `verify` (whether it must be present is `required_claims`' business).
    ///
    /// One function for both, so a token re-checked from a cache stops being
    /// accepted at the very second a fresh verification would refuse it.
    ///
    /// # Errors
    /// [`Error::Expired`], [`Error::NotYetValid`] or [`Error::IssuedInFuture`].
    pub fn check_time(
        &self,
        exp: Option<i64>,
        nbf: Option<i64>,
        iat: Option<i64>,
        now: i64,
    ) -> Result<(), Error> {
        if exp.is_some_and(|exp| now >= exp.saturating_add(self.leeway)) {
            return Err(Error::Expired);
        }
        if self.validate_nbf && nbf.is_some_and(|nbf| now.saturating_add(self.leeway) < nbf) {
            return Err(Error::NotYetValid);
        }
        if self.validate_iat && iat.is_some_and(|iat| iat > now.saturating_add(self.leeway)) {
            return Err(Error::IssuedInFuture);
        }
        Ok(())
    }

    /// Turns the audience check off, so a token meant for another service is
    /// accepted here. Only for tools that inspect tokens; a service that does
    /// this can be handed tokens minted for any other service.
    #[must_use]
    pub fn insecure_ignore_audience(mut self) -> Self {
        self.ignore_audience = true;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_time_refuses_at_exp_plus_leeway_and_not_a_second_before() {
        let v = Validation::new().leeway(60);
        assert_eq!(v.check_time(Some(1000), None, None, 1059), Ok(()));
        assert_eq!(
            v.check_time(Some(1000), None, None, 1060),
            Err(Error::Expired)
        );
    }

    #[test]
    fn check_time_applies_nbf_and_iat_only_when_asked() {
        let mut v = Validation::new().leeway(0);
        assert_eq!(
            v.check_time(None, Some(11), None, 10),
            Err(Error::NotYetValid)
        );
        assert_eq!(
            v.check_time(None, None, Some(11), 10),
            Err(Error::IssuedInFuture)
        );
        v.validate_nbf = false;
        v.validate_iat = false;
        assert_eq!(v.check_time(None, Some(11), Some(11), 10), Ok(()));
    }

    #[test]
    fn check_time_passes_absent_claims() {
        assert_eq!(Validation::new().check_time(None, None, None, 0), Ok(()));
    }
}
