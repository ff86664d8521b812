//! sqlx errors as [`StoreError`]s.
//!
//! Messages carry PostgreSQL's own text (which names tables, columns and
//! constraints, never bound values: `detail`, which can quote a duplicate
//! key, is never read) or our own wording, so no password hash or token
//! hash can reach a log through them.

use authgate_core::StoreError;
use sqlx::error::{DatabaseError, ErrorKind};

/// SQLSTATE classes (first two characters) that mean "the database cannot
/// serve right now" rather than "this request is wrong".
const UNAVAILABLE_CLASSES: &[&str] = &[
    "08", // connection exception
    "53", // insufficient resources (too many connections, disk full, …)
    "57", // operator intervention (shutdown, cannot connect now, query canceled)
    "58", // system error (I/O)
];

/// SQLSTATE codes outside those classes that are transient too.
const UNAVAILABLE_CODES: &[&str] = &[
    "40001", // serialization_failure
    "40P01", // deadlock_detected
    "55P03", // lock_not_available
    "25006", // read_only_sql_transaction: a standby, during a fail-over
];

/// SQLSTATE codes for text PostgreSQL cannot hold: a NUL is
/// `character_not_in_repertoire` (22021, "invalid byte sequence for
/// encoding UTF8: 0x00"), 22P05 is `untranslatable_character`. The input
/// rules refuse such text first; this is the safety net: 400, never 500.
const UNSTORABLE_CODES: &[&str] = &["22021", "22P05"];

/// SQLSTATE codes that mean the stored data itself is damaged.
const CORRUPT_CODES: &[&str] = &[
    "XX001", // data_corrupted
    "XX002", // index_corrupted
];

/// Maps any sqlx error to the [`StoreError`] the domain understands.
pub(crate) fn map_err(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::Database(db) => map_database(db.as_ref()),
        sqlx::Error::PoolTimedOut => StoreError::Unavailable(
            "timed out waiting for a postgres connection (is the database up?)".into(),
        ),
        sqlx::Error::PoolClosed => StoreError::Unavailable("the postgres pool is closed".into()),
        sqlx::Error::WorkerCrashed => {
            StoreError::Unavailable("a postgres connection worker crashed".into())
        }
        sqlx::Error::Io(e) => StoreError::Unavailable(format!("postgres i/o: {e}")),
        sqlx::Error::Tls(e) => StoreError::Unavailable(format!("postgres tls: {e}")),
        // The server went away mid-message (a restart, a dropped link).
        sqlx::Error::Protocol(e) => StoreError::Unavailable(format!("postgres protocol: {e}")),
        sqlx::Error::ColumnDecode { index, source } => {
            StoreError::Corrupt(format!("postgres column {index} does not decode: {source}"))
        }
        sqlx::Error::Decode(source) => {
            StoreError::Corrupt(format!("postgres value does not decode: {source}"))
        }
        sqlx::Error::ColumnNotFound(column) => {
            StoreError::Corrupt(format!("postgres column {column} is missing"))
        }
        other => StoreError::Other(format!("postgres: {other}")),
    }
}

/// Maps an error reported by PostgreSQL itself.
fn map_database(db: &dyn DatabaseError) -> StoreError {
    if db.kind() == ErrorKind::UniqueViolation
        && let Some(what) = db.constraint().and_then(conflict_target)
    {
        return StoreError::Conflict(what);
    }
    let code = db.code().unwrap_or_default();
    let text = format!("postgres ({code}): {}", db.message());
    if UNAVAILABLE_CODES.contains(&code.as_ref())
        || UNAVAILABLE_CLASSES
            .iter()
            .any(|class| code.starts_with(class))
    {
        StoreError::Unavailable(text)
    } else if UNSTORABLE_CODES.contains(&code.as_ref()) {
        StoreError::Unstorable(text)
    } else if CORRUPT_CODES.contains(&code.as_ref()) {
        StoreError::Corrupt(text)
    } else {
        StoreError::Other(text)
    }
}

/// What a violated unique constraint (named in the migrations) is about, in
/// the names [`StoreError::Conflict`] promises; `None` for anything else.
fn conflict_target(constraint: &str) -> Option<&'static str> {
    Some(match constraint {
        "users_email_key" => "email",
        "users_username_key" => "username",
        "signing_keys_pkey" => "kid",
        "users_pkey" => "user id",
        "sessions_pkey" => "session id",
        "refresh_tokens_pkey" => "refresh token",
        "clients_pkey" => "client_id",
        "oidc_clients_pkey" => "client_id",
        "audit_events_pkey" => "audit event id",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_constraints_name_the_conflicting_field() {
        assert_eq!(conflict_target("users_email_key"), Some("email"));
        assert_eq!(conflict_target("users_username_key"), Some("username"));
        assert_eq!(conflict_target("signing_keys_pkey"), Some("kid"));
        assert_eq!(conflict_target("other_thing_key"), None);
    }

    #[test]
    fn a_timed_out_pool_or_a_broken_connection_is_unavailable() {
        assert!(matches!(
            map_err(sqlx::Error::PoolTimedOut),
            StoreError::Unavailable(_)
        ));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(matches!(
            map_err(sqlx::Error::Io(refused)),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            map_err(sqlx::Error::RowNotFound),
            StoreError::Other(_)
        ));
    }
}
