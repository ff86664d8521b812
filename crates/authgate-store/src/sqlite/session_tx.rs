//! The session writes' statements on SQLite: [`SessionTx`] on this
//! backend's transaction, for the steps in `common::sessions`.

use async_trait::async_trait;
use authgate_core::{ClientGrant, RefreshToken, Session, StoreError, StoreResult, TokenHash};
use authgate_proto::AuditEvent;
use sqlx::{Sqlite, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use super::audit::bind_event;
use super::codec::{micros, micros_opt, uuid_text};
use super::error::map_err;
use super::sessions::session_ids;
use crate::common::sessions::SessionTx;
use crate::common::{
    PURGE_REVOKED_TOKENS, PURGE_SESSIONS, REVOKE_OTHER_SESSIONS, REVOKE_SESSION, REVOKE_TOKEN,
    REVOKE_USER_SESSIONS, SET_PASSWORD_HASH,
};

/// The statements of a rotation, sent to SQLite's connection thread as one
/// query (a thread hop per statement was most of a refresh's cost): the
/// claim (the compare-and-swap of [`crate::common::CLAIM_PARENT`], and only
/// for the successor's session, `$5`), then, each only when the statement
/// before it changed its row (`changes()`), the successor's row and the
/// session's `last_used_at`. The statements share the numbered parameters.
/// The session is looked up by its key: an `IN (SELECT id FROM sessions
/// WHERE …)` here made SQLite list every live session on each refresh.
macro_rules! rotate_steps {
    () => {
        "UPDATE refresh_tokens SET used_at = $1, successor = $2, successor_sealed = $3 \
         WHERE hash = $4 AND used_at IS NULL AND expires_at > $1 AND session_id = $5 \
           AND EXISTS (SELECT 1 FROM sessions \
                       WHERE id = $5 AND revoked_at IS NULL AND expires_at > $1); \
         INSERT INTO refresh_tokens (hash, session_id, generation, issued_at, used_at, \
                                     successor, successor_sealed, expires_at) \
           SELECT $2, $5, $6, $7, $8, $9, $10, $11 WHERE changes() = 1; \
         UPDATE sessions SET last_used_at = $1 WHERE id = $5 AND changes() = 1;"
    };
}

/// A rotation's statements: see [`rotate_steps`].
const ROTATE: &str = rotate_steps!();

/// A rotation's statements and then its audit record, `$12`… in
/// [`bind_event`]'s order, also only when the statement before changed a row.
const ROTATE_AUDITED: &str = concat!(
    rotate_steps!(),
    " INSERT INTO audit_events \
       (id, at, kind, user_id, actor_id, client_id, session_id, ip, user_agent, details) \
       SELECT $12, $13, $14, $15, $16, $17, $18, $19, $20, $21 WHERE changes() = 1;"
);

/// The statements of a new session, sent as one query like a rotation's
/// ([`rotate_steps`]): the session's row only if its user exists and is
/// enabled, then, each only when the statement before inserted its row,
/// the first refresh token (`$14`…) and the audit record (`$22`…).
macro_rules! create_steps {
    () => {
        "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, ip, \
                               user_agent, audience, revoked_at, oidc_client_id, oidc_scope, \
                               oidc_sid, oidc_auth_time) \
           SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 \
           WHERE EXISTS (SELECT 1 FROM users WHERE id = $2 AND is_active = 1); \
         INSERT INTO refresh_tokens (hash, session_id, generation, issued_at, used_at, \
                                     successor, successor_sealed, expires_at) \
           SELECT $14, $1, $15, $16, $17, $18, $19, $20 WHERE changes() = 1;"
    };
}

/// A new session's statements: see [`create_steps`].
const CREATE: &str = create_steps!();

/// A new session's statements and then its audit record, `$21`… in
/// [`bind_event`]'s order, only when the statement before inserted a row.
const CREATE_AUDITED: &str = concat!(
    create_steps!(),
    " INSERT INTO audit_events \
       (id, at, kind, user_id, actor_id, client_id, session_id, ip, user_agent, details) \
       SELECT $21, $22, $23, $24, $25, $26, $27, $28, $29, $30 WHERE changes() = 1;"
);

/// `SessionStore::create_session_audited` inside `tx` (the group
/// committer's) in one query: `session`, its `first` refresh token and
/// `audit`, or nothing (false) when the user is unknown or disabled. Under
/// the write lock taken at `BEGIN`, no disable can interleave.
///
/// # Errors
/// The backend's (a taken session id or token hash); nothing is inserted.
pub(super) async fn create_session_in(
    tx: &mut Transaction<'static, Sqlite>,
    session: &Session,
    first: &RefreshToken,
    audit: Option<&AuditEvent>,
) -> StoreResult<bool> {
    let grant = session.client.as_ref();
    let query = sqlx::query(if audit.is_some() {
        CREATE_AUDITED
    } else {
        CREATE
    })
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
    .bind(&first.hash.0[..])
    .bind(first.generation)
    .bind(micros(first.issued_at)?)
    .bind(micros_opt(first.used_at)?)
    .bind(first.successor.as_ref().map(|h| h.0.to_vec()))
    .bind(first.successor_sealed.clone())
    .bind(micros(first.expires_at)?);
    let query = match audit {
        Some(event) => bind_event(query, event)?,
        None => query,
    };
    let inserted = query
        .execute(&mut **tx)
        .await
        .map_err(map_err)?
        .rows_affected();
    // Each statement inserts one row when the user is enabled, none otherwise.
    match (inserted, audit.is_some()) {
        (0, _) => Ok(false),
        (2, false) | (3, true) => Ok(true),
        _ => Err(StoreError::Other(format!(
            "a new session inserted {inserted} rows"
        ))),
    }
}

#[async_trait]
impl SessionTx for Transaction<'static, Sqlite> {
    async fn rotate(
        &mut self,
        parent: &TokenHash,
        successor: &RefreshToken,
        sealed: &[u8],
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool> {
        // Inside BEGIN IMMEDIATE (a group's, `group_commit`): each claim sees
        // the used_at of every rotation before it, and under the write lock
        // nothing can revoke the session between the claim and the
        // session's update, so the claim's check holds for both. A parent
        // of another session than the successor's claims nothing.
        let query = sqlx::query(if audit.is_some() {
            ROTATE_AUDITED
        } else {
            ROTATE
        })
        .bind(micros(now)?)
        .bind(&successor.hash.0[..])
        .bind(sealed)
        .bind(&parent.0[..])
        .bind(uuid_text(successor.session_id))
        .bind(successor.generation)
        .bind(micros(successor.issued_at)?)
        .bind(micros_opt(successor.used_at)?)
        .bind(successor.successor.as_ref().map(|h| h.0.to_vec()))
        .bind(successor.successor_sealed.clone())
        .bind(micros(successor.expires_at)?);
        let query = match audit {
            Some(event) => bind_event(query, event)?,
            None => query,
        };
        let changed = query
            .execute(&mut **self)
            .await
            .map_err(map_err)?
            .rows_affected();
        // Each statement changes one row when the claim won, none when it lost.
        match (changed, audit.is_some()) {
            (0, _) => Ok(false),
            (3, false) | (4, true) => Ok(true),
            _ => Err(StoreError::Other(format!(
                "a rotation changed {changed} rows"
            ))),
        }
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

    async fn revoke_other_sessions(
        &mut self,
        user_id: Uuid,
        keep: Uuid,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<Uuid>> {
        let ids: Vec<String> = sqlx::query_scalar(REVOKE_OTHER_SESSIONS)
            .bind(uuid_text(user_id))
            .bind(micros(now)?)
            .bind(uuid_text(keep))
            .fetch_all(&mut **self)
            .await
            .map_err(map_err)?;
        session_ids(&ids)
    }

    async fn set_password_hash(
        &mut self,
        user_id: Uuid,
        current: &str,
        hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let done = sqlx::query(SET_PASSWORD_HASH)
            .bind(uuid_text(user_id))
            .bind(hash)
            .bind(micros(now)?)
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
