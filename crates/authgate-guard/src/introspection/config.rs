//! [`IntrospectionConfig`]: where and how an [`Introspector`](crate::Introspector)
//! asks, what it remembers, and how many requests it lets out at once.

use std::fmt;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::GuardError;

/// The longest [`IntrospectionConfig::cache_ttl_secs`] accepted: a day. An
/// answer never outlives the token's `exp` anyway; anything larger is a
/// mistake (and would overflow the arithmetic near the end of time).
pub(super) const MAX_CACHE_TTL_SECS: i64 = 86_400;

/// The longest an inactive answer is reused, in seconds, whatever
/// `cache_ttl_secs` says: long enough that repeating one forged token costs
/// one request per period, short enough that an answer given by mistake
/// (a server restarting, a replica behind) does not shut a user out for long.
pub(super) const MAX_NEGATIVE_TTL_SECS: i64 = 10;

/// The largest [`IntrospectionConfig::max_in_flight`] accepted. More than
/// this many requests at once is no longer a bound on the authorization
/// server's load.
const MAX_IN_FLIGHT_LIMIT: usize = 10_000;

/// Where and how to introspect. `#[non_exhaustive]`: build it with
/// [`IntrospectionConfig::new`] and set the public fields.
#[derive(Clone)]
#[non_exhaustive]
pub struct IntrospectionConfig {
    /// The introspection endpoint: authgate's `…/oauth/introspect`. Must be
    /// `https`, or `http` to a loopback host, unless `insecure_allow_http`.
    pub endpoint: String,
    /// This service's client id at the authorization server (`authgate
    /// client add`); introspection requires client authentication.
    pub client_id: String,
    /// The client's secret; wiped from memory on drop, never in `Debug`.
    pub client_secret: Zeroizing<String>,
    /// How long an active answer is reused, in seconds: the delay before a
    /// revocation is seen. Defaults to 10; 0 asks on every request. Must be
    /// between 0 and 86 400 (a day). An inactive answer is reused for this
    /// long too, but never more than 10 s (a token never becomes active
    /// again, so that delays nothing).
    pub cache_ttl_secs: i64,
    /// How many active answers are kept at most. Defaults to 10 000.
    pub cache_capacity: usize,
    /// How many inactive answers are kept at most, in a cache of their own
    /// so that a flood of forged tokens cannot evict the active ones; they
    /// are keyed by the token's SHA-256, never the token. Defaults to
    /// 10 000; 0 keeps none.
    pub negative_cache_capacity: usize,
    /// How many introspection requests may be in flight at once, for all
    /// tokens together: the most load this service can put on the
    /// authorization server, however many tokens it is sent. Defaults to
    /// 32; must be between 1 and 10 000.
    pub max_in_flight: usize,
    /// How long a request waits for one of the `max_in_flight` slots before
    /// it is answered 503 `unavailable`. Defaults to `None`: as long as
    /// `timeout`. `Some(Duration::ZERO)` refuses at once when all are busy.
    pub max_in_flight_wait: Option<Duration>,
    /// Time limit of one introspection request. Defaults to 5 s.
    pub timeout: Duration,
    /// Largest introspection response accepted, in bytes. Defaults to 64 KiB.
    pub max_body_bytes: usize,
    /// Accepts a plain `http` endpoint on a non-loopback host: the token and
    /// the client secret then cross the network in clear. Defaults to `false`.
    pub insecure_allow_http: bool,
}

impl IntrospectionConfig {
    /// Introspection at `endpoint` as client `client_id` with `client_secret`,
    /// with the defaults above.
    pub fn new(
        endpoint: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        Self {
            endpoint: endpoint.into(),
            client_id: client_id.into(),
            client_secret: Zeroizing::new(client_secret.into()),
            cache_ttl_secs: 10,
            cache_capacity: 10_000,
            negative_cache_capacity: 10_000,
            max_in_flight: 32,
            max_in_flight_wait: None,
            timeout: crate::http_client::DEFAULT_HTTP_TIMEOUT,
            max_body_bytes: 64 * 1024,
            insecure_allow_http: false,
        }
    }

    /// The settings that need no parsing, checked (the endpoint is parsed
    /// by the introspector itself).
    pub(super) fn validate(&self) -> Result<(), GuardError> {
        if self.client_id.is_empty() {
            return Err(GuardError::InvalidConfig(
                "introspection needs a client id and secret",
            ));
        }
        if !(0..=MAX_CACHE_TTL_SECS).contains(&self.cache_ttl_secs) {
            return Err(GuardError::InvalidConfig(
                "introspection: cache_ttl_secs must be between 0 and 86400",
            ));
        }
        if !(1..=MAX_IN_FLIGHT_LIMIT).contains(&self.max_in_flight) {
            return Err(GuardError::InvalidConfig(
                "introspection: max_in_flight must be between 1 and 10000",
            ));
        }
        Ok(())
    }

    /// How long an inactive answer is reused: `cache_ttl_secs`, at most 10 s.
    pub(super) fn negative_ttl_secs(&self) -> i64 {
        self.cache_ttl_secs.min(MAX_NEGATIVE_TTL_SECS)
    }
}

impl fmt::Debug for IntrospectionConfig {
    /// Everything but the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectionConfig")
            .field("endpoint", &self.endpoint)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("cache_ttl_secs", &self.cache_ttl_secs)
            .field("cache_capacity", &self.cache_capacity)
            .field("negative_cache_capacity", &self.negative_cache_capacity)
            .field("max_in_flight", &self.max_in_flight)
            .field("max_in_flight_wait", &self.max_in_flight_wait)
            .field("timeout", &self.timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("insecure_allow_http", &self.insecure_allow_http)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> IntrospectionConfig {
        IntrospectionConfig::new("https://auth.example/oauth/introspect", "svc", "s")
    }

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(config().validate(), Ok(()));
    }

    #[test]
    fn a_cache_lifetime_past_a_day_or_negative_is_refused() {
        for ttl in [i64::MAX, MAX_CACHE_TTL_SECS + 1, -1] {
            let mut config = config();
            config.cache_ttl_secs = ttl;
            assert!(
                matches!(config.validate(), Err(GuardError::InvalidConfig(_))),
                "{ttl}"
            );
        }
        let mut config = config();
        config.cache_ttl_secs = MAX_CACHE_TTL_SECS;
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn an_in_flight_limit_of_zero_or_past_ten_thousand_is_refused() {
        for limit in [0, MAX_IN_FLIGHT_LIMIT + 1, usize::MAX] {
            let mut config = config();
            config.max_in_flight = limit;
            assert!(
                matches!(config.validate(), Err(GuardError::InvalidConfig(_))),
                "{limit}"
            );
        }
        for limit in [1, MAX_IN_FLIGHT_LIMIT] {
            let mut config = config();
            config.max_in_flight = limit;
            assert_eq!(config.validate(), Ok(()), "{limit}");
        }
    }

    #[test]
    fn inactive_answers_are_reused_for_the_cache_lifetime_but_at_most_ten_seconds() {
        for (ttl, negative) in [(0, 0), (3, 3), (10, 10), (3600, 10)] {
            let mut config = config();
            config.cache_ttl_secs = ttl;
            assert_eq!(config.negative_ttl_secs(), negative, "{ttl}");
        }
    }

    #[test]
    fn a_missing_client_id_is_refused() {
        let config = IntrospectionConfig::new("https://auth.example/oauth/introspect", "", "s");
        assert!(config.validate().is_err());
    }
}
