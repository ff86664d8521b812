//! [`SessionStore`] on PostgreSQL: the `sessions` and `refresh_tokens` tables.

use async_trait::async_trait;
use authgate_core::{RefreshToken, Session, SessionStore, StoreError, StoreResult, TokenHash};
use authgate_proto::AuditEvent;
use time::OffsetDateTime;
use uuid::Uuid;

use super::PostgresStore;
use super::audit::insert_event;
use super::codec::{count, hash_of, ts, ts_opt};
use super::error::map_err;
use crate::common::{PURGE_REVOKED_TOKENS, PURGE_SESSIONS, detached};

/// The columns every session query selects, in [`SessionRow`] order.
macro_rules! session_columns {
    () => {
        "id, user_id, created_at, last_used_at, expires_at, ip, user_agent, audience, revoked_at"
    };
}

/// A `sessions` row as PostgreSQL returns it.
#[derive(sqlx::FromRow)]
struct SessionRow {
    /// The `sid`.
    id: Uuid,
    /// Owner.
    user_id: Uuid,
    /// Login time.
    created_at: OffsetDateTime,
    /// Last refresh.
    last_used_at: OffsetDateTime,
    /// End of the session.
    expires_at: OffsetDateTime,
    /// Client address at login.
    ip: Option<String>,
    /// `User-Agent` at login.
    user_agent: Option<String>,
    /// Audience string chosen at login.
    audience: String,
    /// Set once revoked.
    revoked_at: Option<OffsetDateTime>,
}

impl From<SessionRow> for Session {
    fn from(row: SessionRow) -> Self {
        Session {
            id: row.id,
            user_id: row.user_id,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            expires_at: row.expires_at,
            ip: row.ip,
            user_agent: row.user_agent,
            audience: row.audience,
            revoked_at: row.revoked_at,
        }
    }
}

/// A `refresh_tokens` row as PostgreSQL returns it, before validation.
#[derive(sqlx::FromRow)]
struct RefreshTokenRow {
    /// 32 bytes.
    hash: Vec<u8>,
    /// The session it belongs to.
    session_id: Uuid,
    /// Rotations since login.
    generation: i64,
    /// Issue time.
    issued_at: OffsetDateTime,
    /// Set by rotation.
    used_at: Option<OffsetDateTime>,
    /// 32 bytes, once rotated.
    successor: Option<Vec<u8>>,
    /// Sealed successor token, during the grace window.
    successor_sealed: Option<Vec<u8>>,
    /// End of validity.
    expires_at: OffsetDateTime,
}

impl TryFrom<RefreshTokenRow> for RefreshToken {
    type Error = StoreError;

    fn try_from(row: RefreshTokenRow) -> StoreResult<Self> {
        Ok(RefreshToken {
            hash: hash_of(&row.hash, "refresh_tokens.hash")?,
            session_id: row.session_id,
            generation: row.generation,
            issued_at: row.issued_at,
            used_at: row.used_at,
            successor: row
                .successor
                .map(|bytes| hash_of(&bytes, "refresh_tokens.successor"))
                .transpose()?,
            successor_sealed: row.successor_sealed,
            expires_at: row.expires_at,
        })
    }
}

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

#[async_trait]
impl SessionStore for PostgresStore {
    async fn create_session_audited(
        &self,
        session: &Session,
        first: &RefreshToken,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool> {
        let this = self.clone();
        let (session, first, audit) = (session.clone(), first.clone(), audit.cloned());
        detached(async move {
            let (session, first) = (&session, &first);
            if first.session_id != session.id {
                return Err(StoreError::Other(
                    "the first refresh token belongs to another session".into(),
                ));
            }
            let mut tx = this.pool.begin().await.map_err(map_err)?;
            // FOR SHARE: a disable that has not committed yet is waited for,
            // and one that comes later waits for this session and revokes it.
            let active: Option<bool> =
                sqlx::query_scalar("SELECT is_active FROM users WHERE id = $1 FOR SHARE")
                    .bind(session.user_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
            if active != Some(true) {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, ip, \
                 user_agent, audience, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(session.id)
            .bind(session.user_id)
            .bind(ts(session.created_at)?)
            .bind(ts(session.last_used_at)?)
            .bind(ts(session.expires_at)?)
            .bind(&session.ip)
            .bind(&session.user_agent)
            .bind(&session.audience)
            .bind(ts_opt(session.revoked_at)?)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            insert_token(&mut *tx, first).await?;
            if let Some(event) = &audit {
                insert_event(&mut *tx, event).await?;
            }
            tx.commit().await.map_err(map_err)?;
            Ok(true)
        })
        .await
    }

    async fn session(&self, id: Uuid) -> StoreResult<Option<Session>> {
        let sql = concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE id = $1"
        );
        let row = sqlx::query_as::<_, SessionRow>(sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(row.map(Session::from))
    }

    async fn live_sessions(&self, user_id: Uuid, now: OffsetDateTime) -> StoreResult<Vec<Session>> {
        let sql = concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
              ORDER BY created_at DESC, id DESC"
        );
        let rows = sqlx::query_as::<_, SessionRow>(sql)
            .bind(user_id)
            .bind(ts(now)?)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(rows.into_iter().map(Session::from).collect())
    }

    async fn refresh_token(&self, hash: &TokenHash) -> StoreResult<Option<RefreshToken>> {
        sqlx::query_as::<_, RefreshTokenRow>(
            "SELECT hash, session_id, generation, issued_at, used_at, successor, \
             successor_sealed, expires_at FROM refresh_tokens WHERE hash = $1",
        )
        .bind(&hash.0[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?
        .map(RefreshToken::try_from)
        .transpose()
    }

    async fn rotate(
        &self,
        parent: &TokenHash,
        successor: &RefreshToken,
        sealed: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let this = self.clone();
        let (parent, successor, sealed) = (*parent, successor.clone(), sealed.to_vec());
        detached(async move {
            let (parent, successor, sealed) = (&parent, &successor, &sealed[..]);
            let now = ts(now)?;
            let mut tx = this.pool.begin().await.map_err(map_err)?;
            // The compare-and-swap: concurrent rotations of one parent queue
            // on its row lock, and under READ COMMITTED each one after the
            // first re-checks `used_at IS NULL` against the committed row,
            // finds it used and updates nothing.
            let won: Option<Uuid> = sqlx::query_scalar(
                "UPDATE refresh_tokens SET used_at = $1, successor = $2, successor_sealed = $3 \
                 WHERE hash = $4 AND used_at IS NULL AND expires_at > $1 \
                   AND session_id IN (SELECT id FROM sessions \
                                      WHERE revoked_at IS NULL AND expires_at > $1) \
                 RETURNING session_id",
            )
            .bind(now)
            .bind(&successor.hash.0[..])
            .bind(sealed)
            .bind(&parent.0[..])
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
            let Some(session_id) = won else {
                tx.rollback().await.map_err(map_err)?;
                return Ok(false);
            };
            if session_id != successor.session_id {
                tx.rollback().await.map_err(map_err)?;
                return Err(StoreError::Other(
                    "the successor refresh token belongs to another session".into(),
                ));
            }
            insert_token(&mut *tx, successor).await?;
            // The subquery above read a snapshot and locked no session: a
            // revocation not yet committed then was not seen. This update
            // takes the session's row lock, so it waits for such a
            // revocation and re-checks against it; a revoked session makes
            // the whole rotation roll back (a revocation that comes after
            // waits for this commit instead, and revokes the successor too).
            let touched = sqlx::query(
                "UPDATE sessions SET last_used_at = $2                  WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2",
            )
            .bind(session_id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            if touched.rows_affected() != 1 {
                tx.rollback().await.map_err(map_err)?;
                return Ok(false);
            }
            tx.commit().await.map_err(map_err)?;
            Ok(true)
        })
        .await
    }

    async fn touch_session(&self, id: Uuid, now: OffsetDateTime) -> StoreResult<bool> {
        let this = self.clone();
        let now = ts(now)?;
        detached(async move {
            let done = sqlx::query(
                "UPDATE sessions SET last_used_at = $2 \
                 WHERE id = $1 AND revoked_at IS NULL AND last_used_at < $2",
            )
            .bind(id)
            .bind(now)
            .execute(&this.pool)
            .await
            .map_err(map_err)?;
            Ok(done.rows_affected() > 0)
        })
        .await
    }

    async fn revoke_session_audited(
        &self,
        id: Uuid,
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool> {
        let (this, audit) = (self.clone(), audit.cloned());
        detached(async move {
            let mut tx = this.pool.begin().await.map_err(map_err)?;
            // "Live" here means not yet revoked: an expired session is still
            // marked revoked, so revoked_since() reports it to caches.
            let done = sqlx::query(
                "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            )
            .bind(id)
            .bind(ts(now)?)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            if let Some(event) = &audit {
                insert_event(&mut *tx, event).await?;
            }
            tx.commit().await.map_err(map_err)?;
            Ok(done.rows_affected() > 0)
        })
        .await
    }

    async fn revoke_user_sessions_audited(
        &self,
        user_id: Uuid,
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<Vec<Uuid>> {
        let (this, audit) = (self.clone(), audit.cloned());
        detached(async move {
            let mut tx = this.pool.begin().await.map_err(map_err)?;
            let ids: Vec<Uuid> = sqlx::query_scalar(
                "UPDATE sessions SET revoked_at = $2 \
                 WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 RETURNING id",
            )
            .bind(user_id)
            .bind(ts(now)?)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
            if let Some(event) = &audit {
                insert_event(&mut *tx, event).await?;
            }
            tx.commit().await.map_err(map_err)?;
            Ok(ids)
        })
        .await
    }

    async fn revoked_since(&self, since: OffsetDateTime) -> StoreResult<Vec<Uuid>> {
        sqlx::query_scalar("SELECT id FROM sessions WHERE revoked_at >= $1 ORDER BY revoked_at, id")
            .bind(ts(since)?)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)
    }

    async fn wipe_sealed_successors(&self, before: OffsetDateTime) -> StoreResult<u64> {
        // Counts only rows that still held a sealed successor.
        let done = sqlx::query(
            "UPDATE refresh_tokens SET successor_sealed = NULL \
             WHERE used_at < $1 AND successor_sealed IS NOT NULL",
        )
        .bind(ts(before)?)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn purge_ended(&self, before: OffsetDateTime, limit: u32) -> StoreResult<u64> {
        // Detached like every transactional write: shutdown may drop the upkeep.
        let this = self.clone();
        detached(async move {
            let before = ts(before)?;
            let limit = i64::from(limit);
            let mut tx = this.pool.begin().await.map_err(map_err)?;
            let sessions = sqlx::query(PURGE_SESSIONS)
                .bind(before)
                .bind(limit)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            let tokens = sqlx::query(PURGE_REVOKED_TOKENS)
                .bind(before)
                .bind(limit)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            tx.commit().await.map_err(map_err)?;
            Ok(sessions.rows_affected() + tokens.rows_affected())
        })
        .await
    }

    async fn count_live_sessions(&self, now: OffsetDateTime) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > $1",
        )
        .bind(ts(now)?)
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)?;
        count(n, "COUNT(*) of live sessions")
    }

    async fn revoke_token_audited(
        &self,
        jti: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<()> {
        let (this, jti, audit) = (self.clone(), jti.to_owned(), audit.cloned());
        detached(async move {
            let mut tx = this.pool.begin().await.map_err(map_err)?;
            // A second revocation keeps the first one's time (idempotent).
            sqlx::query(
                "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (jti) DO NOTHING",
            )
            .bind(&jti)
            .bind(ts(expires_at)?)
            .bind(ts(now)?)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            if let Some(event) = &audit {
                insert_event(&mut *tx, event).await?;
            }
            tx.commit().await.map_err(map_err)
        })
        .await
    }

    async fn revoked_tokens_since(
        &self,
        since: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<(String, OffsetDateTime)>> {
        sqlx::query_as(
            "SELECT jti, expires_at FROM revoked_tokens \
             WHERE revoked_at >= $1 AND expires_at > $2 ORDER BY revoked_at, jti",
        )
        .bind(ts(since)?)
        .bind(ts(now)?)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)
    }
}
