//! Login: check the password (same cost for unknown users), start a session.

use uuid::Uuid;

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
        let audience = self.settings.audience(req.audience.as_deref())?.to_owned();
        let login = req.identifier.trim().to_lowercase();
        let user = if login.is_empty() || login.len() > 254 {
            None
        } else {
            self.deps.users.user_by_login(&login).await?
        };
        // Unknown users are checked against a dummy hash: same time, same answer.
        let verified = self
            .deps
            .hasher
            .verify(req.password, user.as_ref().map(|u| u.password_hash.clone()))
            .await?;
        let user = match user {
            Some(user) if verified.ok => user,
            _ => {
                tracing::info!(reason = "bad_credentials", "login failed");
                return Err(AuthError::InvalidCredentials);
            }
        };
        if !user.is_active {
            tracing::info!(user_id = %user.id, reason = "disabled", "login failed");
            return Err(AuthError::AccountDisabled);
        }
        let now = truncate_to_millis(self.deps.clock.now());
        if let Some(new_hash) = &verified.rehash {
            // An upgrade that fails is retried at the next login; it must not fail this one.
            match self
                .deps
                .users
                .set_password_hash(user.id, new_hash, now)
                .await
            {
                Ok(()) => {
                    tracing::info!(user_id = %user.id, "password hash upgraded to current parameters")
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
            user_agent: req
                .user_agent
                .map(|ua| ua.chars().take(MAX_USER_AGENT).collect()),
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
        self.deps.sessions.create_session(&session, &first).await?;
        let (access_token, expires_in) = self.issue_access_token(&user, &session)?;
        tracing::info!(user_id = %user.id, session_id = %session.id, "login succeeded");
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
}
