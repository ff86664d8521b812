//! [`SessionStore`] on PostgreSQL: the `sessions` and `refresh_tokens`
//! tables (the writes' statements are in `session_tx`).

use async_trait::async_trait;
use authgate_core::{
    ClientGrant, RefreshContext, RefreshToken, Session, SessionCursor, SessionStore, StoreError,
    StoreResult, TokenHash, UserStore,
};
use authgate_proto::AuditEvent;
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{count, hash_of, ts};
use super::error::map_err;
use super::{PostgresStore, session_tx};
use crate::common::{detached, sessions};

/// The columns every session query selects, in [`SessionRow`] order.
macro_rules! session_columns {
    () => {
        "id, user_id, created_at, last_used_at, expires_at, ip, user_agent, audience, revoked_at, \
         oidc_client_id, oidc_scope, oidc_sid, oidc_auth_time"
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
    /// The relying party of a code exchange's session.
    oidc_client_id: Option<String>,
    /// Its granted scopes, space-separated.
    oidc_scope: Option<String>,
    /// The browser session that approved it.
    oidc_sid: Option<Uuid>,
    /// When the user authenticated.
    oidc_auth_time: Option<OffsetDateTime>,
}

impl From<SessionRow> for Session {
    fn from(row: SessionRow) -> Self {
        // The table's CHECK keeps the four grant columns all set or all NULL.
        let client = match (
            row.oidc_client_id,
            row.oidc_scope,
            row.oidc_sid,
            row.oidc_auth_time,
        ) {
            (Some(client_id), Some(scope), Some(sid), Some(auth_time)) => Some(ClientGrant {
                client_id,
                scopes: ClientGrant::scopes_of(&scope),
                browser_session_id: sid,
                auth_time,
            }),
            _ => None,
        };
        Session {
            client,
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
            let begin = this.begin_write();
            session_tx::create_session(begin, &session, &first, audit.as_ref()).await
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

    async fn live_sessions_page(
        &self,
        user_id: Uuid,
        now: OffsetDateTime,
        after: Option<SessionCursor>,
        limit: u32,
    ) -> StoreResult<Vec<Session>> {
        let rows = match after {
            None => {
                let sql = concat!(
                    "SELECT ",
                    session_columns!(),
                    " FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
                      ORDER BY created_at DESC, id DESC LIMIT $3"
                );
                sqlx::query_as::<_, SessionRow>(sql)
                    .bind(user_id)
                    .bind(ts(now)?)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
            }
            Some(cursor) => {
                let sql = concat!(
                    "SELECT ",
                    session_columns!(),
                    " FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
                      AND (created_at < $3 OR (created_at = $3 AND id < $4)) \
                      ORDER BY created_at DESC, id DESC LIMIT $5"
                );
                sqlx::query_as::<_, SessionRow>(sql)
                    .bind(user_id)
                    .bind(ts(now)?)
                    .bind(ts(cursor.created_at)?)
                    .bind(cursor.id)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
            }
        }
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

    async fn refresh_context(&self, hash: &TokenHash) -> StoreResult<Option<RefreshContext>> {
        // Three statements, three round trips: this driver sends one
        // statement per query (SQLite's reads all three in one hop).
        let Some(token) = self.refresh_token(hash).await? else {
            return Ok(None);
        };
        let session = self.session(token.session_id).await?;
        let user = match &session {
            Some(session) => UserStore::user_by_id(self, session.user_id).await?,
            None => None,
        };
        Ok(Some(RefreshContext {
            token,
            session,
            user,
        }))
    }

    async fn rotate_audited(
        &self,
        parent: &TokenHash,
        successor: &RefreshToken,
        sealed: &[u8],
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool> {
        let this = self.clone();
        let (parent, successor, sealed) = (*parent, successor.clone(), sealed.to_vec());
        let audit = audit.cloned();
        detached(async move {
            sessions::rotate(
                this.begin_write(),
                &parent,
                &successor,
                &sealed,
                now,
                audit.as_ref(),
            )
            .await
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
            sessions::revoke_session(this.begin_write(), id, now, audit.as_ref()).await
        })
        .await
    }

    async fn revoke_sessions_audited(
        &self,
        ids: &[Uuid],
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<Vec<Uuid>> {
        let (this, ids, audit) = (self.clone(), ids.to_vec(), audit.cloned());
        detached(async move {
            sessions::revoke_sessions(this.begin_write(), &ids, now, audit.as_ref()).await
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
            let begin = this.begin_write();
            sessions::revoke_user_sessions(begin, user_id, now, audit.as_ref()).await
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
        detached(async move { sessions::purge_ended(this.begin_write(), before, limit).await })
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
            let begin = this.begin_write();
            sessions::revoke_token(begin, &jti, expires_at, now, audit.as_ref()).await
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
