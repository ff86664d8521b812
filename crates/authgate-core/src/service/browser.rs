//! Browser sessions: a login whose session is named by a cookie secret,
//! and the lookup of that session on each page, with its idle timeout.
//!
//! A browser session is an ordinary session row (it is listed, revoked and
//! ended by a disable like any other). Its id is derived from a 256-bit
//! random secret that only the browser holds (in a cookie): the id is a
//! domain-separated SHA-256 of the secret, cut to a UUID. So the store keeps
//! only a hash of the cookie (the session id itself), the cookie is looked up
//! by primary key, and knowing a session id (it is in tokens and audit
//! records) does not give the cookie.

use std::sync::Arc;

use authgate_proto::AuditKind;
use time::Duration;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::login::LoginOutcome;
use super::login::SessionShape;
use super::{AuthService, LoginAttempt, SessionCaller};
use crate::audit::{Origin, detail, event};
use crate::error::AuthError;
use crate::model::{Session, User};
use crate::secrets::{TokenHash, random_token};

/// How often a browser session's `last_used_at` is written: activity is
/// known to this precision, and a busy page costs no write per request.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// Length of a cookie secret (256 bits, base64url without padding).
const SECRET_LEN: usize = 43;

/// A browser login: the cookie secret of the new session, and what the
/// login issued.
pub struct BrowserLogin {
    /// The cookie value: 256 random bits, base64url. Never stored or logged.
    pub secret: Zeroizing<String>,
    /// The session it names.
    pub session_id: Uuid,
    /// The access token the login issued for the session (the server shows
    /// its claims on the account page; the browser never receives it).
    pub access_token: String,
    /// Who logged in.
    pub user: User,
}

impl std::fmt::Debug for BrowserLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserLogin")
            .field("session_id", &self.session_id)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// What a browser's right password leads to: the session, or the step
/// asking for a second-factor code.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "returned once per login and moved straight into a response, never stored"
)]
pub enum BrowserOutcome {
    /// Logged in.
    LoggedIn(BrowserLogin),
    /// A code must follow ([`AuthService::finish_browser_mfa_login`]).
    MfaRequired(super::mfa_login::MfaPending),
}

/// The browser login of a new session named by `secret`.
pub(super) fn browser_login_of(
    secret: Zeroizing<String>,
    session_id: Uuid,
    tokens: super::Tokens,
    user: User,
) -> BrowserLogin {
    // The session's refresh token is never handed out: a browser session
    // is continued by its cookie, not by rotation.
    drop(tokens.refresh_token);
    BrowserLogin {
        secret,
        session_id,
        access_token: tokens.access_token,
        user,
    }
}

/// A live browser session and its user, as read for one request.
#[derive(Debug, Clone)]
pub struct BrowserSession {
    /// The user, with current roles (not those at login).
    pub user: Arc<User>,
    /// The session row.
    pub session: Arc<Session>,
}

impl BrowserSession {
    /// The session's user as a [`SessionCaller`], for the calls a page makes
    /// on the user's behalf (logout, revoking a session). It carries no token.
    pub fn caller(&self) -> SessionCaller {
        SessionCaller {
            user_id: self.user.id,
            session_id: self.session.id,
            roles: self.user.roles.clone(),
            token_id: String::new(),
        }
    }
}

/// The session id a cookie secret names.
pub fn browser_session_id(secret: &str) -> Uuid {
    let hash = TokenHash::of(&format!("authgate browser session\0{secret}"));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash.0[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

impl AuthService {
    /// Logs in for a browser: as [`login`](Self::login), with the same
    /// limits, checks and audit records, into a session of `lifetime` whose
    /// id is derived from a fresh cookie secret (a new one at every login:
    /// no session fixation).
    ///
    /// # Errors
    /// As [`login`](Self::login).
    pub async fn browser_login(
        &self,
        attempt: LoginAttempt,
        origin: &Origin,
        lifetime: Duration,
    ) -> Result<BrowserOutcome, AuthError> {
        let secret = random_token()?;
        let id = browser_session_id(&secret);
        let shape = SessionShape {
            id,
            lifetime,
            browser: true,
        };
        match self.login_as(attempt, origin, shape).await? {
            LoginOutcome::LoggedIn(tokens, user) => Ok(BrowserOutcome::LoggedIn(browser_login_of(
                secret, id, tokens, user,
            ))),
            LoginOutcome::MfaRequired(pending) => Ok(BrowserOutcome::MfaRequired(pending)),
        }
    }

    /// The live browser session `secret` names, or `None` when there is
    /// none: unknown, revoked, past its absolute end, idle for longer than
    /// `idle` (then it is revoked, and recorded), or its user disabled.
    /// Activity moves the idle clock at most once every minute.
    ///
    /// # Errors
    /// Store errors (the page answers 503: a session that cannot be
    /// checked is not trusted).
    pub async fn browser_session(
        &self,
        secret: &str,
        idle: Duration,
    ) -> Result<Option<BrowserSession>, AuthError> {
        if secret.len() != SECRET_LEN {
            return Ok(None);
        }
        let sid = browser_session_id(secret);
        if self.deps.revocations.is_session_revoked(&sid) {
            return Ok(None);
        }
        let now = self.deps.clock.now();
        let Some(session) = self.session_record(sid).await? else {
            return Ok(None);
        };
        if !session.is_live(now) {
            return Ok(None);
        }
        if now - session.last_used_at > idle {
            self.end_idle_session(&session).await?;
            return Ok(None);
        }
        let Some(user) = self.user_record(session.user_id).await? else {
            return Ok(None);
        };
        if !user.is_active {
            return Ok(None);
        }
        if now - session.last_used_at >= TOUCH_EVERY {
            self.deps.sessions.touch_session(sid, now).await?;
            self.deps.records.forget_session(&sid);
        }
        Ok(Some(BrowserSession { user, session }))
    }

    /// Revokes a session that stayed idle past its timeout, recording why.
    async fn end_idle_session(&self, session: &Session) -> Result<(), AuthError> {
        let now = self.deps.clock.now();
        let mut e = event(AuditKind::SESSION_REVOKED, now, &Origin::default());
        e.user_id = Some(session.user_id);
        e.session_id = Some(session.id);
        detail(&mut e, "reason", "idle");
        if self
            .deps
            .sessions
            .revoke_session_audited(session.id, now, self.in_transaction(&e))
            .await?
        {
            self.remember_revoked(session.id);
            super::count_revocations("session", 1);
            self.deps.audit.record_written(e);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_id_is_a_stable_custom_uuid_of_its_secret() {
        let a = browser_session_id("one");
        assert_eq!(a, browser_session_id("one"));
        assert_ne!(a, browser_session_id("two"));
        assert_eq!(a.get_version_num(), 8);
        // Not the plain hash of the secret that a refresh token would be.
        assert_ne!(&TokenHash::of("one").0[..16], a.as_bytes());
    }
}
