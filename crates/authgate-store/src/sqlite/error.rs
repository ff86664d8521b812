//! sqlx errors as [`StoreError`]s.
//!
//! Messages carry SQLite's own text (which names tables and columns, never
//! bound values) or our own wording, so no password hash or token hash can
//! reach a log through them.

use authgate_core::StoreError;
use sqlx::error::{DatabaseError, ErrorKind};

/// SQLite primary result codes that mean "the database cannot serve right
/// now" rather than "this request is wrong".
const UNAVAILABLE_CODES: &[i32] = &[
    5,  // SQLITE_BUSY: locked beyond the busy timeout
    6,  // SQLITE_LOCKED
    7,  // SQLITE_NOMEM
    10, // SQLITE_IOERR
    13, // SQLITE_FULL
    14, // SQLITE_CANTOPEN
    15, // SQLITE_PROTOCOL
];

/// SQLite primary result codes that mean the file itself is damaged.
const CORRUPT_CODES: &[i32] = &[
    11, // SQLITE_CORRUPT
    26, // SQLITE_NOTADB
];

/// Maps any sqlx error to the [`StoreError`] the domain understands.
pub(crate) fn map_err(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::Database(db) => map_database(db.as_ref()),
        sqlx::Error::PoolTimedOut => {
            StoreError::Unavailable("timed out waiting for a sqlite connection".into())
        }
        sqlx::Error::PoolClosed => StoreError::Unavailable("the sqlite pool is closed".into()),
        sqlx::Error::WorkerCrashed => {
            StoreError::Unavailable("a sqlite connection worker crashed".into())
        }
        sqlx::Error::Io(e) => StoreError::Unavailable(format!("sqlite i/o: {e}")),
        sqlx::Error::ColumnDecode { index, source } => {
            StoreError::Corrupt(format!("sqlite column {index} does not decode: {source}"))
        }
        sqlx::Error::Decode(source) => {
            StoreError::Corrupt(format!("sqlite value does not decode: {source}"))
        }
        sqlx::Error::ColumnNotFound(column) => {
            StoreError::Corrupt(format!("sqlite column {column} is missing"))
        }
        other => StoreError::Other(format!("sqlite: {other}")),
    }
}

/// Maps an error reported by SQLite itself.
fn map_database(db: &dyn DatabaseError) -> StoreError {
    if db.kind() == ErrorKind::UniqueViolation
        && let Some(what) = conflict_target(db.message())
    {
        return StoreError::Conflict(what);
    }
    // The extended result code; its low byte is the primary code.
    let primary = db
        .code()
        .and_then(|code| code.parse::<i32>().ok())
        .map(|code| code & 0xff);
    let text = format!("sqlite: {}", db.message());
    match primary {
        Some(code) if UNAVAILABLE_CODES.contains(&code) => StoreError::Unavailable(text),
        Some(code) if CORRUPT_CODES.contains(&code) => StoreError::Corrupt(text),
        _ => StoreError::Other(text),
    }
}

/// What a "UNIQUE constraint failed: table.column" message is about, in the
/// names [`StoreError::Conflict`] promises; `None` for anything else.
fn conflict_target(message: &str) -> Option<&'static str> {
    let columns = message.split_once("constraint failed: ")?.1.trim();
    Some(match columns {
        "users.email" => "email",
        "users.username" => "username",
        "signing_keys.kid" => "kid",
        "users.id" => "user id",
        "sessions.id" => "session id",
        "refresh_tokens.hash" => "refresh token",
        "clients.id" => "client_id",
        "oidc_clients.id" => "client_id",
        "audit_events.id" => "audit event id",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::conflict_target;

    #[test]
    fn unique_messages_name_the_conflicting_field() {
        assert_eq!(
            conflict_target("UNIQUE constraint failed: users.email"),
            Some("email")
        );
        assert_eq!(
            conflict_target("UNIQUE constraint failed: users.username"),
            Some("username")
        );
        assert_eq!(
            conflict_target("UNIQUE constraint failed: signing_keys.kid"),
            Some("kid")
        );
        assert_eq!(
            conflict_target("UNIQUE constraint failed: other.thing"),
            None
        );
        assert_eq!(conflict_target("FOREIGN KEY constraint failed"), None);
    }
}
