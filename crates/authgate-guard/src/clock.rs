//! [`Clock`]: where a [`Guard`](crate::Guard) reads the time, in Unix seconds.
//!
//! The guard needs "now" for token expiry, for the JWKS refresh schedule and
//! for the unknown-`kid` refetch limit. It reads it from a `Clock` it is
//! given, never from the system directly, so that tests move a
//! [`ManualClock`] instead of sleeping. authgate-core has its own `Clock`;
//! this crate may not depend on core (DESIGN.md), and needs only seconds.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time, in whole seconds since the Unix epoch.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time, Unix seconds.
    fn now(&self) -> i64;
}

/// The system's wall clock: what a service runs with.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            // A clock set before 1970 is broken; saying 0 keeps every token
            // "not yet valid" rather than accepting expired ones.
            Err(_) => 0,
        }
    }
}

/// A clock that moves only when told to: for tests, and for replaying a
/// schedule step by step.
#[derive(Debug, Default)]
pub struct ManualClock {
    /// The time it shows, Unix seconds.
    now: AtomicI64,
}

impl ManualClock {
    /// A clock showing `now` (Unix seconds).
    pub fn new(now: i64) -> Self {
        Self {
            now: AtomicI64::new(now),
        }
    }

    /// Moves the clock forward by `seconds` (backward if negative).
    pub fn advance(&self, seconds: i64) {
        self.now.fetch_add(seconds, Ordering::SeqCst);
    }

    /// Sets the clock to `now` (Unix seconds).
    pub fn set(&self, now: i64) {
        self.now.store(now, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_tells_the_systems_time_in_unix_seconds() {
        let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let now = SystemClock.now();
        let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        // Whole seconds, truncated (as `exp` and `nbf` are compared), and
        // after 2024-01-01 (1_704_067_200): not a clock stuck at the epoch.
        assert!(now > 1_704_067_200, "{now}");
        assert!(
            (before.as_secs() as i64..=after.as_secs() as i64).contains(&now),
            "{before:?} <= {now} <= {after:?}"
        );
    }
}
