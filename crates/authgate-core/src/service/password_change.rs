//! Changing one's own password: the current one checked as a login is
//! (same limits and delays), the new one held to the registration rule,
//! and every other session of the account ended.

use authgate_proto::AuditKind;

use super::AuthService;
use super::sessions::SessionCaller;
use crate::audit::{Origin, detail, event};
use crate::clock::truncate_to_millis;
use crate::error::AuthError;
use crate::identity::{LoginName, Password};

/// A password change as the caller sent it.
#[derive(Debug)]
pub struct PasswordChange {
    /// The password now in force, proving it is the account's owner typing.
    pub current: Password,
    /// The password to set.
    pub new: Password,
}

impl AuthService {
    /// Changes the caller's password and ends every other session of the
    /// account (this one stays). Returns how many sessions were ended.
    ///
    /// The new password must pass the registration rule (length, then
    /// zxcvbn strength, not the email or username). A wrong current
    /// password is a failed login of the account: it counts toward the
    /// same limits (per address, per account) and is answered as late as a
    /// failed login is. The change is audited as `password.change` with the
    /// number of sessions ended; no password or hash is recorded.
    ///
    /// # Errors
    /// [`AuthError::InvalidInput`] naming `new_password` (too weak, too
    /// short) or `current_password`; [`AuthError::RateLimited`];
    /// [`AuthError::InvalidCredentials`] for a wrong current password (or
    /// one changed meanwhile by another request);
    /// [`AuthError::NotFound`] when the account is gone or disabled;
    /// store and hashing errors.
    pub async fn change_password(
        &self,
        who: &SessionCaller,
        change: PasswordChange,
        origin: &Origin,
    ) -> Result<usize, AuthError> {
        let user = match self.deps.users.user_by_id(who.user_id).await? {
            Some(user) if user.is_active => user,
            _ => return Err(AuthError::NotFound),
        };
        let related: Vec<&str> = [
            Some(user.email.as_str()),
            user.username.as_deref(),
            user.name.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.settings
            .password_policy
            .check(&change.new, &related)
            .map_err(|e| match e {
                AuthError::InvalidInput { reason, .. } => AuthError::InvalidInput {
                    field: "new_password",
                    reason: reason.replacen("password", "new password", 1),
                },
                other => other,
            })?;

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
            .verify(change.current, Some(user.password_hash.clone()))
            .await?;
        if !verified.ok {
            in_flight.failed().await;
            tracing::info!(user_id = %user.id, "password change refused: wrong current password");
            let mut e = event(AuditKind::LOGIN_FAILED, self.deps.clock.now(), origin);
            e.user_id = Some(user.id);
            e.session_id = Some(who.session_id);
            detail(&mut e, "reason", "bad_password");
            detail(&mut e, "during", "password.change");
            self.deps.audit.record(e);
            return Err(AuthError::InvalidCredentials);
        }
        in_flight.succeeded().await;

        let new_hash = self.deps.hasher.hash(change.new).await?;
        let now = truncate_to_millis(self.deps.clock.now());
        let mut e = event(AuditKind::PASSWORD_CHANGE, now, origin);
        e.user_id = Some(user.id);
        e.actor_id = Some(user.id.to_string());
        e.session_id = Some(who.session_id);
        // One transaction: the new hash, the other sessions' end and the
        // record, or none of them.
        let Some(ended) = self
            .deps
            .users
            .change_password_audited(
                user.id,
                &user.password_hash,
                &new_hash,
                who.session_id,
                now,
                self.in_transaction(&e),
            )
            .await?
        else {
            // Changed meanwhile: the password checked is no longer in force.
            return Err(AuthError::InvalidCredentials);
        };
        self.deps.records.forget_user(&user.id);
        for sid in &ended {
            self.remember_revoked(*sid);
        }
        super::count_revocations("session", ended.len());
        // The store wrote the database's copy with the same count.
        detail(&mut e, "sessions_ended", ended.len());
        self.deps.audit.record_written(e);
        tracing::info!(user_id = %user.id, sessions_ended = ended.len(), "password changed");
        Ok(ended.len())
    }
}
