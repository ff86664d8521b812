//! Domain values as PostgreSQL columns and back (the conventions of
//! `migrations/postgres/0001_init.sql`).
//!
//! - Times: `timestamptz`, which keeps microseconds. Times are floored to
//!   the microsecond before they are bound (sqlx would truncate toward
//!   2000-01-01 instead), so both backends give back the same instant.
//! - UUIDs: native `uuid`.
//! - Token hashes: 32-byte `bytea`.
//!
//! Decoding never trusts a row: anything malformed is [`StoreError::Corrupt`]
//! naming the column, never echoing its value.

use authgate_core::{StoreError, StoreResult, TokenHash};
use time::OffsetDateTime;

pub(crate) use crate::common::corrupt;

/// Nanoseconds per microsecond.
const NANOS_PER_MICRO: i128 = 1_000;

/// `t` floored to the microsecond, as `timestamptz` keeps it.
///
/// # Errors
/// [`StoreError::Other`] if flooring leaves the representable range (only
/// reachable at `time`'s minimum instant).
pub(crate) fn ts(t: OffsetDateTime) -> StoreResult<OffsetDateTime> {
    let nanos = t.unix_timestamp_nanos();
    OffsetDateTime::from_unix_timestamp_nanos(nanos - nanos.rem_euclid(NANOS_PER_MICRO))
        .map_err(|_| StoreError::Other("timestamp out of range for storage".into()))
}

/// An optional time floored to the microsecond.
pub(crate) fn ts_opt(t: Option<OffsetDateTime>) -> StoreResult<Option<OffsetDateTime>> {
    t.map(ts).transpose()
}

/// The token hash stored in `column`.
pub(crate) fn hash_of(bytes: &[u8], column: &str) -> StoreResult<TokenHash> {
    <[u8; 32]>::try_from(bytes)
        .map(TokenHash)
        .map_err(|_| corrupt(column, "is not 32 bytes"))
}

/// A count as the traits want it.
pub(crate) fn count(n: i64, what: &str) -> StoreResult<u64> {
    u64::try_from(n).map_err(|_| corrupt(what, "is negative"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_keep_whole_microseconds() {
        let t = datetime!(2026-05-17 12:34:56.123456 UTC);
        assert_eq!(ts(t).unwrap(), t);
    }

    #[test]
    fn nanoseconds_round_toward_the_past_on_both_sides_of_the_epoch() {
        assert_eq!(
            ts(datetime!(2026-05-17 12:34:56.123456789 UTC)).unwrap(),
            datetime!(2026-05-17 12:34:56.123456 UTC)
        );
        assert_eq!(
            ts(datetime!(1969-12-31 23:59:59.999999999 UTC)).unwrap(),
            datetime!(1969-12-31 23:59:59.999999 UTC)
        );
        assert_eq!(
            ts(datetime!(1999-12-31 23:59:59.999999999 UTC)).unwrap(),
            datetime!(1999-12-31 23:59:59.999999 UTC),
            "before PostgreSQL's own epoch too"
        );
    }

    #[test]
    fn malformed_values_are_corrupt_without_echoing_them() {
        let err = hash_of(b"secret-ish", "refresh_tokens.hash").unwrap_err();
        assert!(matches!(&err, StoreError::Corrupt(m) if !m.contains("secret")));
        assert!(matches!(count(-1, "n"), Err(StoreError::Corrupt(_))));
    }
}
