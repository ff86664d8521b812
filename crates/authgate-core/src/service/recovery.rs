//! Password reset by email: asking for a link, and setting a new password
//! with it (docs/http-api.md, `POST /auth/password/forgot` and `/reset`).

use authgate_proto::AuditKind;
use time::Duration;

use super::AuthService;
use crate::audit::{Origin, detail, event};
use crate::error::AuthError;
use crate::identity::{Email, Password};
use crate::mail::{Mail, MailKind};
use crate::recovery_store::ResetToken;
use crate::secrets::{TokenHash, random_token};

/// `password.reset_requested`: a reset link (or a "no account" notice) was queued.
pub const PASSWORD_RESET_REQUESTED: AuditKind = AuditKind::from_static("password.reset_requested");
/// `password.reset`: a password was set through a reset link; every session ended.
pub const PASSWORD_RESET: AuditKind = AuditKind::from_static("password.reset");

/// Settings of account recovery, from `[recovery]` and `[email]`.
#[derive(Debug, Clone)]
pub struct RecoverySettings {
    /// How long a reset link works. Defaults to 30 minutes.
    pub reset_ttl: Duration,
    /// Reset messages one address may be sent per hour; requests past it
    /// are answered as usual and send nothing. Defaults to 3.
    pub resets_per_address_per_hour: u64,
    /// Messages the outbox holds undelivered; past it a request that would
    /// queue one is refused (503). Defaults to 10,000.
    pub max_pending_mail: u64,
}

impl Default for RecoverySettings {
    fn default() -> Self {
        Self {
            reset_ttl: Duration::minutes(30),
            resets_per_address_per_hour: 3,
            max_pending_mail: 10_000,
        }
    }
}

impl AuthService {
    /// Asks for a password-reset link for `email`.
    ///
    /// Whether or not an account has the address, the same work is done:
    /// one lookup, one token drawn and hashed, one message rendered, sealed
    /// and queued in one transaction (a link for an account, a notice that
    /// there is none otherwise), one audit record. The caller answers the
    /// same either way; a request past the address's hourly allowance
    /// queues nothing, whichever the case.
    ///
    /// # Errors
    /// [`AuthError::InvalidInput`] for an email that is not one,
    /// [`AuthError::RateLimited`] when the caller's network address has
    /// used its attempts, [`AuthError::Overloaded`] when the outbox is full,
    /// store errors.
    pub async fn forgot_password(&self, email: &str, origin: &Origin) -> Result<(), AuthError> {
        let email = Email::parse(email)?;
        if let Some(ip) = origin.ip.map(crate::limits::address_bucket)
            && let Err(crate::limits::RetryAfter(wait)) = self.deps.limiter.attempt_from(ip).await
        {
            tracing::info!(
                reason = "address",
                "reset request refused: too many attempts from the address"
            );
            return Err(AuthError::RateLimited(wait));
        }
        let recovery = &self.settings.recovery;
        let now = self.deps.clock.now();
        let user = self.deps.users.user_by_login(email.as_str()).await?;
        let sent = self
            .deps
            .outbox
            .count_mail_to(
                email.as_str(),
                MailKind::PASSWORD_RESET,
                now - Duration::hours(1),
            )
            .await?;
        // Drawn on both paths: the unknown one throws it away.
        let token = random_token()?;
        let mut e = event(PASSWORD_RESET_REQUESTED, now, origin);
        if sent >= recovery.resets_per_address_per_hour {
            tracing::info!(
                "reset request answered without a message: the address's hourly allowance is spent"
            );
            e.user_id = user.as_ref().map(|u| u.id);
            detail(&mut e, "outcome", "address_limited");
            self.deps.audit.record(e);
            return Ok(());
        }
        let expires_at = now + recovery.reset_ttl;
        let (mail, stored) = match &user {
            Some(user) => (
                Mail::PasswordReset {
                    to: user.email.clone(),
                    token: token.clone(),
                    expires_at,
                },
                Some(ResetToken {
                    hash: TokenHash::of(&token),
                    user_id: user.id,
                    password_fingerprint: TokenHash::of(&user.password_hash),
                    created_at: now,
                    expires_at,
                }),
            ),
            None => (
                Mail::NoAccount {
                    to: email.as_str().to_owned(),
                },
                None,
            ),
        };
        let queued = self.deps.mailer.compose(&mail, now)?;
        e.user_id = user.as_ref().map(|u| u.id);
        detail(&mut e, "outcome", "queued");
        detail(&mut e, "message_id", queued.id.to_string());
        let accepted = self
            .deps
            .resets
            .request_reset(
                stored.as_ref(),
                &queued,
                recovery.max_pending_mail,
                self.in_transaction(&e),
            )
            .await?;
        if !accepted {
            tracing::warn!("reset request refused: the mail outbox is full");
            return Err(AuthError::Overloaded("mail outbox"));
        }
        self.deps.audit.record_written(e);
        self.deps.mailer.wake();
        Ok(())
    }

    /// Sets a new password with a reset link's `token`: the same password
    /// policy as registration; every session of the account ends.
    ///
    /// # Errors
    /// [`AuthError::InvalidResetToken`] for an unknown, used, replaced or
    /// expired token (or one issued before the password last changed),
    /// changing nothing; [`AuthError::InvalidInput`] naming `new_password`
    /// when the policy refuses it (the token stays usable); store errors.
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: Password,
        origin: &Origin,
    ) -> Result<usize, AuthError> {
        let hash = TokenHash::of(token);
        let now = self.deps.clock.now();
        let stored = self
            .deps
            .resets
            .reset_token(&hash)
            .await?
            .filter(|t| t.expires_at > now)
            .ok_or(AuthError::InvalidResetToken)?;
        let user = self
            .deps
            .users
            .user_by_id(stored.user_id)
            .await?
            .filter(|u| TokenHash::of(&u.password_hash).ct_eq(&stored.password_fingerprint))
            .ok_or(AuthError::InvalidResetToken)?;
        let related: Vec<&str> = [Some(user.email.as_str()), user.username.as_deref()]
            .into_iter()
            .chain([user.name.as_deref()])
            .flatten()
            .collect();
        self.settings
            .password_policy
            .check(&new_password, &related)?;
        let new_hash = self.deps.hasher.hash(new_password).await?;
        let mut e = event(PASSWORD_RESET, now, origin);
        e.user_id = Some(user.id);
        let revoked = self
            .deps
            .resets
            .reset_password(&stored, &new_hash, now, self.in_transaction(&e))
            .await?
            .ok_or(AuthError::InvalidResetToken)?;
        for sid in &revoked {
            self.remember_revoked(*sid);
        }
        super::count_revocations("session", revoked.len());
        self.deps.records.forget_user(&user.id);
        self.deps
            .bus
            .publish(crate::bus::Change::UserChanged { id: user.id });
        tracing::info!(user_id = %user.id, sessions = revoked.len(), "password reset");
        self.deps.audit.record_written(e);
        Ok(revoked.len())
    }
}
