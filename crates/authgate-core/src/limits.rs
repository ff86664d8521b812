//! Brute-force protection for logins: a per-address limit on attempts and a
//! per-account progressive delay after consecutive failures.
//!
//! [`LoginLimiter`] is the seam: [`LocalLimiter`] keeps the counters in this
//! process (one instance); a shared implementation (Redis) makes several
//! instances count together.
//!
//! The per-account delay follows OWASP's advice against both guessing and
//! lock-out abuse: no permanent lock, a delay that doubles from 1 s after
//! `failures_before_delay` consecutive failures and is capped at 15 minutes,
//! reset by a successful login. Attempts refused while delayed do not count,
//! so a third party cannot grow a victim's delay beyond the cap.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use governor::clock::Clock as GovernorClock;
use governor::nanos::Nanos;
use governor::{Quota, RateLimiter};

use crate::clock::Clock;

/// The longest per-account delay.
pub const MAX_ACCOUNT_DELAY_SECS: u64 = 15 * 60;

/// Accounts tracked at most; beyond it, only accounts with recent failures
/// are kept, so a flood of made-up usernames cannot exhaust memory.
const MAX_TRACKED_ACCOUNTS: usize = 100_000;

/// What the limits are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    /// Login attempts per client address per minute, whatever their
    /// outcome; 0 turns the limit off. Defaults to 30.
    pub login_per_ip_per_minute: u32,
    /// Consecutive failures before an account's logins are delayed; 0 turns
    /// the delay off. Defaults to 5.
    pub failures_before_delay: u32,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            login_per_ip_per_minute: 30,
            failures_before_delay: 5,
        }
    }
}

/// A refusal: try again in this many whole seconds (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

/// Counts login attempts and failures.
#[async_trait]
pub trait LoginLimiter: Send + Sync + fmt::Debug {
    /// Counts one login attempt from `ip`; refuses it when the address is
    /// over its limit.
    async fn attempt_from(&self, ip: IpAddr) -> Result<(), RetryAfter>;

    /// Refuses while `account` is delayed after failures.
    async fn check_account(&self, account: &str) -> Result<(), RetryAfter>;

    /// Records a failed login for `account`.
    async fn record_failure(&self, account: &str);

    /// Records a successful login for `account`: its failures are forgotten.
    async fn record_success(&self, account: &str);

    /// Forgets what no longer matters (called periodically).
    async fn prune(&self) {}
}

/// Our [`Clock`] as governor's, so tests move rate-limit time too.
#[derive(Clone)]
struct ClockAdapter(Arc<dyn Clock>);

impl GovernorClock for ClockAdapter {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let nanos = self.0.now().unix_timestamp_nanos();
        Nanos::new(u64::try_from(nanos).unwrap_or(0))
    }
}

/// A keyed GCRA limiter on our clock.
type IpLimiter = RateLimiter<
    IpAddr,
    governor::state::keyed::DashMapStateStore<IpAddr>,
    ClockAdapter,
    governor::middleware::NoOpMiddleware<Nanos>,
>;

/// One account's failures.
#[derive(Debug, Clone, Copy)]
struct AccountState {
    /// Consecutive failures since the last success.
    failures: u32,
    /// Unix milliseconds before which logins are refused.
    locked_until_ms: i64,
    /// Unix milliseconds of the last failure, for pruning.
    last_failure_ms: i64,
}

/// The in-process [`LoginLimiter`]: governor's GCRA per address, a map of
/// failure counts per account.
pub struct LocalLimiter {
    /// `None` when the per-address limit is off.
    per_ip: Option<IpLimiter>,
    /// Account key → failures.
    accounts: Mutex<HashMap<String, AccountState>>,
    /// The limits.
    settings: LimitSettings,
    /// The time.
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for LocalLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalLimiter")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl LocalLimiter {
    /// A limiter with `settings` on `clock`.
    pub fn new(settings: LimitSettings, clock: Arc<dyn Clock>) -> Self {
        let per_ip = NonZeroU32::new(settings.login_per_ip_per_minute).map(|n| {
            RateLimiter::dashmap_with_clock(Quota::per_minute(n), ClockAdapter(clock.clone()))
        });
        Self {
            per_ip,
            accounts: Mutex::new(HashMap::new()),
            settings,
            clock,
        }
    }

    fn now_ms(&self) -> i64 {
        (self.clock.now().unix_timestamp_nanos() / 1_000_000) as i64
    }

    /// The delay after `failures` consecutive failures, in milliseconds.
    fn delay_ms(&self, failures: u32) -> i64 {
        let threshold = self.settings.failures_before_delay;
        if threshold == 0 || failures < threshold {
            return 0;
        }
        let doublings = (failures - threshold).min(20);
        let secs = (1u64 << doublings).min(MAX_ACCOUNT_DELAY_SECS);
        (secs * 1000) as i64
    }
}

/// Whole seconds until `until_ms`, at least 1.
fn retry_after(until_ms: i64, now_ms: i64) -> RetryAfter {
    let ms = (until_ms - now_ms).max(1) as u64;
    RetryAfter(ms.div_ceil(1000).max(1))
}

#[async_trait]
impl LoginLimiter for LocalLimiter {
    async fn attempt_from(&self, ip: IpAddr) -> Result<(), RetryAfter> {
        let Some(limiter) = &self.per_ip else {
            return Ok(());
        };
        limiter.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(ClockAdapter(self.clock.clone()).now());
            RetryAfter(wait.as_millis().div_ceil(1000).max(1) as u64)
        })
    }

    async fn check_account(&self, account: &str) -> Result<(), RetryAfter> {
        let now = self.now_ms();
        let accounts = self.accounts.lock().unwrap_or_else(PoisonError::into_inner);
        match accounts.get(account) {
            Some(state) if state.locked_until_ms > now => {
                Err(retry_after(state.locked_until_ms, now))
            }
            _ => Ok(()),
        }
    }

    async fn record_failure(&self, account: &str) {
        if self.settings.failures_before_delay == 0 {
            return;
        }
        let now = self.now_ms();
        let mut accounts = self.accounts.lock().unwrap_or_else(PoisonError::into_inner);
        if accounts.len() >= MAX_TRACKED_ACCOUNTS && !accounts.contains_key(account) {
            let horizon = now - (MAX_ACCOUNT_DELAY_SECS * 1000) as i64;
            accounts.retain(|_, s| s.last_failure_ms > horizon || s.locked_until_ms > now);
            if accounts.len() >= MAX_TRACKED_ACCOUNTS {
                tracing::warn!("too many accounts with failed logins to track; not counting more");
                return;
            }
        }
        let state = accounts.entry(account.to_owned()).or_insert(AccountState {
            failures: 0,
            locked_until_ms: 0,
            last_failure_ms: now,
        });
        state.failures = state.failures.saturating_add(1);
        state.last_failure_ms = now;
        let delay = self.delay_ms(state.failures);
        if delay > 0 {
            state.locked_until_ms = now + delay;
        }
    }

    async fn record_success(&self, account: &str) {
        self.accounts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(account);
    }

    async fn prune(&self) {
        if let Some(limiter) = &self.per_ip {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        let now = self.now_ms();
        // A day without failures forgets the count (the delay has long passed).
        let horizon = now - 24 * 3600 * 1000;
        self.accounts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, s| s.last_failure_ms > horizon || s.locked_until_ms > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use time::macros::datetime;

    fn limiter(per_ip: u32, threshold: u32) -> (Arc<ManualClock>, LocalLimiter) {
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 12:00 UTC)));
        let limiter = LocalLimiter::new(
            LimitSettings {
                login_per_ip_per_minute: per_ip,
                failures_before_delay: threshold,
            },
            clock.clone(),
        );
        (clock, limiter)
    }

    fn secs(n: i64) -> time::Duration {
        time::Duration::seconds(n)
    }

    #[tokio::test]
    async fn the_delay_starts_after_the_threshold_and_doubles() {
        let (clock, l) = limiter(0, 5);
        for _ in 0..4 {
            l.record_failure("alice").await;
            assert_eq!(l.check_account("alice").await, Ok(()));
        }
        l.record_failure("alice").await;
        assert_eq!(l.check_account("alice").await, Err(RetryAfter(1)));
        clock.advance(secs(1));
        assert_eq!(l.check_account("alice").await, Ok(()));
        l.record_failure("alice").await;
        assert_eq!(l.check_account("alice").await, Err(RetryAfter(2)));
        clock.advance(secs(2));
        l.record_failure("alice").await;
        assert_eq!(l.check_account("alice").await, Err(RetryAfter(4)));
        clock.advance(secs(3));
        assert_eq!(l.check_account("alice").await, Err(RetryAfter(1)));
        assert_eq!(
            l.check_account("bob").await,
            Ok(()),
            "accounts are separate"
        );
    }

    #[tokio::test]
    async fn the_delay_is_capped_at_fifteen_minutes() {
        let (clock, l) = limiter(0, 5);
        for _ in 0..40 {
            l.record_failure("alice").await;
            clock.advance(secs(MAX_ACCOUNT_DELAY_SECS as i64));
        }
        l.record_failure("alice").await;
        assert_eq!(
            l.check_account("alice").await,
            Err(RetryAfter(MAX_ACCOUNT_DELAY_SECS))
        );
    }

    #[tokio::test]
    async fn a_success_resets_the_count() {
        let (_clock, l) = limiter(0, 2);
        l.record_failure("alice").await;
        l.record_success("alice").await;
        l.record_failure("alice").await;
        assert_eq!(
            l.check_account("alice").await,
            Ok(()),
            "one failure since the success"
        );
        l.record_failure("alice").await;
        assert_eq!(l.check_account("alice").await, Err(RetryAfter(1)));
    }

    #[tokio::test]
    async fn zero_turns_each_limit_off() {
        let (_clock, l) = limiter(0, 0);
        let ip: IpAddr = "203.0.113.1".parse().unwrap();
        for _ in 0..100 {
            l.record_failure("alice").await;
            assert_eq!(l.attempt_from(ip).await, Ok(()));
        }
        assert_eq!(l.check_account("alice").await, Ok(()));
    }

    #[tokio::test]
    async fn each_address_gets_its_quota_per_minute() {
        let (clock, l) = limiter(30, 5);
        let ip: IpAddr = "203.0.113.1".parse().unwrap();
        let other: IpAddr = "203.0.113.2".parse().unwrap();
        for i in 0..30 {
            assert_eq!(l.attempt_from(ip).await, Ok(()), "attempt {i}");
        }
        let Err(RetryAfter(wait)) = l.attempt_from(ip).await else {
            panic!("the 31st attempt within a minute is refused");
        };
        assert_eq!(wait, 2, "one attempt comes back every 2 s");
        assert_eq!(l.attempt_from(other).await, Ok(()));
        clock.advance(secs(2));
        assert_eq!(l.attempt_from(ip).await, Ok(()));
        assert!(l.attempt_from(ip).await.is_err());
        clock.advance(secs(60));
        for _ in 0..30 {
            assert_eq!(l.attempt_from(ip).await, Ok(()));
        }
    }
}
