//! What every SQL backend shares: running writes to completion on their own
//! task, key states as text, literal LIKE prefixes, the purge statements and
//! the "corrupt column" error. Column encodings differ per backend and live in each `codec`.

use authgate_core::{StoreError, StoreResult};
use authgate_proto::KeyState;

/// Deletes up to `$2` sessions that expired (`$1` the bound) or were revoked
/// before `$1`; their refresh tokens go by `ON DELETE CASCADE`. Two
/// conditions, each served by its own index (live sessions by expiry,
/// revoked ones by revocation time). The same SQL on both backends.
pub(crate) const PURGE_SESSIONS: &str = "DELETE FROM sessions WHERE id IN (\
     SELECT id FROM sessions WHERE revoked_at IS NULL AND expires_at < $1 \
     UNION ALL \
     SELECT id FROM sessions WHERE revoked_at < $1 \
     LIMIT $2)";

/// Deletes up to `$2` access-token revocations whose tokens expired before
/// `$1`. The table is small (one row per revoked access token, for at most
/// its lifetime plus a day), so it has no index on `expires_at`.
pub(crate) const PURGE_REVOKED_TOKENS: &str = "DELETE FROM revoked_tokens WHERE jti IN (\
     SELECT jti FROM revoked_tokens WHERE expires_at < $1 LIMIT $2)";

/// The escape character of `list_users`' LIKE patterns (written as
/// `ESCAPE '\'` in each backend's SQL).
const LIKE_ESCAPE: char = '\\';

/// Runs a transactional write to completion on its own task, whatever
/// happens to the caller's future.
///
/// A client that disconnects drops its request future. Cancelling sqlx in
/// the middle of `BEGIN` once left a pooled SQLite connection inside a
/// transaction, failing every later write until restart (found under load;
/// sqlx issue 3932). PostgreSQL's driver rolls an abandoned `BEGIN` back,
/// but we run its writes detached too: a write that has started always
/// finishes (commits or rolls back) on both backends, so a racing refresh
/// or key rotation never depends on whether its HTTP client stayed.
pub(crate) async fn detached<T: Send + 'static>(
    job: impl std::future::Future<Output = StoreResult<T>> + Send + 'static,
) -> StoreResult<T> {
    tokio::spawn(job)
        .await
        .map_err(|e| StoreError::Other(format!("store task failed: {e}")))?
}

/// `state` as stored: its wire name (`"next"`, `"active"`, …), so the column
/// reads like the API and a new state needs no change here.
pub(crate) fn state_text(state: KeyState) -> StoreResult<String> {
    match serde_json::to_value(state) {
        Ok(serde_json::Value::String(text)) => Ok(text),
        _ => Err(StoreError::Other("key state has no name".into())),
    }
}

/// The state stored as `text`.
pub(crate) fn state_of(text: &str) -> StoreResult<KeyState> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| corrupt("signing_keys.state", "is not a known key state"))
}

/// A LIKE pattern matching strings that start with `prefix` literally:
/// `%`, `_` and the escape character itself are escaped.
pub(crate) fn like_prefix(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_') || c == LIKE_ESCAPE {
            pattern.push(LIKE_ESCAPE);
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A [`StoreError::Corrupt`] for `column`: names it, never echoes its value.
pub(crate) fn corrupt(column: &str, why: &str) -> StoreError {
    StoreError::Corrupt(format!("{column} {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_prefix_escapes_wildcards_and_the_escape_character() {
        assert_eq!(like_prefix("ann"), "ann%");
        assert_eq!(like_prefix("a_b%c"), r"a\_b\%c%");
        assert_eq!(like_prefix(r"a\b"), r"a\\b%");
        assert_eq!(like_prefix(""), "%");
    }

    #[test]
    fn key_states_are_stored_by_their_wire_names() {
        for (state, name) in [
            (KeyState::Next, "next"),
            (KeyState::Active, "active"),
            (KeyState::Retired, "retired"),
            (KeyState::Expired, "expired"),
        ] {
            assert_eq!(state_text(state).unwrap(), name);
            assert_eq!(state_of(name).unwrap(), state);
        }
        assert!(matches!(state_of("Active"), Err(StoreError::Corrupt(_))));
    }
}
