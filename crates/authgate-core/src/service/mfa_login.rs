//! The second step of a login for an account with a TOTP factor: after the
//! right password, an opaque `mfa_token` (256 random bits, stored only as
//! a hash, five minutes, a few attempts, single use, bound to the user and
//! to the kind of login, API or browser) that a code turns into the session.
//!
//! The token is no JWT and no session: the guard and every other route
//! refuse it, and it names nothing but the pending step.

use time::Duration;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::browser::{BrowserLogin, browser_login_of, browser_session_id};
use super::login::SessionShape;
use super::{AuthService, Tokens};
use crate::audit::Origin;
use crate::clock::truncate_to_millis;
use crate::error::AuthError;
use crate::mfa_store::{MfaChallenge, TotpFactor};
use crate::model::User;
use crate::secrets::{TokenHash, random_token};

/// How long the second step waits for its code after the password.
pub const MFA_TOKEN_TTL: Duration = Duration::minutes(5);

/// Codes one `mfa_token` may be tried with before it is worn out (each
/// also counts toward the account's limits).
pub const MFA_TOKEN_ATTEMPTS: u32 = 5;

/// A login waiting for its second factor: the token that continues it,
/// shown once to the client that typed the password.
pub struct MfaPending {
    /// The opaque `mfa_token`; never stored (its hash is), never logged.
    pub token: Zeroizing<String>,
    /// Seconds until it expires.
    pub expires_in: i64,
}

impl std::fmt::Debug for MfaPending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaPending")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

impl AuthService {
    /// Whether the user has a confirmed second factor (logins ask for a code).
    pub(super) async fn has_second_factor(&self, user_id: Uuid) -> Result<bool, AuthError> {
        Ok(self
            .deps
            .mfa
            .totp_factor(user_id)
            .await?
            .is_some_and(|f| f.confirmed_at.is_some()))
    }

    /// Stores the second step of `user`'s login and returns its token.
    pub(super) async fn open_mfa_challenge(
        &self,
        user: &User,
        audience: String,
        browser: bool,
        origin: &Origin,
    ) -> Result<MfaPending, AuthError> {
        let token = random_token()?;
        let now = truncate_to_millis(self.deps.clock.now());
        let challenge = MfaChallenge {
            hash: TokenHash::of(&token),
            user_id: user.id,
            audience,
            browser,
            created_at: now,
            expires_at: now + MFA_TOKEN_TTL,
        };
        self.deps.mfa.insert_mfa_challenge(&challenge).await?;
        tracing::info!(user_id = %user.id, ip = ?origin.ip, "password accepted; second factor required");
        Ok(MfaPending {
            token,
            expires_in: MFA_TOKEN_TTL.whole_seconds(),
        })
    }

    /// Finishes an API login with a TOTP code (±1 step, never one already
    /// used) or an unused recovery code: the same tokens and user as a
    /// login without a second factor.
    ///
    /// # Errors
    /// [`AuthError::InvalidMfaToken`] for an unknown, expired, used or worn
    /// out token (or a browser's); [`AuthError::InvalidMfaCode`] for a
    /// wrong, expired or replayed code (counted toward the account's
    /// limits); [`AuthError::RateLimited`]; [`AuthError::AccountDisabled`]
    /// when the account was disabled meanwhile; store errors.
    pub async fn finish_mfa_login(
        &self,
        mfa_token: &str,
        code: &str,
        origin: &Origin,
    ) -> Result<(Tokens, User), AuthError> {
        let shape = SessionShape {
            id: Uuid::now_v7(),
            lifetime: self.settings.refresh_ttl,
            browser: false,
        };
        self.finish_as(mfa_token, code, origin, shape).await
    }

    /// [`finish_mfa_login`](Self::finish_mfa_login) for a browser: a new
    /// cookie-named session of `lifetime`.
    ///
    /// # Errors
    /// As [`finish_mfa_login`](Self::finish_mfa_login) (an API login's
    /// token is refused here).
    pub async fn finish_browser_mfa_login(
        &self,
        mfa_token: &str,
        code: &str,
        origin: &Origin,
        lifetime: Duration,
    ) -> Result<BrowserLogin, AuthError> {
        let secret = random_token()?;
        let id = browser_session_id(&secret);
        let shape = SessionShape {
            id,
            lifetime,
            browser: true,
        };
        let (tokens, user) = self.finish_as(mfa_token, code, origin, shape).await?;
        Ok(browser_login_of(secret, id, tokens, user))
    }

    /// The second step, into a session of `shape`.
    async fn finish_as(
        &self,
        mfa_token: &str,
        code: &str,
        origin: &Origin,
        shape: SessionShape,
    ) -> Result<(Tokens, User), AuthError> {
        let result = self.finish_flow(mfa_token, code, origin, shape).await;
        let outcome = match &result {
            Ok(_) => "success",
            Err(AuthError::InvalidMfaCode) => "invalid_code",
            Err(AuthError::InvalidMfaToken) => "invalid_token",
            Err(AuthError::RateLimited(_)) => "rate_limited",
            Err(_) => "error",
        };
        metrics::counter!("authgate_mfa_logins_total", "outcome" => outcome).increment(1);
        result
    }

    /// The second step, each check returning early with its refusal.
    async fn finish_flow(
        &self,
        mfa_token: &str,
        code: &str,
        origin: &Origin,
        shape: SessionShape,
    ) -> Result<(Tokens, User), AuthError> {
        let (challenge, user, factor) = self.claim_challenge(mfa_token, shape.browser).await?;
        self.check_code(&user, &factor, code, "login", origin)
            .await?;
        if !self.deps.mfa.take_mfa_challenge(&challenge.hash).await? {
            // Another request finished this login first.
            return Err(AuthError::InvalidMfaToken);
        }
        let now = truncate_to_millis(self.deps.clock.now());
        self.start_session(user, challenge.audience, origin, now, shape)
            .await
    }

    /// The live challenge `mfa_token` names (one more attempt counted on
    /// it), its user (still enabled) and confirmed factor.
    async fn claim_challenge(
        &self,
        mfa_token: &str,
        browser: bool,
    ) -> Result<(MfaChallenge, User, TotpFactor), AuthError> {
        let hash = TokenHash::of(mfa_token);
        let now = self.deps.clock.now();
        let challenge = self
            .deps
            .mfa
            .attempt_mfa_challenge(&hash, now, MFA_TOKEN_ATTEMPTS)
            .await?
            .filter(|c| c.browser == browser)
            .ok_or(AuthError::InvalidMfaToken)?;
        let user = self
            .deps
            .users
            .user_by_id(challenge.user_id)
            .await?
            .ok_or(AuthError::InvalidMfaToken)?;
        if !user.is_active {
            return Err(AuthError::AccountDisabled);
        }
        // A factor reset or disabled since the password: start again.
        let factor = self
            .deps
            .mfa
            .totp_factor(user.id)
            .await?
            .filter(|f| f.confirmed_at.is_some())
            .ok_or(AuthError::InvalidMfaToken)?;
        Ok((challenge, user, factor))
    }
}
