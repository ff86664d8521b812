//! The clock as the core uses it: the one [`Clock`] of authgate-proto
//! (re-exported, so a service and its tests share one "now") and the
//! millisecond precision the stores keep.

use time::OffsetDateTime;

pub use authgate_proto::clock::{Clock, ManualClock, SystemClock};

/// Stored times are kept to the millisecond; returning the same precision
/// we store keeps responses and later reads identical.
pub(crate) fn truncate_to_millis(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_whole_milliseconds() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_800_000_000_123_456_789).unwrap();
        assert_eq!(truncate_to_millis(t).nanosecond(), 123_000_000);
    }
}
