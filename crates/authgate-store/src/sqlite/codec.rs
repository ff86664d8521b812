//! Domain values as SQLite columns and back (the conventions of
//! `migrations/sqlite/0001_init.sql`).
//!
//! - Times: INTEGER microseconds since the Unix epoch (UTC). Sub-microsecond
//!   parts are dropped (rounding toward the past), which PostgreSQL's
//!   `timestamptz` does too, so both backends give back the same instant.
//! - UUIDs: lower-case hyphenated TEXT.
//! - Token hashes: 32-byte BLOBs.
//!
//! Decoding never trusts a row: anything malformed is [`StoreError::Corrupt`]
//! naming the column, never echoing its value.

use authgate_core::{StoreError, StoreResult, TokenHash};

pub(crate) use crate::common::corrupt;
use time::OffsetDateTime;
use uuid::Uuid;

/// Nanoseconds per microsecond.
const NANOS_PER_MICRO: i128 = 1_000;

/// `t` as microseconds since the epoch.
///
/// # Errors
/// [`StoreError::Other`] if `t` lies beyond ±292,000 years (only reachable
/// with `time`'s `large-dates`).
pub(crate) fn micros(t: OffsetDateTime) -> StoreResult<i64> {
    i64::try_from(t.unix_timestamp_nanos().div_euclid(NANOS_PER_MICRO))
        .map_err(|_| StoreError::Other("timestamp out of range for storage".into()))
}

/// An optional time as optional microseconds.
pub(crate) fn micros_opt(t: Option<OffsetDateTime>) -> StoreResult<Option<i64>> {
    t.map(micros).transpose()
}

/// The time stored in `column` as `us` microseconds.
pub(crate) fn time_of(us: i64, column: &str) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * NANOS_PER_MICRO)
        .map_err(|_| corrupt(column, "is not a representable time"))
}

/// An optional stored time.
pub(crate) fn time_opt(us: Option<i64>, column: &str) -> StoreResult<Option<OffsetDateTime>> {
    us.map(|us| time_of(us, column)).transpose()
}

/// The UUID stored in `column`.
pub(crate) fn uuid_of(text: &str, column: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(text).map_err(|_| corrupt(column, "is not a UUID"))
}

/// `id` as stored: lower-case hyphenated, so text order is UUID order.
pub(crate) fn uuid_text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

/// The token hash stored in `column`.
pub(crate) fn hash_of(bytes: &[u8], column: &str) -> StoreResult<TokenHash> {
    <[u8; 32]>::try_from(bytes)
        .map(TokenHash)
        .map_err(|_| corrupt(column, "is not 32 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_round_trip_at_microsecond_precision() {
        let t = datetime!(2026-05-17 12:34:56.123456 UTC);
        assert_eq!(time_of(micros(t).unwrap(), "t").unwrap(), t);
        let before_epoch = datetime!(1969-12-31 23:59:59.999999 UTC);
        assert_eq!(
            time_of(micros(before_epoch).unwrap(), "t").unwrap(),
            before_epoch
        );
    }

    #[test]
    fn nanoseconds_round_toward_the_past() {
        let t = datetime!(2026-05-17 12:34:56.123456789 UTC);
        assert_eq!(
            time_of(micros(t).unwrap(), "t").unwrap(),
            datetime!(2026-05-17 12:34:56.123456 UTC)
        );
        let t = datetime!(1969-12-31 23:59:59.999999999 UTC);
        assert_eq!(
            time_of(micros(t).unwrap(), "t").unwrap(),
            datetime!(1969-12-31 23:59:59.999999 UTC)
        );
    }

    #[test]
    fn uuid_text_sorts_like_the_uuid() {
        let a = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_00ff);
        let b = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0a00);
        assert!(a < b);
        assert!(uuid_text(a) < uuid_text(b));
    }

    #[test]
    fn malformed_values_are_corrupt_without_echoing_them() {
        let err = hash_of(b"secret-ish", "refresh_tokens.hash").unwrap_err();
        assert!(matches!(&err, StoreError::Corrupt(m) if !m.contains("secret")));
        assert!(matches!(
            uuid_of("nope", "users.id"),
            Err(StoreError::Corrupt(_))
        ));
    }
}
