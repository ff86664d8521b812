//! The session writes' statements on PostgreSQL: [`SessionTx`] on this
//! backend's transaction, for the steps in `common::sessions`.

use async_trait::async_trait;
use authgate_core::{ClientGrant, RefreshToken, Session, StoreError, StoreResult, TokenHash};
use authgate_proto::AuditEvent;
use sqlx::{Postgres, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{ts, ts_opt};
use super::error::map_err;
use crate::common::sessions::SessionTx;
use crate::common::{
    CLAIM_PARENT, INSERT_SESSION, PURGE_REVOKED_TOKENS, PURGE_SESSIONS, REVOKE_OTHER_SESSIONS,
    REVOKE_SESSION, REVOKE_TOKEN, REVOKE_USER_SESSIONS, SET_PASSWORD_HASH,
};
use crate::common::{WriteTx, commit_audited};

/// Inserts one refresh token with `executor` (inside the caller's transaction).
async fn insert_token<'c, E>(executor: E, token: &RefreshToken) -> StoreResult<()>
where
    E: sqlx::PgExecutor<'c>,
{
    sqlx::query(
        "INSERT INTO refresh_tokens (hash, session_id, generation, issued_at, used_at, \
         successor, successor_sealed, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&token.hash.0[..])
    .bind(token.session_id)
    .bind(token.generation)
    .bind(ts(token.issued_at)?)
    .bind(ts_opt(token.used_at)?)
    .bind(token.successor.as_ref().map(|h| &h.0[..]))
    .bind(token.successor_sealed.as_deref())
    .bind(ts(token.expires_at)?)
    .execute(executor)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// `SessionStore::create_session_audited` on PostgreSQL: `session` and its
/// `first` refresh token, with `audit`, only if the user is active
/// (false otherwise, writing nothing).
///
/// # Errors
/// The backend's; [`StoreError::Other`] when `first` belongs to another
/// session (checked before anything begins).
pub(super) async fn create_session(
    begin: impl Future<Output = StoreResult<Transaction<'static, Postgres>>> + Send,
    session: &Session,
    first: &RefreshToken,
    audit: Option<&AuditEvent>,
) -> StoreResult<bool> {
    if first.session_id != session.id {
        return Err(StoreError::Other(
            "the first refresh token belongs to another session".into(),
        ));
    }
    let mut tx = begin.await?;
    // FOR SHARE: a disable that has not committed yet is waited for, and
    // one that comes later waits for this session and revokes it.
    let active: Option<bool> =
        sqlx::query_scalar("SELECT is_active FROM users WHERE id = $1 FOR SHARE")
            .bind(session.user_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
    if active != Some(true) {
        return Ok(false);
    }
    let grant = session.client.as_ref();
    sqlx::query(INSERT_SESSION)
        .bind(session.id)
        .bind(session.user_id)
        .bind(ts(session.created_at)?)
        .bind(ts(session.last_used_at)?)
        .bind(ts(session.expires_at)?)
        .bind(&session.ip)
        .bind(&session.user_agent)
        .bind(&session.audience)
        .bind(ts_opt(session.revoked_at)?)
        .bind(grant.map(|g| g.client_id.clone()))
        .bind(grant.map(ClientGrant::scope))
        .bind(grant.map(|g| g.browser_session_id))
        .bind(ts_opt(grant.map(|g| g.auth_time))?)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    insert_token(&mut *tx, first).await?;
    commit_audited(tx, audit).await?;
    Ok(true)
}

#[async_trait]
impl SessionTx for Transaction<'static, Postgres> {
    async fn rotate(
        &mut self,
        parent: &TokenHash,
        successor: &RefreshToken,
        sealed: &[u8],
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool> {
        // The compare-and-swap: concurrent rotations of one parent queue
        // on its row lock, and under READ COMMITTED each one after the
        // first re-checks `used_at IS NULL` against the committed row,
        // finds it used and updates nothing.
        let won: Option<Uuid> = sqlx::query_scalar(CLAIM_PARENT)
            .bind(ts(now)?)
            .bind(&successor.hash.0[..])
            .bind(sealed)
            .bind(&parent.0[..])
            .fetch_optional(&mut **self)
            .await
            .map_err(map_err)?;
        let Some(session_id) = won else {
            return Ok(false);
        };
        if session_id != successor.session_id {
            return Err(StoreError::Other(
                "the successor refresh token belongs to another session".into(),
            ));
        }
        insert_token(&mut **self, successor).await?;
        // The claim's subquery read a snapshot and locked no session: a
        // revocation not yet committed then was not seen. This update
        // takes the session's row lock, so it waits for such a
        // revocation and re-checks against it; a revoked session makes
        // the whole rotation roll back (a revocation that comes after
        // waits for this commit instead, and revokes the successor too).
        let touched = sqlx::query(
            "UPDATE sessions SET last_used_at = $2 \
             WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(session_id)
        .bind(ts(now)?)
        .execute(&mut **self)
        .await
        .map_err(map_err)?;
        if touched.rows_affected() != 1 {
            return Ok(false);
        }
        if let Some(event) = audit {
            self.insert_audit(event).await?;
        }
        Ok(true)
    }

    async fn revoke_session(&mut self, id: Uuid, now: OffsetDateTime) -> StoreResult<bool> {
        let done = sqlx::query(REVOKE_SESSION)
            .bind(id)
            .bind(ts(now)?)
            .execute(&mut **self)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn revoke_user_sessions(
        &mut self,
        user_id: Uuid,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<Uuid>> {
        sqlx::query_scalar(REVOKE_USER_SESSIONS)
            .bind(user_id)
            .bind(ts(now)?)
            .fetch_all(&mut **self)
            .await
            .map_err(map_err)
    }

    async fn revoke_other_sessions(
        &mut self,
        user_id: Uuid,
        keep: Uuid,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<Uuid>> {
        sqlx::query_scalar(REVOKE_OTHER_SESSIONS)
            .bind(user_id)
            .bind(ts(now)?)
            .bind(keep)
            .fetch_all(&mut **self)
            .await
            .map_err(map_err)
    }

    async fn set_password_hash(
        &mut self,
        user_id: Uuid,
        current: &str,
        hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let done = sqlx::query(SET_PASSWORD_HASH)
            .bind(user_id)
            .bind(hash)
            .bind(ts(now)?)
            .bind(current)
            .execute(&mut **self)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn revoke_token(
        &mut self,
        jti: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(REVOKE_TOKEN)
            .bind(jti)
            .bind(ts(expires_at)?)
            .bind(ts(now)?)
            .execute(&mut **self)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn purge_ended(&mut self, before: OffsetDateTime, limit: u32) -> StoreResult<u64> {
        let (before, limit) = (ts(before)?, i64::from(limit));
        let sessions = sqlx::query(PURGE_SESSIONS)
            .bind(before)
            .bind(limit)
            .execute(&mut **self)
            .await
            .map_err(map_err)?;
        let tokens = sqlx::query(PURGE_REVOKED_TOKENS)
            .bind(before)
            .bind(limit)
            .execute(&mut **self)
            .await
            .map_err(map_err)?;
        Ok(sessions.rows_affected() + tokens.rows_affected())
    }
}
