//! [`Clock`]: the one source of "now" for every authgate crate, so tests
//! move time instead of sleeping.
//!
//! It lives here, in the lowest crate that knows about time, because the
//! core (token lifetimes, lockouts), the guard (expiry, the JWKS schedule)
//! and the client (refresh ahead of expiry) all need the same "now", and a
//! test that moves one [`ManualClock`] must move all of them. JWT claims
//! count Unix seconds: [`Clock::unix`] gives that view of the same instant.

use std::fmt;
use std::sync::{Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

/// Tells the current time.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current instant, UTC.
    fn now(&self) -> OffsetDateTime;

    /// The current instant as Unix seconds, what JWT claims use.
    fn unix(&self) -> i64 {
        self.now().unix_timestamp()
    }
}

/// The system's wall clock: what a service runs with.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that moves only when told to: for tests, and for replaying a
/// schedule step by step.
#[derive(Debug)]
pub struct ManualClock {
    /// The instant `now()` returns until moved.
    now: Mutex<OffsetDateTime>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// A clock stopped at `start` Unix seconds (clamped to the years
    /// `OffsetDateTime` can show).
    pub fn at_unix(start: i64) -> Self {
        Self::new(from_unix(start))
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = now.saturating_add(by);
    }

    /// Sets the clock to `at`.
    pub fn set(&self, at: OffsetDateTime) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }

    /// Sets the clock to `at` Unix seconds (clamped like [`Self::at_unix`]).
    pub fn set_unix(&self, at: i64) {
        self.set(from_unix(at));
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `seconds` as an instant, clamped to the range `OffsetDateTime` can show.
fn from_unix(seconds: i64) -> OffsetDateTime {
    let earliest = time::PrimitiveDateTime::MIN.assume_utc();
    let latest = time::PrimitiveDateTime::MAX.assume_utc();
    let seconds = seconds.clamp(earliest.unix_timestamp(), latest.unix_timestamp());
    OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_time_is_whole_seconds_truncated_as_jwt_claims_are() {
        // Half a second before and after a second boundary: `unix()` is the
        // second that has begun, so a token expiring at `exp` is expired
        // from the first instant of that second, never half a second early.
        let start = OffsetDateTime::from_unix_timestamp_nanos(1_799_999_999_500_000_000).unwrap();
        let clock = ManualClock::new(start);
        assert_eq!(clock.unix(), 1_799_999_999);
        clock.advance(Duration::milliseconds(500));
        assert_eq!(clock.unix(), 1_800_000_000);
        clock.advance(Duration::milliseconds(999));
        assert_eq!(clock.unix(), 1_800_000_000);
    }

    #[test]
    fn the_system_clock_tells_the_systems_time_in_unix_seconds() {
        use std::time::{SystemTime, UNIX_EPOCH};
        let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let now = SystemClock.unix();
        let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        // Whole seconds, truncated (as `exp` and `nbf` are compared), and
        // after 2024-01-01 (1_704_067_200): not a clock stuck at the epoch.
        assert!(now > 1_704_067_200, "{now}");
        assert!(
            (before.as_secs() as i64..=after.as_secs() as i64).contains(&now),
            "{before:?} <= {now} <= {after:?}"
        );
    }

    #[test]
    fn a_manual_clock_clamps_seconds_it_cannot_show() {
        let clock = ManualClock::at_unix(i64::MAX);
        assert_eq!(clock.now().year(), 9999);
    }
}
