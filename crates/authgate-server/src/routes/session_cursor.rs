//! The opaque `cursor` of `GET /auth/sessions`: where the previous page
//! ended (its last session's creation time and id), as 32 base64url
//! characters. Clients pass it back unchanged; anything else is 400.

use authgate_core::SessionCursor;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::ApiError;

/// Bytes of a decoded cursor: microseconds since the epoch (8) and the id (16).
const CURSOR_BYTES: usize = 24;

/// `cursor` as the API hands it out.
pub(crate) fn encode(cursor: &SessionCursor) -> String {
    let micros =
        i64::try_from(cursor.created_at.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX);
    let mut bytes = [0u8; CURSOR_BYTES];
    bytes[..8].copy_from_slice(&micros.to_be_bytes());
    bytes[8..].copy_from_slice(cursor.id.as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The cursor `text` encodes.
///
/// # Errors
/// 400 `invalid_request` naming `cursor` for anything [`encode`] did not make.
pub(crate) fn decode(text: &str) -> Result<SessionCursor, ApiError> {
    let invalid = || ApiError::invalid_request("cursor: not a cursor from this API.");
    if text.len() != 32 {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let bytes: [u8; CURSOR_BYTES] = bytes.try_into().map_err(|_| invalid())?;
    let mut micros = [0u8; 8];
    micros.copy_from_slice(&bytes[..8]);
    let micros = i64::from_be_bytes(micros);
    let created_at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .map_err(|_| invalid())?;
    let id = Uuid::from_slice(&bytes[8..]).map_err(|_| invalid())?;
    Ok(SessionCursor { created_at, id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_and_anything_else_is_refused() {
        let cursor = SessionCursor {
            created_at: OffsetDateTime::from_unix_timestamp_nanos(1_765_000_000_123_456_000)
                .unwrap(),
            id: Uuid::now_v7(),
        };
        let text = encode(&cursor);
        assert_eq!(text.len(), 32);
        assert_eq!(decode(&text).unwrap(), cursor);
        let too_long = "A".repeat(33);
        let padded = format!("{}=", &text[..31]);
        let not_base64 = "!".repeat(32);
        for bad in [
            "",
            "abc",
            too_long.as_str(),
            padded.as_str(),
            not_base64.as_str(),
        ] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
        // Microseconds far outside what a date can hold.
        let mut bytes = [0u8; CURSOR_BYTES];
        bytes[..8].copy_from_slice(&i64::MAX.to_be_bytes());
        assert!(decode(&URL_SAFE_NO_PAD.encode(bytes)).is_err());
    }
}
