//! The session writes' statements on SQLite: [`SessionTx`] on this
//! backend's transaction, for the steps in `common::sessions`.

use async_trait::async_trait;
use authgate_core::{ClientGrant, RefreshToken, Session, StoreResult, TokenHash};
use sqlx::{Sqlite, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{micros, micros_opt, uuid_of, uuid_text};
use super::error::map_err;
use super::sessions::session_ids;
use crate::common::sessions::SessionTx;
use crate::common::{
    CLAIM_PARENT, INSERT_SESSION, PURGE_REVOKED_TOKENS, PURGE_SESSIONS, REVOKE_SESSION,
    REVOKE_TOKEN, REVOKE_USER_SESSIONS,
};

/// Inserts one refresh token with `executor` (inside the caller's transaction).
async fn insert_token<'c, E>(executor: E, token: &RefreshToken) -> StoreResult<()>
where
    E: sqlx::SqliteExecutor<'c>,
{
    sqlx::query(
        "INSERT INTO refresh_tokens (hash, session_id, generation, issued_at, used_at, \
         successor, successor_sealed, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&token.hash.0[..])
    .bind(uuid_text(token.session_id))
    .bind(token.generation)
    .bind(micros(token.issued_at)?)
    .bind(micros_opt(token.used_at)?)
    .bind(token.successor.as_ref().map(|h| &h.0[..]))
    .bind(token.successor_sealed.as_deref())
    .bind(micros(token.expires_at)?)
    .execute(executor)
    .await
    .map_err(map_err)?;
    Ok(())
}

#[async_trait]
impl SessionTx for Transaction<'static, Sqlite> {
    async fn user_is_active(&mut self, user_id: Uuid) -> StoreResult<bool> {
        // Under the write lock taken at BEGIN: no disable can interleave.
        let active: Option<i64> = sqlx::query_scalar("SELECT is_active FROM users WHERE id = $1")
            .bind(uuid_text(user_id))
            .fetch_optional(&mut **self)
            .await
            .map_err(map_err)?;
        Ok(active == Some(1))
    }

    async fn insert_session(&mut self, session: &Session) -> StoreResult<()> {
        let grant = session.client.as_ref();
        sqlx::query(INSERT_SESSION)
            .bind(uuid_text(session.id))
            .bind(uuid_text(session.user_id))
            .bind(micros(session.created_at)?)
            .bind(micros(session.last_used_at)?)
            .bind(micros(session.expires_at)?)
            .bind(&session.ip)
            .bind(&session.user_agent)
            .bind(&session.audience)
            .bind(micros_opt(session.revoked_at)?)
            .bind(grant.map(|g| g.client_id.clone()))
            .bind(grant.map(ClientGrant::scope))
            .bind(grant.map(|g| uuid_text(g.browser_session_id)))
            .bind(micros_opt(grant.map(|g| g.auth_time))?)
            .execute(&mut **self)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn insert_refresh_token(&mut self, token: &RefreshToken) -> StoreResult<()> {
        insert_token(&mut **self, token).await
    }

    async fn claim_parent(
        &mut self,
        parent: &TokenHash,
        successor: &TokenHash,
        sealed: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<Option<Uuid>> {
        // BEGIN IMMEDIATE: concurrent rotations queue on the write lock, and
        // each one's UPDATE sees the previous one's committed used_at.
        let won: Option<String> = sqlx::query_scalar(CLAIM_PARENT)
            .bind(micros(now)?)
            .bind(&successor.0[..])
            .bind(sealed)
            .bind(&parent.0[..])
            .fetch_optional(&mut **self)
            .await
            .map_err(map_err)?;
        won.map(|id| uuid_of(&id, "refresh_tokens.session_id"))
            .transpose()
    }

    async fn touch_session(&mut self, id: Uuid, now: OffsetDateTime) -> StoreResult<bool> {
        // Under the write lock the claim's check that the session is live
        // still holds: nothing can have revoked it since.
        sqlx::query("UPDATE sessions SET last_used_at = $2 WHERE id = $1")
            .bind(uuid_text(id))
            .bind(micros(now)?)
            .execute(&mut **self)
            .await
            .map_err(map_err)?;
        Ok(true)
    }

    async fn revoke_session(&mut self, id: Uuid, now: OffsetDateTime) -> StoreResult<bool> {
        let done = sqlx::query(REVOKE_SESSION)
            .bind(uuid_text(id))
            .bind(micros(now)?)
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
        let ids: Vec<String> = sqlx::query_scalar(REVOKE_USER_SESSIONS)
            .bind(uuid_text(user_id))
            .bind(micros(now)?)
            .fetch_all(&mut **self)
            .await
            .map_err(map_err)?;
        session_ids(&ids)
    }

    async fn revoke_token(
        &mut self,
        jti: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(REVOKE_TOKEN)
            .bind(jti)
            .bind(micros(expires_at)?)
            .bind(micros(now)?)
            .execute(&mut **self)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn purge_ended(&mut self, before: OffsetDateTime, limit: u32) -> StoreResult<u64> {
        let (before, limit) = (micros(before)?, i64::from(limit));
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
