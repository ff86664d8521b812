//! The one source of "now" for everything time-dependent, so tests move time instead of sleeping.

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

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that moves only when told to: for tests and simulations.
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

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }

    /// Sets the clock to `at`.
    pub fn set(&self, at: OffsetDateTime) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
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
}
