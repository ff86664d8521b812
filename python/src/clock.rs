//! [`PyClock`]: a guard's clock read from a Python callable returning Unix
//! seconds, so tests move time instead of sleeping.

use authgate_proto::clock::Clock;
use pyo3::prelude::*;
use time::OffsetDateTime;

/// Reads the time by calling a Python `() -> float` (like `time.time`).
///
/// If the callable raises or returns something that is not a number, the
/// system clock is used for that reading: the clock is read on paths that
/// cannot fail (the JWKS schedule), and a test clock that breaks should
/// not turn into refused or accepted tokens by itself.
#[derive(Debug)]
pub(crate) struct PyClock {
    /// The callable.
    now: Py<PyAny>,
}

impl PyClock {
    /// A clock calling `now`.
    pub(crate) fn new(now: Py<PyAny>) -> Self {
        Self { now }
    }

    /// What the callable says, in whole Unix seconds.
    fn read(&self) -> Option<i64> {
        Python::attach(|py| {
            let seconds: f64 = self.now.call0(py).ok()?.extract(py).ok()?;
            // Truncation to whole seconds is what JWT times are.
            #[allow(clippy::cast_possible_truncation)]
            seconds.is_finite().then_some(seconds.floor() as i64)
        })
    }
}

impl Clock for PyClock {
    fn now(&self) -> OffsetDateTime {
        self.read()
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .unwrap_or_else(OffsetDateTime::now_utc)
    }

    fn unix(&self) -> i64 {
        self.read()
            .unwrap_or_else(|| OffsetDateTime::now_utc().unix_timestamp())
    }
}
