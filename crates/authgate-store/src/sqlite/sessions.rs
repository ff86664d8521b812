//! [`SessionStore`] on SQLite: the `sessions` and `refresh_tokens` tables
//! (the writes' statements are in `session_tx`).

use async_trait::async_trait;
use std::sync::LazyLock;

use authgate_core::{
    ClientGrant, RefreshContext, RefreshToken, Session, SessionCursor, SessionStore, StoreError,
    StoreResult, TokenHash, User,
};
use authgate_proto::AuditEvent;
use futures_util::TryStreamExt;
use time::OffsetDateTime;
use uuid::Uuid;

use super::SqliteStore;
use super::codec::{corrupt, hash_of, micros, time_of, time_opt, uuid_of, uuid_text};
use super::error::map_err;
use super::users::{USER_OF_REFRESH_TOKEN, UserRow};
use crate::common::{detached, sessions};

/// The columns every session query selects, in [`SessionRow`] order.
macro_rules! session_columns {
    () => {
        "id, user_id, created_at, last_used_at, expires_at, ip, user_agent, audience, revoked_at, \
         oidc_client_id, oidc_scope, oidc_sid, oidc_auth_time"
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
    /// The relying party of a code exchange's session.
    oidc_client_id: Option<String>,
    /// Its granted scopes, space-separated.
    oidc_scope: Option<String>,
    /// Hyphenated UUID of the browser session that approved it.
    oidc_sid: Option<String>,
    /// Microseconds since the epoch: when the user authenticated.
    oidc_auth_time: Option<i64>,
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
            client: match (
                row.oidc_client_id,
                row.oidc_scope,
                row.oidc_sid,
                row.oidc_auth_time,
            ) {
                (None, None, None, None) => None,
                (Some(client_id), Some(scope), Some(sid), Some(auth_time)) => Some(ClientGrant {
                    client_id,
                    scopes: ClientGrant::scopes_of(&scope),
                    browser_session_id: uuid_of(&sid, "sessions.oidc_sid")?,
                    auth_time: time_of(auth_time, "sessions.oidc_auth_time")?,
                }),
                _ => return Err(corrupt("sessions.oidc_client_id", "a partial client grant")),
            },
        })
    }
}

/// A refresh's one read (`SessionStore::refresh_context`): the token, its
/// session and the session's user, three statements sharing `$1`.
static REFRESH_CONTEXT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT hash, session_id, generation, issued_at, used_at, successor, successor_sealed, \
         expires_at FROM refresh_tokens WHERE hash = $1; \
         SELECT {} FROM sessions WHERE id = (SELECT session_id FROM refresh_tokens WHERE hash = $1); \
         {USER_OF_REFRESH_TOKEN};",
        session_columns!()
    )
});

/// A row as `T`, or the sqlx error mapped.
fn decode<T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>>(
    row: &sqlx::sqlite::SqliteRow,
) -> StoreResult<T> {
    T::from_row(row).map_err(map_err)
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
pub(super) fn session_ids(ids: &[String]) -> StoreResult<Vec<Uuid>> {
    ids.iter().map(|id| uuid_of(id, "sessions.id")).collect()
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
        self.committer.create_session(session, first, audit).await
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
                    .bind(uuid_text(user_id))
                    .bind(micros(now)?)
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
                    .bind(uuid_text(user_id))
                    .bind(micros(now)?)
                    .bind(micros(cursor.created_at)?)
                    .bind(uuid_text(cursor.id))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
            }
        }
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

    async fn refresh_context(&self, hash: &TokenHash) -> StoreResult<Option<RefreshContext>> {
        // Three statements in one query: one hop to the connection's thread
        // instead of three. Each statement's end is a `Left` in the stream,
        // so the rows are told apart by the statement they came from.
        let query = sqlx::query(&REFRESH_CONTEXT).bind(&hash.0[..]);
        let mut parts = sqlx::Executor::fetch_many(&self.pool, query);
        let (mut statement, mut token, mut session, mut user) = (0, None, None, None);
        while let Some(part) = parts.try_next().await.map_err(map_err)? {
            let row = match part {
                sqlx::Either::Left(_) => {
                    statement += 1;
                    continue;
                }
                sqlx::Either::Right(row) => row,
            };
            match statement {
                0 => token = Some(RefreshToken::try_from(decode::<RefreshTokenRow>(&row)?)?),
                1 => session = Some(Session::try_from(decode::<SessionRow>(&row)?)?),
                _ => user = Some(User::try_from(decode::<UserRow>(&row)?)?),
            }
        }
        Ok(token.map(|token| RefreshContext {
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
        self.committer
            .rotate(parent, successor, sealed, now, audit)
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
            .execute(&this.writer)
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
        .execute(&self.writer)
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
