//! Email verification: the link mailed at registration (and on asking
//! again), and using it (docs/http-api.md, `POST /auth/email/verify` and
//! `/auth/email/verify/resend`). With `auth.require_verified_email` an
//! account whose address is not verified cannot log in (see `login.rs`).

use authgate_proto::AuditKind;
use time::{Duration, OffsetDateTime};

use super::AuthService;
use crate::audit::{Origin, detail, event};
use crate::error::AuthError;
use crate::identity::LoginName;
use crate::mail::{Mail, MailKind};
use crate::model::User;
use crate::secrets::{TokenHash, random_token};
use crate::verification_store::{VerificationToken, VerifyRefusal};

/// `email.verification_requested`: a verification link was asked for (at
/// registration or again); `outcome` says whether one was queued.
pub const EMAIL_VERIFICATION_REQUESTED: AuditKind =
    AuditKind::from_static("email.verification_requested");
/// `email.verified`: an address was proven with a link (`changed` when it
/// replaced the account's previous address).
pub const EMAIL_VERIFIED: AuditKind = AuditKind::from_static("email.verified");

/// Settings of email verification, from `[auth]` and `[recovery]`.
#[derive(Debug, Clone)]
pub struct VerificationSettings {
    /// Whether an account must have verified its address to log in.
    /// Defaults to `false`.
    pub require_verified_email: bool,
    /// How long a verification link works. Defaults to 24 hours.
    pub ttl: Duration,
    /// Verification messages one address, and one account, may be sent per
    /// hour; requests past it are answered as usual and send nothing.
    /// Defaults to 3.
    pub per_hour: u64,
}

impl Default for VerificationSettings {
    fn default() -> Self {
        Self {
            require_verified_email: false,
            ttl: Duration::hours(24),
            per_hour: 3,
        }
    }
}

/// Why a verification message was not queued (for the audit record).
enum Held {
    /// No account has the address, or it is verified already.
    NothingToVerify,
    /// The address's or the account's hourly allowance is spent.
    Limited(&'static str),
}

impl AuthService {
    /// Mails a new account its verification link. Registration has
    /// succeeded whatever happens here: a failure is logged, and the user
    /// can ask again.
    pub(super) async fn mail_verification_after_registration(&self, user: &User, origin: &Origin) {
        if let Err(e) = self
            .queue_verification(user, &user.email, false, origin)
            .await
        {
            tracing::warn!(user_id = %user.id, error = %e, "the verification message was not queued");
        }
    }

    /// Asks again for the verification link of the account named `login`
    /// (its email, or its username).
    ///
    /// The answer is the same whoever has the name: an unknown name, an
    /// address already verified, or an allowance spent queue nothing and
    /// succeed all the same. An address, and an account, is sent at most
    /// `per_hour` verification messages an hour.
    ///
    /// # Errors
    /// [`AuthError::InvalidInput`] naming `email` for a name holding
    /// control or format characters, or empty; [`AuthError::RateLimited`]
    /// when the caller's network address has used its attempts;
    /// [`AuthError::Overloaded`] when the outbox is full; store errors.
    pub async fn resend_verification(&self, login: &str, origin: &Origin) -> Result<(), AuthError> {
        let login = LoginName::parse("email", login)?;
        if !login.could_match() {
            return Err(AuthError::invalid("email", "email is required"));
        }
        if let Some(ip) = origin.ip.map(crate::limits::address_bucket)
            && let Err(crate::limits::RetryAfter(wait)) = self.deps.limiter.attempt_from(ip).await
        {
            tracing::info!(
                reason = "address",
                "verification request refused: too many attempts from the address"
            );
            return Err(AuthError::RateLimited(wait));
        }
        let user = self.deps.users.user_by_login(login.as_str()).await?;
        let now = self.deps.clock.now();
        let held = match &user {
            Some(user) if user.email_verified_at.is_none() => self
                .allowance_spent(user, &user.email, now)
                .await?
                .map(Held::Limited),
            _ => Some(Held::NothingToVerify),
        };
        match (user, held) {
            (Some(user), None) => {
                self.queue_verification(&user, &user.email, false, origin)
                    .await
            }
            (user, Some(held)) => {
                // The same token drawn and message rendered as when one is
                // queued, so both answers cost about the same.
                let token = random_token()?;
                let mail = Mail::VerifyEmail {
                    to: user
                        .as_ref()
                        .map_or_else(|| "nobody@invalid".to_owned(), |u| u.email.clone()),
                    token,
                    expires_at: now + self.settings.verification.ttl,
                    change: false,
                };
                let _ = self.deps.mailer.compose(&mail, now)?;
                let mut e = event(EMAIL_VERIFICATION_REQUESTED, now, origin);
                e.user_id = user.as_ref().map(|u| u.id);
                let outcome = match held {
                    Held::NothingToVerify => "nothing_to_verify",
                    Held::Limited(which) => which,
                };
                tracing::info!(outcome, "verification request answered without a message");
                detail(&mut e, "outcome", outcome);
                self.deps.audit.record(e);
                Ok(())
            }
            (None, None) => Ok(()),
        }
    }

    /// Which hourly allowance (`address_limited`, `account_limited`) a new
    /// message to `address` for `user` would exceed, if any.
    pub(super) async fn allowance_spent(
        &self,
        user: &User,
        address: &str,
        now: OffsetDateTime,
    ) -> Result<Option<&'static str>, AuthError> {
        let since = now - Duration::hours(1);
        let per_hour = self.settings.verification.per_hour;
        let to_address = self
            .deps
            .outbox
            .count_mail_to(address, MailKind::EMAIL_VERIFICATION, since)
            .await?;
        if to_address >= per_hour {
            return Ok(Some("address_limited"));
        }
        let for_account = self
            .deps
            .verifications
            .verifications_since(user.id, since)
            .await?;
        if for_account >= per_hour {
            return Ok(Some("account_limited"));
        }
        Ok(None)
    }

    /// Draws a link proving `address` for `user`, and queues its message
    /// with the stored hash and the audit record in one transaction.
    ///
    /// # Errors
    /// [`AuthError::Overloaded`] when the outbox is full, store errors.
    pub(super) async fn queue_verification(
        &self,
        user: &User,
        address: &str,
        change: bool,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        let now = self.deps.clock.now();
        let token = random_token()?;
        let expires_at = now + self.settings.verification.ttl;
        let stored = VerificationToken {
            hash: TokenHash::of(&token),
            user_id: user.id,
            email: address.to_owned(),
            created_at: now,
            expires_at,
        };
        let mail = Mail::VerifyEmail {
            to: address.to_owned(),
            token,
            expires_at,
            change,
        };
        let queued = self.deps.mailer.compose(&mail, now)?;
        let mut e = event(EMAIL_VERIFICATION_REQUESTED, now, origin);
        e.user_id = Some(user.id);
        detail(&mut e, "outcome", "queued");
        detail(&mut e, "message_id", queued.id.to_string());
        if change {
            detail(&mut e, "change", true);
        }
        let accepted = self
            .deps
            .verifications
            .request_verification(
                Some(&stored),
                &queued,
                self.settings.recovery.max_pending_mail,
                self.in_transaction(&e),
            )
            .await?;
        if !accepted {
            tracing::warn!("verification request refused: the mail outbox is full");
            return Err(AuthError::Overloaded("mail outbox"));
        }
        self.deps.audit.record_written(e);
        self.deps.mailer.wake();
        Ok(())
    }

    /// Uses a verification link's `token`: the address it proves becomes
    /// the account's, verified. Returns the account's address now.
    ///
    /// # Errors
    /// [`AuthError::InvalidVerificationToken`] for an unknown, used,
    /// replaced or expired token, changing nothing;
    /// [`AuthError::Conflict`] (`email`) when the address it would change
    /// to was taken by another account meanwhile; store errors.
    pub async fn verify_email(&self, token: &str, origin: &Origin) -> Result<String, AuthError> {
        let now = self.deps.clock.now();
        let stored = self
            .deps
            .verifications
            .verification_token(&TokenHash::of(token))
            .await?
            .filter(|t| t.expires_at > now)
            .ok_or(AuthError::InvalidVerificationToken)?;
        let current = self
            .deps
            .users
            .user_by_id(stored.user_id)
            .await?
            .ok_or(AuthError::InvalidVerificationToken)?;
        let mut e = event(EMAIL_VERIFIED, now, origin);
        e.user_id = Some(stored.user_id);
        // Said in the record written with the change (the store decides it
        // against the same row, locked, so a race only makes this stale).
        if current.email != stored.email {
            detail(&mut e, "changed", true);
        }
        let verified = self
            .deps
            .verifications
            .verify_email(&stored, now, self.in_transaction(&e))
            .await?;
        let verified = match verified {
            Ok(verified) => verified,
            Err(VerifyRefusal::Invalid) => return Err(AuthError::InvalidVerificationToken),
            Err(VerifyRefusal::EmailTaken) => return Err(AuthError::Conflict("email")),
        };
        let changed = verified.previous_email != stored.email;
        self.deps.records.forget_user(&stored.user_id);
        self.deps
            .bus
            .publish(crate::bus::Change::UserChanged { id: stored.user_id });
        tracing::info!(user_id = %stored.user_id, changed, "email verified");
        self.deps.audit.record_written(e);
        if changed {
            self.notify_old_address(&verified.previous_email, &stored.email, now)
                .await;
        }
        Ok(stored.email)
    }

    /// Tells the old address that the account's address changed. The
    /// change is done: a failure is logged only.
    async fn notify_old_address(&self, old: &str, new: &str, now: OffsetDateTime) {
        let mail = Mail::EmailChanged {
            to: old.to_owned(),
            new_email: new.to_owned(),
        };
        let queued = match self.deps.mailer.compose(&mail, now) {
            Ok(queued) => queued,
            Err(e) => {
                tracing::warn!(error = %e, "the email-changed notice was not composed");
                return;
            }
        };
        match self
            .deps
            .outbox
            .queue_mail(&queued, self.settings.recovery.max_pending_mail)
            .await
        {
            Ok(true) => self.deps.mailer.wake(),
            Ok(false) => tracing::warn!("the email-changed notice was dropped: the outbox is full"),
            Err(e) => tracing::warn!(error = %e, "the email-changed notice was not queued"),
        }
    }
}
