//! When to fetch the JWKS again: from `Cache-Control` after a success, by
//! exponential backoff after a failure, and at most one unknown-`kid`
//! refetch per interval. Pure: every function takes `now`.

use std::time::Duration;

/// How a [`Guard`](crate::Guard) keeps its JWKS fresh. Read once, when the
/// guard is built.
///
/// `#[non_exhaustive]`: start from [`JwksSettings::default`] and set fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JwksSettings {
    /// An unknown `kid` triggers at most one refetch per this many seconds,
    /// so a flood of forged tokens with made-up key ids cannot make us hammer
    /// the authorization server. Defaults to 30.
    pub unknown_kid_interval_secs: i64,
    /// The shortest time between scheduled refreshes, whatever
    /// `Cache-Control` says (`max-age=0`, `no-cache`). Defaults to 30.
    pub min_refresh_secs: i64,
    /// The longest time between scheduled refreshes, however long
    /// `Cache-Control` allows: keys retired early reach us this soon.
    /// Defaults to 3600.
    pub max_refresh_secs: i64,
    /// The cache lifetime assumed when the response has no `max-age`.
    /// Defaults to 300.
    pub default_max_age_secs: i64,
    /// The first retry after a failed fetch, in seconds; each further failure
    /// doubles it up to [`JwksSettings::retry_max_secs`]. Defaults to 1.
    pub retry_initial_secs: i64,
    /// The longest wait between retries while the server is down. Defaults to 30.
    pub retry_max_secs: i64,
    /// How long the keys of the last successful fetch are trusted while
    /// fetches fail, in seconds. Past it the guard fails closed: every
    /// token is refused with 503 ([`GuardError::StaleKeys`](crate::GuardError::StaleKeys)),
    /// and it says so in the log and in the `authgate_guard_jwks_stale`
    /// gauge, until a fetch succeeds again. Keys retired (or revoked after a
    /// compromise) at the server reach us only through a fetch, so trusting
    /// old ones forever would keep a withdrawn key working. Defaults to
    /// 86400 (24 h).
    pub max_staleness_secs: i64,
    /// Time limit of one JWKS request. Defaults to 5 s.
    pub timeout: Duration,
    /// Largest JWKS document accepted, in bytes. Defaults to 256 KiB.
    pub max_body_bytes: usize,
    /// Whether a background task keeps the keys fresh (on the Tokio runtime
    /// the guard is built in). Defaults to `true`; with `false`, keys are
    /// fetched only by [`JwksHandle::tick`](crate::JwksHandle::tick),
    /// [`JwksHandle::refresh`](crate::JwksHandle::refresh) and unknown
    /// key ids, which is how tests drive the schedule with a manual clock.
    pub background_refresh: bool,
}

impl Default for JwksSettings {
    fn default() -> Self {
        Self {
            unknown_kid_interval_secs: 30,
            min_refresh_secs: 30,
            max_refresh_secs: 3600,
            default_max_age_secs: 300,
            retry_initial_secs: 1,
            retry_max_secs: 30,
            max_staleness_secs: 86_400,
            timeout: crate::http_client::DEFAULT_HTTP_TIMEOUT,
            max_body_bytes: 256 * 1024,
            background_refresh: true,
        }
    }
}

impl JwksSettings {
    /// Refuses settings that would refetch without pause or never.
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        if self.unknown_kid_interval_secs < 1 {
            return Err("jwks: unknown_kid_interval_secs must be at least 1");
        }
        if self.min_refresh_secs < 1 || self.max_refresh_secs < self.min_refresh_secs {
            return Err("jwks: need 1 <= min_refresh_secs <= max_refresh_secs");
        }
        if self.retry_initial_secs < 1 || self.retry_max_secs < self.retry_initial_secs {
            return Err("jwks: need 1 <= retry_initial_secs <= retry_max_secs");
        }
        if self.max_staleness_secs < self.max_refresh_secs {
            return Err("jwks: max_staleness_secs must be at least max_refresh_secs");
        }
        if self.default_max_age_secs < 0 || self.max_body_bytes == 0 {
            return Err("jwks: default_max_age_secs must not be negative, max_body_bytes not 0");
        }
        Ok(())
    }
}

/// Where the fetch schedule stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Schedule {
    /// The `ETag` of the keys held, sent as `If-None-Match`.
    pub(crate) etag: Option<String>,
    /// When the last successful fetch (200 or 304) completed.
    pub(crate) fetched_at: Option<i64>,
    /// When the keys held go stale by the server's `Cache-Control`.
    pub(crate) stale_at: Option<i64>,
    /// When the next scheduled fetch is due; 0 at start: at once.
    pub(crate) refresh_at: i64,
    /// Failed fetches since the last success.
    pub(crate) failures: u32,
    /// When the last unknown-`kid` refetch was allowed.
    pub(crate) last_unknown_kid: Option<i64>,
}

impl Schedule {
    /// Records a successful fetch at `now` whose response allowed caching for
    /// `max_age` seconds (`None`: it did not say): the keys go stale then,
    /// and the next fetch is due a quarter of that earlier, within the
    /// configured bounds.
    pub(crate) fn succeeded(&mut self, now: i64, max_age: Option<i64>, s: &JwksSettings) {
        let ttl = max_age.unwrap_or(s.default_max_age_secs).max(0);
        let refresh_in = (ttl - ttl / 4).clamp(s.min_refresh_secs, s.max_refresh_secs);
        self.fetched_at = Some(now);
        self.stale_at = Some(now.saturating_add(ttl));
        self.refresh_at = now.saturating_add(refresh_in);
        self.failures = 0;
    }

    /// Records a failed fetch at `now`: retry after 1, 2, 4, … seconds, up
    /// to the configured maximum. The keys held stay in force.
    pub(crate) fn failed(&mut self, now: i64, s: &JwksSettings) {
        self.failures = self.failures.saturating_add(1);
        let doublings = (self.failures - 1).min(32);
        let delay = s
            .retry_initial_secs
            .saturating_mul(1_i64 << doublings)
            .min(s.retry_max_secs);
        self.refresh_at = now.saturating_add(delay);
    }

    /// Whether an unknown `kid` seen at `now` may trigger a refetch; if so,
    /// the budget is spent.
    pub(crate) fn allow_unknown_kid(&mut self, now: i64, s: &JwksSettings) -> bool {
        match self.last_unknown_kid {
            Some(last) if now < last.saturating_add(s.unknown_kid_interval_secs) => false,
            _ => {
                self.last_unknown_kid = Some(now);
                true
            }
        }
    }
}

/// Whether keys last confirmed by a successful fetch at `fetched_at` are
/// past `max_staleness_secs` at `now`. Never before a first fetch (the
/// guard answers 503 then anyway, for want of keys).
pub(crate) fn too_stale(fetched_at: Option<i64>, now: i64, s: &JwksSettings) -> bool {
    fetched_at.is_some_and(|at| now.saturating_sub(at) > s.max_staleness_secs)
}

/// The cache lifetime a `Cache-Control` value grants, in seconds:
/// `max-age=N`, or 0 for `no-cache` and `no-store`; `None` when it says
/// neither (or the value is unreadable).
pub(crate) fn max_age(cache_control: &str) -> Option<i64> {
    let mut max_age = None;
    for directive in cache_control.split(',') {
        let directive = directive.trim();
        let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
        let name = name.trim();
        if name.eq_ignore_ascii_case("no-cache") || name.eq_ignore_ascii_case("no-store") {
            return Some(0);
        }
        if name.eq_ignore_ascii_case("max-age") {
            max_age = value
                .trim()
                .trim_matches('"')
                .parse::<u32>()
                .ok()
                .map(i64::from);
        }
    }
    max_age
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> JwksSettings {
        JwksSettings::default()
    }

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(max_age("public, max-age=300"), Some(300));
        assert_eq!(max_age("Max-Age=60"), Some(60));
        assert_eq!(max_age("max-age=\"10\""), Some(10));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=-1"), None);
        assert_eq!(max_age("max-age=lots"), None);
        assert_eq!(max_age("no-cache"), Some(0));
        assert_eq!(max_age("max-age=300, no-store"), Some(0));
    }

    #[test]
    fn a_refresh_is_due_a_quarter_before_the_keys_go_stale() {
        let mut s = Schedule::default();
        s.succeeded(1000, Some(300), &settings());
        assert_eq!(s.stale_at, Some(1300));
        assert_eq!(s.refresh_at, 1225);
        assert_eq!(s.fetched_at, Some(1000));
    }

    #[test]
    fn the_refresh_interval_stays_within_its_bounds() {
        let mut s = Schedule::default();
        s.succeeded(0, Some(0), &settings());
        assert_eq!(s.refresh_at, 30, "max-age=0 still waits min_refresh_secs");
        s.succeeded(0, Some(86_400), &settings());
        assert_eq!(s.refresh_at, 3600, "a day of max-age is capped at an hour");
        s.succeeded(0, None, &settings());
        assert_eq!(s.refresh_at, 225, "no max-age: the default 300 s");
    }

    #[test]
    fn failures_back_off_exponentially_up_to_the_maximum() {
        let mut s = Schedule::default();
        let delays: Vec<i64> = (0..8)
            .map(|_| {
                s.failed(100, &settings());
                s.refresh_at - 100
            })
            .collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30, 30]);
        s.succeeded(200, Some(300), &settings());
        assert_eq!(s.failures, 0);
        s.failed(300, &settings());
        assert_eq!(s.refresh_at, 301, "a success resets the backoff");
    }

    #[test]
    fn many_failures_never_overflow() {
        let mut s = Schedule {
            failures: u32::MAX - 1,
            ..Schedule::default()
        };
        s.failed(i64::MAX - 5, &settings());
        s.failed(i64::MAX - 5, &settings());
        assert_eq!(s.refresh_at, i64::MAX);
    }

    #[test]
    fn one_unknown_kid_refetch_is_allowed_per_interval() {
        let mut s = Schedule::default();
        assert!(s.allow_unknown_kid(1000, &settings()));
        assert!(!s.allow_unknown_kid(1000, &settings()));
        assert!(!s.allow_unknown_kid(1029, &settings()));
        assert!(s.allow_unknown_kid(1030, &settings()));
        assert!(!s.allow_unknown_kid(1031, &settings()));
    }

    #[test]
    fn keys_go_too_stale_once_the_last_success_is_past_the_maximum() {
        let s = settings();
        assert!(
            !too_stale(None, i64::MAX, &s),
            "never fetched: not this check's call"
        );
        assert!(!too_stale(Some(1000), 1000 + 86_400, &s));
        assert!(too_stale(Some(1000), 1000 + 86_401, &s));
        let short = JwksSettings {
            max_staleness_secs: 10,
            ..settings()
        };
        assert!(
            short.check().is_err(),
            "shorter than a normal refresh interval"
        );
    }

    #[test]
    fn settings_that_would_spin_are_refused() {
        assert_eq!(settings().check(), Ok(()));
        let spin = JwksSettings {
            unknown_kid_interval_secs: 0,
            ..settings()
        };
        assert!(spin.check().is_err());
        let inverted = JwksSettings {
            min_refresh_secs: 100,
            max_refresh_secs: 10,
            ..settings()
        };
        assert!(inverted.check().is_err());
        let no_retry_pause = JwksSettings {
            retry_initial_secs: 0,
            ..settings()
        };
        assert!(no_retry_pause.check().is_err());
    }
}
