//! The session writes every SQL backend runs: rotating a refresh token,
//! changing a password (which ends the other sessions), revoking sessions
//! and access tokens, purging what ended. (A new session is written by
//! each backend its own way: SQLite in its group commit, PostgreSQL in
//! `postgres::session_tx`.) Each flow takes a future that begins
//! the backend's write transaction (futures are lazy: nothing is locked
//! before the flow awaits it) and the backend supplies the SQL through
//! [`SessionTx`].

use async_trait::async_trait;
use authgate_core::{RefreshToken, StoreResult, TokenHash};
use authgate_proto::AuditEvent;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{WriteTx, commit_audited};

/// The `users`, `sessions`, `refresh_tokens` and `revoked_tokens`
/// statements of one backend, inside its transaction.
#[async_trait]
pub(crate) trait SessionTx: WriteTx {
    /// The writes of a rotation: the compare-and-swap that marks `parent`
    /// used at `now`, pointing at `successor` (`sealed` for the grace
    /// window), if it is unused, unexpired and its session (the
    /// successor's) live; then the successor's row, the session's
    /// `last_used_at` and `audit`. Returns `false`, having written nothing,
    /// when the claim fails (another rotation won, or the token or session
    /// ended); the caller then rolls back.
    ///
    /// # Errors
    /// The backend's, mapped to [`StoreError`]; [`StoreError::Other`] when
    /// the parent belongs to another session than `successor`.
    async fn rotate(
        &mut self,
        parent: &TokenHash,
        successor: &RefreshToken,
        sealed: &[u8],
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool>;

    /// Marks the session revoked at `now` unless it already was; returns
    /// whether it did. An expired session is still marked, so
    /// `revoked_since` reports it to caches.
    ///
    /// # Errors
    /// The backend's, mapped to [`StoreError`].
    async fn revoke_session(&mut self, id: Uuid, now: OffsetDateTime) -> StoreResult<bool>;

    /// Marks every live session of the user revoked at `now`; returns their
    /// ids.
    ///
    /// # Errors
    /// The backend's, or [`StoreError::Corrupt`] for an unreadable id.
    async fn revoke_user_sessions(
        &mut self,
        user_id: Uuid,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<Uuid>>;

    /// Marks every live session of the user but `keep` revoked at `now`;
    /// returns their ids.
    ///
    /// # Errors
    /// The backend's, or [`StoreError::Corrupt`] for an unreadable id.
    async fn revoke_other_sessions(
        &mut self,
        user_id: Uuid,
        keep: Uuid,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<Uuid>>;

    /// Sets the user's password hash to `hash` only if it is still
    /// `current`; returns whether it did ([`super::SET_PASSWORD_HASH`]).
    ///
    /// # Errors
    /// The backend's, mapped to [`StoreError`].
    async fn set_password_hash(
        &mut self,
        user_id: Uuid,
        current: &str,
        hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;

    /// Records the access token `jti` (valid until `expires_at`) as revoked
    /// at `now`; a second revocation keeps the first one's time.
    ///
    /// # Errors
    /// The backend's, mapped to [`StoreError`].
    async fn revoke_token(
        &mut self,
        jti: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<()>;

    /// Runs [`super::PURGE_SESSIONS`] and [`super::PURGE_REVOKED_TOKENS`]
    /// with `before` and `limit`; returns the rows deleted by both.
    ///
    /// # Errors
    /// The backend's, mapped to [`StoreError`].
    async fn purge_ended(&mut self, before: OffsetDateTime, limit: u32) -> StoreResult<u64>;
}

/// `SessionStore::rotate_audited`: claims `parent` for `successor` and
/// stores the successor and `audit`, or nothing (false) when the parent was
/// already used, or its token or session ended.
///
/// # Errors
/// The backend's; [`StoreError::Other`] when `successor` belongs to
/// another session than the parent (nothing is changed then).
pub(crate) async fn rotate<T: SessionTx>(
    begin: impl Future<Output = StoreResult<T>> + Send,
    parent: &TokenHash,
    successor: &RefreshToken,
    sealed: &[u8],
    now: OffsetDateTime,
    audit: Option<&AuditEvent>,
) -> StoreResult<bool> {
    let mut tx = begin.await?;
    if tx.rotate(parent, successor, sealed, now, audit).await? {
        tx.commit().await?;
        Ok(true)
    } else {
        tx.rollback().await?;
        Ok(false)
    }
}

/// `SessionStore::revoke_session_audited`: revokes the session and records
/// `audit` (even when it was revoked already); returns whether this call
/// revoked it.
///
/// # Errors
/// The backend's.
pub(crate) async fn revoke_session<T: SessionTx>(
    begin: impl Future<Output = StoreResult<T>> + Send,
    id: Uuid,
    now: OffsetDateTime,
    audit: Option<&AuditEvent>,
) -> StoreResult<bool> {
    let mut tx = begin.await?;
    let done = tx.revoke_session(id, now).await?;
    commit_audited(tx, audit).await?;
    Ok(done)
}

/// `SessionStore::revoke_sessions_audited`: revokes every session of `ids`
/// and records `audit`, all in one transaction: if any part fails (a
/// revocation, the audit record, the commit), none of them is revoked.
/// Returns the sessions this call revoked (those not revoked already).
///
/// # Errors
/// The backend's.
pub(crate) async fn revoke_sessions<T: SessionTx>(
    begin: impl Future<Output = StoreResult<T>> + Send,
    ids: &[Uuid],
    now: OffsetDateTime,
    audit: Option<&AuditEvent>,
) -> StoreResult<Vec<Uuid>> {
    let mut tx = begin.await?;
    let mut revoked = Vec::with_capacity(ids.len());
    for id in ids {
        if tx.revoke_session(*id, now).await? {
            revoked.push(*id);
        }
    }
    commit_audited(tx, audit).await?;
    Ok(revoked)
}

/// `SessionStore::revoke_user_sessions_audited`: revokes every live session
/// of the user and records `audit`; returns the sessions revoked.
///
/// # Errors
/// The backend's.
pub(crate) async fn revoke_user_sessions<T: SessionTx>(
    begin: impl Future<Output = StoreResult<T>> + Send,
    user_id: Uuid,
    now: OffsetDateTime,
    audit: Option<&AuditEvent>,
) -> StoreResult<Vec<Uuid>> {
    let mut tx = begin.await?;
    let ids = tx.revoke_user_sessions(user_id, now).await?;
    commit_audited(tx, audit).await?;
    Ok(ids)
}

/// `UserStore::change_password_audited`: the new hash (if `current` is
/// still in force), every other live session of the user revoked, and
/// `audit` with `details.sessions_ended`, all in one transaction; `None`,
/// changing nothing, when the hash changed meanwhile.
///
/// # Errors
/// The backend's; nothing is changed then.
pub(crate) async fn change_password<T: SessionTx>(
    begin: impl Future<Output = StoreResult<T>> + Send,
    user_id: Uuid,
    current: &str,
    hash: &str,
    keep: Uuid,
    now: OffsetDateTime,
    audit: Option<&AuditEvent>,
) -> StoreResult<Option<Vec<Uuid>>> {
    let mut tx = begin.await?;
    if !tx.set_password_hash(user_id, current, hash, now).await? {
        tx.rollback().await?;
        return Ok(None);
    }
    let ended = tx.revoke_other_sessions(user_id, keep, now).await?;
    let audit = audit.map(|event| {
        let mut event = event.clone();
        event
            .details
            .insert("sessions_ended".into(), ended.len().into());
        event
    });
    commit_audited(tx, audit.as_ref()).await?;
    Ok(Some(ended))
}

/// `SessionStore::revoke_token_audited`: records the access token's
/// revocation and `audit` together.
///
/// # Errors
/// The backend's.
pub(crate) async fn revoke_token<T: SessionTx>(
    begin: impl Future<Output = StoreResult<T>> + Send,
    jti: &str,
    expires_at: OffsetDateTime,
    now: OffsetDateTime,
    audit: Option<&AuditEvent>,
) -> StoreResult<()> {
    let mut tx = begin.await?;
    tx.revoke_token(jti, expires_at, now).await?;
    commit_audited(tx, audit).await
}

/// `SessionStore::purge_ended`: deletes up to `limit` ended sessions and up
/// to `limit` expired access-token revocations in one transaction; returns
/// how many rows went.
///
/// # Errors
/// The backend's.
pub(crate) async fn purge_ended<T: SessionTx>(
    begin: impl Future<Output = StoreResult<T>> + Send,
    before: OffsetDateTime,
    limit: u32,
) -> StoreResult<u64> {
    let mut tx = begin.await?;
    let deleted = tx.purge_ended(before, limit).await?;
    tx.commit().await?;
    Ok(deleted)
}
