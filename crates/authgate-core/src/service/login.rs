//! Login: check the password (same cost for unknown users), start a session.

use authgate_proto::AuditKind;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::audit::{Origin, detail, event};
use crate::limits::{AccountKey, RetryAfter, address_bucket};

use super::AuthService;
use super::Tokens;
use super::attempts::InFlight;
use crate::clock::truncate_to_millis;
use crate::error::AuthError;
use crate::identity::{LoginName, Password};
use crate::model::{RefreshToken, Session, User};
use crate::secrets::{TokenHash, random_token};

/// A login attempt: what the user typed. Where it came from is the
/// [`Origin`] passed beside it, as for every other service call.
#[derive(Debug)]
pub struct LoginAttempt {
    /// Email or username, as typed.
    pub identifier: String,
    /// The password.
    pub password: Password,
    /// Short audience name; `None` is `default`.
    pub audience: Option<String>,
}

/// The id and lifetime of the session a login creates.
#[derive(Debug, Clone, Copy)]
pub(super) struct SessionShape {
    /// The session id.
    pub(super) id: Uuid,
    /// From login to its absolute end.
    pub(super) lifetime: Duration,
    /// Whether it is a browser's session (named by a cookie secret): the
    /// second step of its login, if any, finishes only as a browser's.
    pub(super) browser: bool,
}

/// What a right password leads to: the session, or (for an account with a
/// second factor) the step that asks for a code.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "returned once per login and moved straight into a response, never stored"
)]
pub enum LoginOutcome {
    /// Logged in: the tokens and the user.
    LoggedIn(Tokens, User),
    /// The password was right; a code must follow (`POST /auth/login/mfa`).
    MfaRequired(super::mfa_login::MfaPending),
}

impl AuthService {
    /// Logs a user in: a new session, an access token and a refresh token;
    /// or, when the account has a second factor, the step asking for a code
    /// ([`LoginOutcome::MfaRequired`]), the session only after it.
    ///
    /// # Errors
    /// [`AuthError::InvalidInput`] for an unknown audience or an identifier
    /// holding control, format or bidi characters (naming `email`),
    /// [`AuthError::InvalidCredentials`] for an unknown user or a wrong
    /// password (indistinguishable, in body and in time),
    /// [`AuthError::AccountDisabled`] when the password was right but the
    /// account is disabled, [`AuthError::EmailNotVerified`] when it was
    /// right but `auth.require_verified_email` holds the account back,
    /// store errors.
    pub async fn login(
        &self,
        attempt: LoginAttempt,
        origin: &Origin,
    ) -> Result<LoginOutcome, AuthError> {
        let shape = SessionShape {
            id: Uuid::now_v7(),
            lifetime: self.settings.refresh_ttl,
            browser: false,
        };
        self.login_as(attempt, origin, shape).await
    }

    /// [`login`](Self::login) into a session of the given id and lifetime.
    pub(super) async fn login_as(
        &self,
        attempt: LoginAttempt,
        origin: &Origin,
        shape: SessionShape,
    ) -> Result<LoginOutcome, AuthError> {
        let result = self.login_flow(attempt, origin, shape).await;
        let outcome = match &result {
            Ok(LoginOutcome::LoggedIn(..)) => "success",
            Ok(LoginOutcome::MfaRequired(_)) => "mfa_required",
            Err(AuthError::InvalidCredentials) => "invalid_credentials",
            Err(AuthError::AccountDisabled) => "account_disabled",
            Err(AuthError::EmailNotVerified) => "email_not_verified",
            Err(AuthError::RateLimited(_)) => "rate_limited",
            Err(AuthError::InvalidInput { .. }) => "invalid_request",
            Err(_) => "error",
        };
        metrics::counter!("authgate_logins_total", "outcome" => outcome).increment(1);
        result
    }

    /// The login, step by step; each step returns early with its refusal.
    async fn login_flow(
        &self,
        attempt: LoginAttempt,
        origin: &Origin,
        shape: SessionShape,
    ) -> Result<LoginOutcome, AuthError> {
        let audience = self
            .settings
            .audience(attempt.audience.as_deref())?
            .to_owned();
        self.count_address_attempt(origin).await?;
        let login = LoginName::parse("email", &attempt.identifier)?;
        let user = if login.could_match() {
            self.deps.users.user_by_login(login.as_str()).await?
        } else {
            None
        };
        let in_flight = self
            .begin_account_attempt(&login, user.as_ref(), origin)
            .await?;
        self.include_stored_hash_costs().await;
        let (user, rehash) = self
            .check_password(attempt.password, user, in_flight, origin)
            .await?;
        let now = truncate_to_millis(self.deps.clock.now());
        if let Some(new_hash) = rehash {
            self.upgrade_password_hash(&user, &new_hash, now).await;
        }
        if self.has_second_factor(user.id).await? {
            let pending = self
                .open_mfa_challenge(&user, audience, shape.browser, origin)
                .await?;
            return Ok(LoginOutcome::MfaRequired(pending));
        }
        let (tokens, user) = self
            .start_session(user, audience, origin, now, shape)
            .await?;
        Ok(LoginOutcome::LoggedIn(tokens, user))
    }

    /// Every attempt from an address counts, whatever its outcome.
    pub(super) async fn count_address_attempt(&self, origin: &Origin) -> Result<(), AuthError> {
        if let Some(ip) = origin.ip.map(address_bucket)
            && let Err(RetryAfter(wait)) = self.deps.limiter.attempt_from(ip).await
        {
            self.audit_refusal(&format!("address:{ip}"), None, "address", origin);
            return Err(AuthError::RateLimited(wait));
        }
        Ok(())
    }

    /// Begins an attempt on the account's limiter, or refuses it.
    ///
    /// Failures count per identifier as typed (normalised), for real
    /// accounts as for unknown ones: counting a real account's email and
    /// username together would tell that they name one account (five
    /// failures as one make the other answer 429), which two made-up
    /// identifiers never do. Each identifier counts per client address
    /// and, with a higher threshold, from everywhere (see
    /// [`crate::limits`]). The identifier is hashed: a key of fixed size
    /// however long the typed text (up to the 64 KiB body), and no typed
    /// emails kept in memory.
    pub(super) async fn begin_account_attempt(
        &self,
        login: &LoginName,
        user: Option<&User>,
        origin: &Origin,
    ) -> Result<InFlight, AuthError> {
        let typed = URL_SAFE_NO_PAD.encode(TokenHash::of(login.as_str()).0);
        let account = match user {
            // The user id keeps real accounts tracked under a flood of
            // made-up names (the limiter may drop only those).
            Some(user) => format!("{}:{typed}", user.id),
            None => format!("{}{typed}", crate::limits::UNKNOWN_ACCOUNT_PREFIX),
        };
        let key = AccountKey::new(account, origin.ip.map(address_bucket));
        match self.queues.begin(&self.deps.limiter, key.clone()).await {
            Ok(in_flight) => Ok(in_flight),
            Err(RetryAfter(wait)) => {
                self.audit_refusal(
                    &format!("account:{}", key.account),
                    user.map(|u| u.id),
                    "account",
                    origin,
                );
                Err(AuthError::RateLimited(wait))
            }
        }
    }

    /// Hands the costs of the stored hashes to the hasher, once: from then
    /// on every check pays each of them, known user or not. Until the store
    /// has answered (it failed: retried at the next login) checks pay only
    /// what they meet.
    pub(super) async fn include_stored_hash_costs(&self) {
        let loaded = self
            .hash_costs
            .get_or_try_init(|| async {
                let costs = self.deps.users.password_hash_costs().await?;
                self.deps.hasher.include_costs(&costs);
                Ok::<(), AuthError>(())
            })
            .await;
        if let Err(e) = loaded {
            tracing::warn!(error = %e, "cannot list the stored password hash costs");
        }
    }

    /// Checks the password and ends the account attempt with its outcome:
    /// the active user, and a new hash to store when the old one's
    /// parameters are outdated.
    ///
    /// Unknown users are checked against a dummy hash: same time, same
    /// answer. The hasher bounds the wait well inside the attempt's
    /// reservation (password::MAX_WAIT), answering 503 beyond it.
    async fn check_password(
        &self,
        password: Password,
        user: Option<User>,
        in_flight: InFlight,
        origin: &Origin,
    ) -> Result<(User, Option<String>), AuthError> {
        let verified = self
            .deps
            .hasher
            .verify(password, user.as_ref().map(|u| u.password_hash.clone()))
            .await?;
        let user = match user {
            Some(user) if verified.ok => user,
            other => {
                tracing::info!(reason = "bad_credentials", "login failed");
                in_flight.failed().await;
                let reason = if other.is_some() {
                    "bad_password"
                } else {
                    "unknown_user"
                };
                self.audit_login(AuditKind::LOGIN_FAILED, other.map(|u| u.id), reason, origin);
                return Err(AuthError::InvalidCredentials);
            }
        };
        in_flight.succeeded().await;
        if !user.is_active {
            tracing::info!(user_id = %user.id, reason = "disabled", "login failed");
            self.audit_login(AuditKind::LOGIN_FAILED, Some(user.id), "disabled", origin);
            return Err(AuthError::AccountDisabled);
        }
        if self.settings.verification.require_verified_email && user.email_verified_at.is_none() {
            tracing::info!(user_id = %user.id, reason = "email_not_verified", "login failed");
            self.audit_login(
                AuditKind::LOGIN_FAILED,
                Some(user.id),
                "email_not_verified",
                origin,
            );
            return Err(AuthError::EmailNotVerified);
        }
        Ok((user, verified.rehash))
    }

    /// Stores `new_hash` over the hash that was checked. An upgrade that
    /// fails is retried at the next login; it must not fail this one.
    async fn upgrade_password_hash(&self, user: &User, new_hash: &str, now: OffsetDateTime) {
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

    /// Creates the session with its first refresh token (and the success
    /// record, in one commit), then issues the access token.
    pub(super) async fn start_session(
        &self,
        user: User,
        audience: String,
        origin: &Origin,
        now: OffsetDateTime,
        shape: SessionShape,
    ) -> Result<(Tokens, User), AuthError> {
        let session = Session {
            id: shape.id,
            user_id: user.id,
            created_at: now,
            last_used_at: now,
            expires_at: now + shape.lifetime,
            ip: origin.ip.map(|ip| ip.to_string()),
            user_agent: origin.user_agent.clone(),
            audience,
            revoked_at: None,
            client: None,
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
        let mut e = event(AuditKind::LOGIN_SUCCEEDED, self.deps.clock.now(), origin);
        e.user_id = Some(user.id);
        e.session_id = Some(session.id);
        let created = self
            .deps
            .sessions
            .create_session_audited(&session, &first, self.in_transaction(&e))
            .await?;
        if !created {
            // Disabled (or deleted) after its record was read.
            tracing::info!(user_id = %user.id, reason = "disabled", "login failed");
            self.audit_login(AuditKind::LOGIN_FAILED, Some(user.id), "disabled", origin);
            return Err(AuthError::AccountDisabled);
        }
        let (access_token, expires_in) = self.issue_access_token(&user, &session)?;
        tracing::info!(user_id = %user.id, session_id = %session.id, "login succeeded");
        self.deps.audit.record_written(e);
        let tokens = Tokens {
            access_token,
            expires_in,
            refresh_token,
            refresh_expires_in: (session.expires_at - now).whole_seconds(),
        };
        Ok((tokens, user))
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
    pub(super) fn audit_login(
        &self,
        kind: AuditKind,
        user_id: Option<Uuid>,
        reason: &str,
        origin: &Origin,
    ) {
        let mut e = event(kind, self.deps.clock.now(), origin);
        e.user_id = user_id;
        if !reason.is_empty() {
            detail(&mut e, "reason", reason);
        }
        self.deps.audit.record(e);
    }
}
