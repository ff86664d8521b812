//! What every SQL backend shares: running writes to completion on their own
//! task, the steps of every multi-statement write ([`keys`], [`sessions`]),
//! key states as text, literal LIKE prefixes, the purge statements and the
//! "corrupt column" error. Each backend keeps only its SQL: it implements
//! [`WriteTx`] (and the per-table traits) on its transaction type. Column
//! encodings differ per backend and live in each `codec`.

pub(crate) mod keys;
pub(crate) mod mfa;
pub(crate) mod oidc;
pub(crate) mod recovery;
pub(crate) mod sessions;
pub(crate) mod verification;

use async_trait::async_trait;
use authgate_core::{StoreError, StoreResult};
use authgate_proto::{AuditEvent, KeyState};

/// Deletes up to `$2` sessions that expired (`$1` the bound) or were revoked
/// before `$1`; their refresh tokens go by `ON DELETE CASCADE`. Two
/// conditions, each served by its own index (live sessions by expiry,
/// revoked ones by revocation time). The same SQL on both backends.
pub(crate) const PURGE_SESSIONS: &str = "DELETE FROM sessions WHERE id IN (\
     SELECT id FROM sessions WHERE revoked_at IS NULL AND expires_at < $1 \
     UNION ALL \
     SELECT id FROM sessions WHERE revoked_at < $1 \
     LIMIT $2)";

/// Inserts a session: `$1`..`$13` in the order of `sessions`' columns (id,
/// user, created, last used, expires, ip, user agent, audience, revoked,
/// then the relying party's client, scope, browser session and auth time).
pub(crate) const INSERT_SESSION: &str = "INSERT INTO sessions (id, user_id, created_at, \
     last_used_at, expires_at, ip, user_agent, audience, revoked_at, \
     oidc_client_id, oidc_scope, oidc_sid, oidc_auth_time) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

/// The compare-and-swap of a rotation: marks the parent `$4` used at `$1`
/// with successor `$2` (sealed as `$3`) if it is unused, unexpired and its
/// session live; returns that session's id, or no row.
pub(crate) const CLAIM_PARENT: &str = "UPDATE refresh_tokens \
     SET used_at = $1, successor = $2, successor_sealed = $3 \
     WHERE hash = $4 AND used_at IS NULL AND expires_at > $1 \
       AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = refresh_tokens.session_id \
                   AND s.revoked_at IS NULL AND s.expires_at > $1) \
     RETURNING session_id";

/// Marks session `$1` revoked at `$2` unless it already was. "Live" here
/// means not yet revoked: an expired session is still marked, so
/// `revoked_since` reports it to caches.
pub(crate) const REVOKE_SESSION: &str =
    "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";

/// Marks every live session of user `$1` revoked at `$2`; returns their ids.
pub(crate) const REVOKE_USER_SESSIONS: &str = "UPDATE sessions SET revoked_at = $2 \
     WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 RETURNING id";

/// Marks revoked at `$2` every live session of user `$1` but `$3` (a
/// password change keeps the caller's); returns their ids.
pub(crate) const REVOKE_OTHER_SESSIONS: &str = "UPDATE sessions SET revoked_at = $2 \
     WHERE user_id = $1 AND id <> $3 AND revoked_at IS NULL AND expires_at > $2 RETURNING id";

/// Sets user `$1`'s password hash to `$2` (updated at `$3`) only if it is
/// still `$4`, the one the password was checked against.
pub(crate) const SET_PASSWORD_HASH: &str = "UPDATE users SET password_hash = $2, updated_at = $3 \
     WHERE id = $1 AND password_hash = $4";

/// Records access token `$1` (expiring at `$2`) as revoked at `$3`; a second
/// revocation keeps the first one's time (idempotent).
pub(crate) const REVOKE_TOKEN: &str = "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) \
     VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING";

/// Deletes up to `$2` access-token revocations whose tokens expired before
/// `$1`. The table is small (one row per revoked access token, for at most
/// its lifetime plus a day), so it has no index on `expires_at`.
pub(crate) const PURGE_REVOKED_TOKENS: &str = "DELETE FROM revoked_tokens WHERE jti IN (\
     SELECT jti FROM revoked_tokens WHERE expires_at < $1 LIMIT $2)";

/// Writes a key's state and times over the row of its kid (`$1`): `$2`
/// the state, `$3`..`$5` activation, retirement and expiry. The same SQL on
/// both backends.
pub(crate) const UPDATE_KEY: &str = "UPDATE signing_keys SET state = $2, activates_at = $3, \
     retires_at = $4, expires_at = $5 WHERE kid = $1";

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

/// An open write transaction of one backend: what every audited write
/// ends with. Each backend implements it on its `sqlx::Transaction`.
#[async_trait]
pub(crate) trait WriteTx: Send + Sized {
    /// Appends `event` to the audit log inside this transaction, so the
    /// change and its record commit (or vanish) together.
    ///
    /// # Errors
    /// The backend's, mapped to [`StoreError`].
    async fn insert_audit(&mut self, event: &AuditEvent) -> StoreResult<()>;

    /// Commits the transaction.
    ///
    /// # Errors
    /// The backend's, mapped to [`StoreError`].
    async fn commit(self) -> StoreResult<()>;

    /// Rolls the transaction back.
    ///
    /// # Errors
    /// The backend's, mapped to [`StoreError`].
    async fn rollback(self) -> StoreResult<()>;
}

/// Records `audit` (when there is one) in `tx` and commits: the tail of
/// every audited write.
///
/// # Errors
/// As [`WriteTx::insert_audit`] and [`WriteTx::commit`].
pub(crate) async fn commit_audited<T: WriteTx>(
    mut tx: T,
    audit: Option<&AuditEvent>,
) -> StoreResult<()> {
    if let Some(event) = audit {
        tx.insert_audit(event).await?;
    }
    tx.commit().await
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
