//! Login: check the password (same cost for unknown users), start a session.

use authgate_proto::AuditKind;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::audit::{Origin, detail, event};
use crate::limits::{RetryAfter, address_bucket};

use super::register::truncate_to_millis;
use super::{AuthService, Tokens};
use crate::error::AuthError;
use crate::identity::Password;
use crate::model::{RefreshToken, Session, User};
use crate::secrets::{TokenHash, random_token};

/// Longest `User-Agent` kept with a session.
const MAX_USER_AGENT: usize = 256;

/// A login attempt.
#[derive(Debug)]
pub struct LoginRequest {
    /// Email or username, as typed.
    pub identifier: String,
    /// The password.
    pub password: Password,
    /// Short audience name; `None` is `default`.
    pub audience: Option<String>,
    /// Client address, for the session list.
    pub ip: Option<String>,
    /// Client `User-Agent`, for the session list.
    pub user_agent: Option<String>,
}

impl AuthService {
    /// Logs a user in: a new session, an access token and a refresh token.
    ///
    /// # Errors
    /// [`AuthError::InvalidInput`] for an unknown audience,
    /// [`AuthError::InvalidCredentials`] for an unknown user or a wrong
    /// password (indistinguishable, in body and in time),
    /// [`AuthError::AccountDisabled`] when the password was right but the
    /// account is disabled, store errors.
    pub async fn login(&self, req: LoginRequest) -> Result<(Tokens, User), AuthError> {
        let result = self.login_flow(req).await;
        let outcome = match &result {
            Ok(_) => "success",
            Err(AuthError::InvalidCredentials) => "invalid_credentials",
            Err(AuthError::AccountDisabled) => "account_disabled",
            Err(AuthError::RateLimited(_)) => "rate_limited",
            Err(AuthError::InvalidInput { .. }) => "invalid_request",
            Err(_) => "error",
        };
        metrics::counter!("authgate_logins_total", "outcome" => outcome).increment(1);
        result
    }

    async fn login_flow(&self, req: LoginRequest) -> Result<(Tokens, User), AuthError> {
        let audience = self.settings.audience(req.audience.as_deref())?.to_owned();
        let origin = Origin {
            ip: req.ip.as_deref().and_then(|ip| ip.parse().ok()),
            // Cut once: the session and every login record keep this copy.
            user_agent: req
                .user_agent
                .as_deref()
                .map(|ua| ua.chars().take(MAX_USER_AGENT).collect()),
        };
        // Every attempt from an address counts, whatever its outcome.
        if let Some(ip) = origin.ip.map(address_bucket)
            && let Err(RetryAfter(wait)) = self.deps.limiter.attempt_from(ip).await
        {
            self.audit_refusal(&format!("address:{ip}"), None, "address", &origin);
            return Err(AuthError::RateLimited(wait));
        }
        let login = req.identifier.trim().to_lowercase();
        let user = if login.is_empty() || login.len() > 254 {
            None
        } else {
            self.deps.users.user_by_login(&login).await?
        };
        // Failures count per account whichever identifier was typed; for
        // unknown users per identifier, so their answers look the same. The
        // identifier is hashed: a key of fixed size however long the typed
        // text (up to the 64 KiB body), and no typed emails kept in memory.
        let account = match &user {
            Some(user) => user.id.to_string(),
            None => format!(
                "{}{}",
                crate::limits::UNKNOWN_ACCOUNT_PREFIX,
                URL_SAFE_NO_PAD.encode(TokenHash::of(&login).0)
            ),
        };
        let attempt = match self.queues.begin(&self.deps.limiter, account.clone()).await {
            Ok(attempt) => attempt,
            Err(RetryAfter(wait)) => {
                self.audit_refusal(
                    &format!("account:{account}"),
                    user.as_ref().map(|u| u.id),
                    "account",
                    &origin,
                );
                return Err(AuthError::RateLimited(wait));
            }
        };
        // Unknown users are checked against a dummy hash: same time, same
        // answer. The hasher bounds the wait well inside the attempt's
        // reservation (password::MAX_WAIT), answering 503 beyond it.
        let verified = self
            .deps
            .hasher
            .verify(req.password, user.as_ref().map(|u| u.password_hash.clone()))
            .await?;
        let user = match user {
            Some(user) if verified.ok => user,
            other => {
                tracing::info!(reason = "bad_credentials", "login failed");
                attempt.failed().await;
                let reason = if other.is_some() {
                    "bad_password"
                } else {
                    "unknown_user"
                };
                self.audit_login(
                    AuditKind::LOGIN_FAILED,
                    other.map(|u| u.id),
                    reason,
                    &origin,
                );
                return Err(AuthError::InvalidCredentials);
            }
        };
        attempt.succeeded().await;
        if !user.is_active {
            tracing::info!(user_id = %user.id, reason = "disabled", "login failed");
            self.audit_login(AuditKind::LOGIN_FAILED, Some(user.id), "disabled", &origin);
            return Err(AuthError::AccountDisabled);
        }
        let now = truncate_to_millis(self.deps.clock.now());
        if let Some(new_hash) = &verified.rehash {
            // An upgrade that fails is retried at the next login; it must not fail this one.
            match self
                .deps
                .users
                .set_password_hash(user.id, &user.password_hash, new_hash, now)
                .await
            {
                Ok(true) => {
                    tracing::info!(user_id = %user.id, "password hash upgraded to current parameters")
                }
                Ok(false) => {
                    tracing::info!(user_id = %user.id, "password hash changed meanwhile; upgrade skipped")
                }
                Err(e) => {
                    tracing::warn!(user_id = %user.id, error = %e, "password hash upgrade failed")
                }
            }
        }
        let session = Session {
            id: Uuid::now_v7(),
            user_id: user.id,
            created_at: now,
            last_used_at: now,
            expires_at: now + self.settings.refresh_ttl,
            ip: req.ip,
            user_agent: origin.user_agent.clone(),
            audience,
            revoked_at: None,
        };
        let refresh_token = random_token()?;
        let first = RefreshToken {
            hash: TokenHash::of(&refresh_token),
            session_id: session.id,
            generation: 0,
            issued_at: now,
            used_at: None,
            successor: None,
            successor_sealed: None,
            expires_at: session.expires_at,
        };
        // The success is recorded with the session it created: one commit.
        let mut e = event(AuditKind::LOGIN_SUCCEEDED, self.deps.clock.now(), &origin);
        e.user_id = Some(user.id);
        e.session_id = Some(session.id);
        let created = self
            .deps
            .sessions
            .create_session_audited(&session, &first, self.in_transaction(&e))
            .await?;
        if !created {
            // Disabled (or deleted) after its record was read above.
            tracing::info!(user_id = %user.id, reason = "disabled", "login failed");
            self.audit_login(AuditKind::LOGIN_FAILED, Some(user.id), "disabled", &origin);
            return Err(AuthError::AccountDisabled);
        }
        let (access_token, expires_in) = self.issue_access_token(&user, &session)?;
        tracing::info!(user_id = %user.id, session_id = %session.id, "login succeeded");
        self.deps.audit.record_written(e);
        Ok((
            Tokens {
                access_token,
                expires_in,
                refresh_token,
                refresh_expires_in: (session.expires_at - now).whole_seconds(),
            },
            user,
        ))
    }

    /// Records a refused login (see [`RefusalThrottle`](crate::audit::RefusalThrottle)):
    /// the first per `key` each minute, with how many were left out before it.
    fn audit_refusal(&self, key: &str, user_id: Option<Uuid>, reason: &str, origin: &Origin) {
        let now = self.deps.clock.now();
        let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
        let admitted = self.refusals.admit(key, now_ms);
        if let Some(unreported) = self.refusals.take_unreported() {
            // Left out under addresses or accounts forgotten since: one
            // summary, without the origin of this refusal, which is not theirs.
            let mut e = event(AuditKind::LOGIN_RATE_LIMITED, now, &Origin::default());
            detail(&mut e, "reason", "summary");
            detail(&mut e, "suppressed", unreported.suppressed);
            detail(&mut e, "keys", unreported.keys);
            self.deps.audit.record(e);
        }
        let Some(left_out) = admitted else {
            return;
        };
        let mut e = event(AuditKind::LOGIN_RATE_LIMITED, now, origin);
        e.user_id = user_id;
        detail(&mut e, "reason", reason);
        if left_out > 0 {
            detail(&mut e, "suppressed", left_out);
        }
        self.deps.audit.record(e);
    }

    /// Records a login outcome; `reason` (empty for none) says why one failed.
    fn audit_login(&self, kind: AuditKind, user_id: Option<Uuid>, reason: &str, origin: &Origin) {
        let mut e = event(kind, self.deps.clock.now(), origin);
        e.user_id = user_id;
        if !reason.is_empty() {
            detail(&mut e, "reason", reason);
        }
        self.deps.audit.record(e);
    }
}
