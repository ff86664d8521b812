//! The authenticated caller, and what it may do with its own sessions: /me, logout, list, revoke.

use std::str::FromStr;
use std::sync::Arc;

use authgate_proto::AccessClaims;
use authgate_proto::AuditKind;
use uuid::Uuid;

use crate::audit::{Origin, detail, event};

use super::AuthService;
use crate::error::AuthError;
use crate::model::{Session, User};
use crate::store::SessionCursor;

/// The caller of an authenticated request: a user's verified access token
/// whose session is live (unlike the guard's `Principal`, which any
/// verified token makes, without a session check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCaller {
    /// The user (`sub`).
    pub user_id: Uuid,
    /// The session (`sid`).
    pub session_id: Uuid,
    /// Roles at issue time.
    pub roles: Vec<String>,
    /// The token's `jti`.
    pub token_id: String,
}

/// What a logout ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutScope {
    /// The caller's session, and the session of this refresh token if it is also the caller's.
    Current {
        /// An optional refresh token sent with the logout.
        refresh_token: Option<String>,
    },
    /// Every session of the user.
    All,
}

impl AuthService {
    /// Turns verified claims into a [`SessionCaller`], refusing revoked sessions.
    ///
    /// Signature, time, issuer, audience and type were checked by the
    /// verifier; this adds what only the auth server knows. Revocations made
    /// through this process are seen at once (the in-process list); those
    /// made by anyone else sharing the store (another instance, `authgate
    /// user disable`) within [`FRESH_FOR`](crate::FRESH_FOR): the session row is read
    /// again at most that often per session. If the store cannot be read,
    /// issued tokens keep verifying (docs/architecture.md: a database outage must not
    /// log everyone out). Tokens without a session (client tokens) or with a
    /// non-UUID subject are not user tokens: `None`, like revoked ones.
    pub async fn authenticate(&self, claims: &AccessClaims) -> Option<SessionCaller> {
        match self.authenticate_strictly(claims).await {
            Ok(caller) => caller,
            Err(e) => {
                tracing::warn!(error = %e, "session check failed; trusting the token meanwhile");
                Self::session_caller(claims)
            }
        }
    }

    /// As [`authenticate`](Self::authenticate), but a session that cannot
    /// be read is an error rather than trusted: for callers that grant more
    /// than the token holder's own data (administration, revocation).
    ///
    /// # Errors
    /// Store errors.
    pub async fn authenticate_strictly(
        &self,
        claims: &AccessClaims,
    ) -> Result<Option<SessionCaller>, AuthError> {
        let Some(caller) = Self::session_caller(claims) else {
            return Ok(None);
        };
        let sid = caller.session_id;
        if self.deps.revocations.is_session_revoked(&sid)
            || self.deps.revocations.is_token_revoked(&claims.jti)
        {
            return Ok(None);
        }
        let now = self.deps.clock.now();
        match self.session_record(sid).await? {
            Some(session) if session.is_live(now) && session.user_id == caller.user_id => {
                Ok(Some(caller))
            }
            _ => {
                self.remember_revoked(sid);
                Ok(None)
            }
        }
    }

    /// The caller the claims name, if they are a user token's. A token
    /// issued to an OpenID Connect relying party (a session *and* a
    /// `client_id`) is the relying party's, not the user's: authgate's own
    /// API refuses it (it serves `GET /oauth/userinfo` only).
    fn session_caller(claims: &AccessClaims) -> Option<SessionCaller> {
        if claims.client_id.is_some() {
            return None;
        }
        Some(SessionCaller {
            session_id: claims.sid?,
            user_id: Uuid::from_str(&claims.sub).ok()?,
            roles: claims.roles.clone(),
            token_id: claims.jti.clone(),
        })
    }

    /// The caller's user record and current session (`GET /me`).
    ///
    /// # Errors
    /// [`AuthError::NotFound`] when the user or session is gone or the session
    /// is no longer live (the server answers `invalid_token`); store errors.
    pub async fn me(&self, who: &SessionCaller) -> Result<(User, Session), AuthError> {
        let now = self.deps.clock.now();
        let session = self.session_record(who.session_id).await?;
        let user = self.user_record(who.user_id).await?;
        match (user, session) {
            (Some(user), Some(session))
                if user.is_active && session.is_live(now) && session.user_id == user.id =>
            {
                Ok((User::clone(&user), Session::clone(&session)))
            }
            _ => Err(AuthError::NotFound),
        }
    }

    /// The session, from the record cache when fresh, else from the store.
    pub(super) async fn session_record(
        &self,
        sid: Uuid,
    ) -> Result<Option<Arc<Session>>, AuthError> {
        let now_ms = self.now_ms();
        if let Some(session) = self.deps.records.fresh_session(&sid, now_ms) {
            return Ok(Some(session));
        }
        let session = self.deps.sessions.session(sid).await?.map(Arc::new);
        if let Some(session) = &session {
            self.deps.records.put_session(Arc::clone(session), now_ms);
        }
        Ok(session)
    }

    /// The user, from the record cache when fresh, else from the store.
    pub(super) async fn user_record(&self, id: Uuid) -> Result<Option<Arc<User>>, AuthError> {
        let now_ms = self.now_ms();
        if let Some(user) = self.deps.records.fresh_user(&id, now_ms) {
            return Ok(Some(user));
        }
        let user = self.deps.users.user_by_id(id).await?.map(Arc::new);
        if let Some(user) = &user {
            self.deps.records.put_user(Arc::clone(user), now_ms);
        }
        Ok(user)
    }

    pub(super) fn now_ms(&self) -> i64 {
        (self.deps.clock.now().unix_timestamp_nanos() / 1_000_000) as i64
    }

    /// Logs out: revokes the caller's session (or all of the user's).
    ///
    /// # Errors
    /// Store errors.
    pub async fn logout(
        &self,
        who: &SessionCaller,
        scope: LogoutScope,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        let now = self.deps.clock.now();
        let all = matches!(scope, LogoutScope::All);
        let mut e = event(AuditKind::LOGOUT, now, origin);
        e.user_id = Some(who.user_id);
        e.session_id = Some(who.session_id);
        detail(&mut e, "all", all);
        let revoked = match scope {
            LogoutScope::All => {
                self.deps
                    .sessions
                    .revoke_user_sessions_audited(who.user_id, now, self.in_transaction(&e))
                    .await?
            }
            LogoutScope::Current { refresh_token } => {
                let mut ids = vec![who.session_id];
                if let Some(token) = refresh_token.filter(|t| !t.is_empty() && t.len() <= 512) {
                    let record = self
                        .deps
                        .sessions
                        .refresh_token(&crate::secrets::TokenHash::of(&token))
                        .await?;
                    if let Some(record) = record
                        && self.owns(who, record.session_id).await?
                    {
                        ids.push(record.session_id);
                    }
                }
                // Both sessions and the logout's record (with the caller's
                // own session) in one transaction: a failure part-way
                // revokes neither, so a retry finds both still to end.
                self.deps
                    .sessions
                    .revoke_sessions_audited(&ids, now, self.in_transaction(&e))
                    .await?;
                ids
            }
        };
        // The caller's session is refused from now on even if the store no
        // longer counted it as live (then it is not among the revoked ones).
        let mut revoked = revoked;
        if !revoked.contains(&who.session_id) {
            revoked.push(who.session_id);
        }
        for sid in &revoked {
            self.remember_revoked(*sid);
        }
        tracing::info!(user_id = %who.user_id, sessions = revoked.len(), "logout");
        super::count_revocations("session", revoked.len());
        self.deps.audit.record_written(e);
        Ok(())
    }

    /// The caller's live sessions, newest first.
    ///
    /// # Errors
    /// Store errors.
    pub async fn sessions(&self, who: &SessionCaller) -> Result<Vec<Session>, AuthError> {
        Ok(self
            .deps
            .sessions
            .live_sessions(who.user_id, self.deps.clock.now())
            .await?)
    }

    /// One page of the caller's live sessions, newest first: at most
    /// `limit` after `after`, and the cursor of the next page (`None` on
    /// the last).
    ///
    /// # Errors
    /// Store errors.
    pub async fn sessions_page(
        &self,
        who: &SessionCaller,
        after: Option<SessionCursor>,
        limit: u32,
    ) -> Result<(Vec<Session>, Option<SessionCursor>), AuthError> {
        let limit = limit.max(1);
        let mut sessions = self
            .deps
            .sessions
            .live_sessions_page(
                who.user_id,
                self.deps.clock.now(),
                after,
                limit.saturating_add(1),
            )
            .await?;
        // One more than asked tells whether another page follows.
        let more = sessions.len() > limit as usize;
        sessions.truncate(limit as usize);
        let next = if more {
            sessions.last().map(SessionCursor::after)
        } else {
            None
        };
        Ok((sessions, next))
    }

    /// Revokes one of the caller's sessions.
    ///
    /// # Errors
    /// [`AuthError::NotFound`] when it does not exist or is someone else's; store errors.
    pub async fn revoke_own_session(
        &self,
        who: &SessionCaller,
        sid: Uuid,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        if !self.owns(who, sid).await? {
            return Err(AuthError::NotFound);
        }
        let now = self.deps.clock.now();
        let mut e = event(AuditKind::SESSION_REVOKED, now, origin);
        e.user_id = Some(who.user_id);
        e.actor_id = Some(who.user_id.to_string());
        e.session_id = Some(sid);
        detail(&mut e, "reason", "user");
        self.deps
            .sessions
            .revoke_session_audited(sid, now, self.in_transaction(&e))
            .await?;
        self.remember_revoked(sid);
        tracing::info!(user_id = %who.user_id, session_id = %sid, "session revoked");
        super::count_revocations("session", 1);
        self.deps.audit.record_written(e);
        Ok(())
    }

    async fn owns(&self, who: &SessionCaller, sid: Uuid) -> Result<bool, AuthError> {
        Ok(self
            .deps
            .sessions
            .session(sid)
            .await?
            .is_some_and(|s| s.user_id == who.user_id))
    }
}
