//! Changing one's own email address: the current password checked as a
//! login is (same limits and delays), then a verification link mailed to
//! the new address. The address changes only when that link is used
//! (`verification.rs`: `verify_email`), and the old address is then told.

use authgate_proto::AuditKind;

use super::AuthService;
use super::sessions::SessionCaller;
use crate::audit::{Origin, detail, event};
use crate::error::AuthError;
use crate::identity::{Email, LoginName, Password};

/// An email change as the caller sent it.
#[derive(Debug)]
pub struct EmailChange {
    /// The password now in force, proving it is the account's owner typing.
    pub current_password: Password,
    /// The address to change to, as typed.
    pub new_email: String,
}

impl AuthService {
    /// Asks to change the caller's email address: a verification link goes
    /// to the new address, which replaces the old one only once the link
    /// is used. Until then nothing about the account changes.
    ///
    /// A wrong current password is a failed login of the account (the same
    /// limits as [`change_password`](Self::change_password)). An address
    /// whose hourly allowance of verification messages is spent, or an
    /// account's, gets nothing more, and the call succeeds all the same.
    ///
    /// # Errors
    /// [`AuthError::InvalidInput`] naming `new_email` (not an address, or
    /// the current one); [`AuthError::Conflict`] (`email`) when another
    /// account has the address; [`AuthError::RateLimited`];
    /// [`AuthError::InvalidCredentials`] for a wrong current password;
    /// [`AuthError::NotFound`] when the account is gone or disabled;
    /// [`AuthError::Overloaded`] when the outbox is full; store errors.
    pub async fn request_email_change(
        &self,
        who: &SessionCaller,
        change: EmailChange,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        let user = match self.deps.users.user_by_id(who.user_id).await? {
            Some(user) if user.is_active => user,
            _ => return Err(AuthError::NotFound),
        };
        let new_email = Email::parse(&change.new_email).map_err(|e| match e {
            AuthError::InvalidInput { reason, .. } => AuthError::InvalidInput {
                field: "new_email",
                reason: reason.replacen("email", "new_email", 1),
            },
            other => other,
        })?;
        if new_email.as_str() == user.email {
            return Err(AuthError::invalid(
                "new_email",
                "new_email is the account's address already",
            ));
        }

        // The current password is checked as a login of the account by its
        // email: the same address quota, account delay and failure count.
        self.count_address_attempt(origin).await?;
        let login = LoginName::parse("current_password", &user.email)?;
        let in_flight = self
            .begin_account_attempt(&login, Some(&user), origin)
            .await?;
        self.include_stored_hash_costs().await;
        let verified = self
            .deps
            .hasher
            .verify(change.current_password, Some(user.password_hash.clone()))
            .await?;
        if !verified.ok {
            in_flight.failed().await;
            tracing::info!(user_id = %user.id, "email change refused: wrong current password");
            let mut e = event(AuditKind::LOGIN_FAILED, self.deps.clock.now(), origin);
            e.user_id = Some(user.id);
            e.session_id = Some(who.session_id);
            detail(&mut e, "reason", "bad_password");
            detail(&mut e, "during", "email.change");
            self.deps.audit.record(e);
            return Err(AuthError::InvalidCredentials);
        }
        in_flight.succeeded().await;

        if self
            .deps
            .users
            .user_by_login(new_email.as_str())
            .await?
            .is_some()
        {
            return Err(AuthError::Conflict("email"));
        }
        let now = self.deps.clock.now();
        if let Some(which) = self.allowance_spent(&user, new_email.as_str(), now).await? {
            tracing::info!(
                user_id = %user.id,
                outcome = which,
                "email change answered without a message"
            );
            let mut e = event(super::EMAIL_VERIFICATION_REQUESTED, now, origin);
            e.user_id = Some(user.id);
            detail(&mut e, "outcome", which);
            detail(&mut e, "change", true);
            self.deps.audit.record(e);
            return Ok(());
        }
        self.queue_verification(&user, new_email.as_str(), true, origin)
            .await?;
        tracing::info!(user_id = %user.id, "email change asked: a link went to the new address");
        Ok(())
    }
}
