//! [`SessionStore`] on SQLite: the `sessions` and `refresh_tokens` tables.

use async_trait::async_trait;
use authgate_core::{RefreshToken, Session, SessionStore, StoreError, StoreResult, TokenHash};
use authgate_proto::AuditEvent;
use time::OffsetDateTime;
use uuid::Uuid;

use super::audit::insert_event;
use super::codec::{corrupt, hash_of, micros, micros_opt, time_of, time_opt, uuid_of, uuid_text};
use super::error::map_err;
use super::{BEGIN_WRITE, SqliteStore};
use crate::common::{PURGE_REVOKED_TOKENS, PURGE_SESSIONS, detached};

/// The columns every session query selects, in [`SessionRow`] order.
macro_rules! session_columns {
    () => {
        "id, user_id, created_at, last_used_at, expires_at, ip, user_agent, audience, revoked_at"
    };
}

/// A `sessions` row as SQLite returns it, before validation.
#[derive(sqlx::FromRow)]
struct SessionRow {
    /// Hyphenated UUID.
    id: String,
    /// Hyphenated UUID of the user.
    user_id: String,
    /// Microseconds since the epoch.
    created_at: i64,
    /// Microseconds since the epoch.
    last_used_at: i64,
    /// Microseconds since the epoch.
    expires_at: i64,
    /// Client address at login.
    ip: Option<String>,
    /// `User-Agent` at login.
    user_agent: Option<String>,
    /// Audience string chosen at login.
    audience: String,
    /// Microseconds since the epoch, once revoked.
    revoked_at: Option<i64>,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> StoreResult<Self> {
        Ok(Session {
            id: uuid_of(&row.id, "sessions.id")?,
            user_id: uuid_of(&row.user_id, "sessions.user_id")?,
            created_at: time_of(row.created_at, "sessions.created_at")?,
            last_used_at: time_of(row.last_used_at, "sessions.last_used_at")?,
            expires_at: time_of(row.expires_at, "sessions.expires_at")?,
            ip: row.ip,
            user_agent: row.user_agent,
            audience: row.audience,
            revoked_at: time_opt(row.revoked_at, "sessions.revoked_at")?,
        })
    }
}

/// A `refresh_tokens` row as SQLite returns it, before validation.
#[derive(sqlx::FromRow)]
struct RefreshTokenRow {
    /// 32 bytes.
    hash: Vec<u8>,
    /// Hyphenated UUID of the session.
    session_id: String,
    /// Rotations since login.
    generation: i64,
    /// Microseconds since the epoch.
    issued_at: i64,
    /// Microseconds since the epoch, once rotated.
    used_at: Option<i64>,
    /// 32 bytes, once rotated.
    successor: Option<Vec<u8>>,
    /// Sealed successor token, during the grace window.
    successor_sealed: Option<Vec<u8>>,
    /// Microseconds since the epoch.
    expires_at: i64,
}

impl TryFrom<RefreshTokenRow> for RefreshToken {
    type Error = StoreError;

    fn try_from(row: RefreshTokenRow) -> StoreResult<Self> {
        Ok(RefreshToken {
            hash: hash_of(&row.hash, "refresh_tokens.hash")?,
            session_id: uuid_of(&row.session_id, "refresh_tokens.session_id")?,
            generation: row.generation,
            issued_at: time_of(row.issued_at, "refresh_tokens.issued_at")?,
            used_at: time_opt(row.used_at, "refresh_tokens.used_at")?,
            successor: row
                .successor
                .map(|bytes| hash_of(&bytes, "refresh_tokens.successor"))
                .transpose()?,
            successor_sealed: row.successor_sealed,
            expires_at: time_of(row.expires_at, "refresh_tokens.expires_at")?,
        })
    }
}

/// Session ids as returned by `RETURNING id` or `SELECT id`.
fn session_ids(ids: &[String]) -> StoreResult<Vec<Uuid>> {
    ids.iter().map(|id| uuid_of(id, "sessions.id")).collect()
}

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

/// A count as the traits want it.
fn count(n: i64, what: &str) -> StoreResult<u64> {
    u64::try_from(n).map_err(|_| corrupt(what, "is negative"))
}

#[async_trait]
impl SessionStore for SqliteStore {
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
            let mut tx = this.pool.begin_with(BEGIN_WRITE).await.map_err(map_err)?;
            // Under the write lock taken at BEGIN: no disable can interleave.
            let active: Option<i64> =
                sqlx::query_scalar("SELECT is_active FROM users WHERE id = $1")
                    .bind(uuid_text(session.user_id))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
            if active != Some(1) {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, ip, \
                 user_agent, audience, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(uuid_text(session.id))
            .bind(uuid_text(session.user_id))
            .bind(micros(session.created_at)?)
            .bind(micros(session.last_used_at)?)
            .bind(micros(session.expires_at)?)
            .bind(&session.ip)
            .bind(&session.user_agent)
            .bind(&session.audience)
            .bind(micros_opt(session.revoked_at)?)
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
        sqlx::query_as::<_, SessionRow>(sql)
            .bind(uuid_text(id))
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?
            .map(Session::try_from)
            .transpose()
    }

    async fn live_sessions(&self, user_id: Uuid, now: OffsetDateTime) -> StoreResult<Vec<Session>> {
        let sql = concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
              ORDER BY created_at DESC, id DESC"
        );
        let rows = sqlx::query_as::<_, SessionRow>(sql)
            .bind(uuid_text(user_id))
            .bind(micros(now)?)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(Session::try_from).collect()
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
            let now = micros(now)?;
            // BEGIN IMMEDIATE: concurrent rotations queue on the write lock, and
            // each one's UPDATE sees the previous one's committed used_at.
            let mut tx = this.pool.begin_with(BEGIN_WRITE).await.map_err(map_err)?;
            let won: Option<String> = sqlx::query_scalar(
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
            if session_id != uuid_text(successor.session_id) {
                tx.rollback().await.map_err(map_err)?;
                return Err(StoreError::Other(
                    "the successor refresh token belongs to another session".into(),
                ));
            }
            insert_token(&mut *tx, successor).await?;
            sqlx::query("UPDATE sessions SET last_used_at = $2 WHERE id = $1")
                .bind(&session_id)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            tx.commit().await.map_err(map_err)?;
            Ok(true)
        })
        .await
    }

    async fn touch_session(&self, id: Uuid, now: OffsetDateTime) -> StoreResult<bool> {
        let this = self.clone();
        let now = micros(now)?;
        detached(async move {
            let done = sqlx::query(
                "UPDATE sessions SET last_used_at = $2 \
                 WHERE id = $1 AND revoked_at IS NULL AND last_used_at < $2",
            )
            .bind(uuid_text(id))
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
            let mut tx = this.pool.begin_with(BEGIN_WRITE).await.map_err(map_err)?;
            // "Live" here means not yet revoked: an expired session is still
            // marked revoked, so revoked_since() reports it to caches.
            let done = sqlx::query(
                "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            )
            .bind(uuid_text(id))
            .bind(micros(now)?)
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
            let mut tx = this.pool.begin_with(BEGIN_WRITE).await.map_err(map_err)?;
            let ids: Vec<String> = sqlx::query_scalar(
                "UPDATE sessions SET revoked_at = $2 \
                 WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 RETURNING id",
            )
            .bind(uuid_text(user_id))
            .bind(micros(now)?)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
            if let Some(event) = &audit {
                insert_event(&mut *tx, event).await?;
            }
            tx.commit().await.map_err(map_err)?;
            session_ids(&ids)
        })
        .await
    }

    async fn revoked_since(&self, since: OffsetDateTime) -> StoreResult<Vec<Uuid>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM sessions WHERE revoked_at >= $1 ORDER BY revoked_at, id",
        )
        .bind(micros(since)?)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        session_ids(&ids)
    }

    async fn wipe_sealed_successors(&self, before: OffsetDateTime) -> StoreResult<u64> {
        // Counts only rows that still held a sealed successor.
        let done = sqlx::query(
            "UPDATE refresh_tokens SET successor_sealed = NULL \
             WHERE used_at < $1 AND successor_sealed IS NOT NULL",
        )
        .bind(micros(before)?)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn purge_ended(&self, before: OffsetDateTime, limit: u32) -> StoreResult<u64> {
        // Detached like every transactional write: shutdown may drop the upkeep.
        let this = self.clone();
        detached(async move {
            let before = micros(before)?;
            let limit = i64::from(limit);
            let mut tx = this.pool.begin_with(BEGIN_WRITE).await.map_err(map_err)?;
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
        .bind(micros(now)?)
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
            let mut tx = this.pool.begin_with(BEGIN_WRITE).await.map_err(map_err)?;
            // A second revocation keeps the first one's time (idempotent).
            sqlx::query(
                "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (jti) DO NOTHING",
            )
            .bind(&jti)
            .bind(micros(expires_at)?)
            .bind(micros(now)?)
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
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT jti, expires_at FROM revoked_tokens \
             WHERE revoked_at >= $1 AND expires_at > $2 ORDER BY revoked_at, jti",
        )
        .bind(micros(since)?)
        .bind(micros(now)?)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.into_iter()
            .map(|(jti, exp)| Ok((jti, time_of(exp, "revoked_tokens.expires_at")?)))
            .collect()
    }
}
