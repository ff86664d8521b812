//! Registration: validate, apply the password policy, hash, store.

use authgate_proto::AuditKind;
use uuid::Uuid;

use crate::audit::{Origin, detail, event};
use crate::clock::truncate_to_millis;

use super::AuthService;
use crate::error::AuthError;
use crate::identity::{Email, Password, Username};
use crate::model::User;

/// Longest display name accepted, in characters.
const MAX_NAME_CHARS: usize = 200;

/// A registration as the client sent it (already size-bounded by the server).
#[derive(Debug)]
pub struct Registration {
    /// Email address (required).
    pub email: String,
    /// The password, wrapped so it cannot be printed.
    pub password: Password,
    /// Optional username.
    pub username: Option<String>,
    /// Optional display name.
    pub name: Option<String>,
}

impl AuthService {
    /// Registers a user with the default roles.
    ///
    /// # Errors
    /// [`AuthError::RegistrationClosed`], [`AuthError::RateLimited`] when
    /// the address has used its attempts for the minute,
    /// [`AuthError::InvalidInput`] for a bad field or password,
    /// [`AuthError::Conflict`] when the email or username is taken, store errors.
    pub async fn register(&self, reg: Registration, origin: &Origin) -> Result<User, AuthError> {
        if !self.settings.registration_open {
            return Err(AuthError::RegistrationClosed);
        }
        // Registrations draw on the address's login quota: each costs a
        // hash on the pool logins use, and each 409 tells whether an email
        // is registered, which the login path takes care never to say.
        if let Some(ip) = origin.ip.map(crate::limits::address_bucket)
            && let Err(crate::limits::RetryAfter(wait)) = self.deps.limiter.attempt_from(ip).await
        {
            tracing::info!(
                reason = "address",
                "registration refused: too many attempts from the address"
            );
            metrics::counter!("authgate_registrations_total", "outcome" => "rate_limited")
                .increment(1);
            return Err(AuthError::RateLimited(wait));
        }
        let roles = self.settings.default_roles.clone();
        let user = self.create_user(reg, roles, origin).await?;
        self.mail_verification_after_registration(&user, origin)
            .await;
        Ok(user)
    }

    /// Creates a user with the given roles, whether or not registration is
    /// open: for administrators (`authgate user add`). The same validation and
    /// password policy as [`register`](Self::register) apply.
    ///
    /// # Errors
    /// As [`register`](Self::register), without `RegistrationClosed`.
    pub async fn create_user(
        &self,
        reg: Registration,
        roles: Vec<String>,
        origin: &Origin,
    ) -> Result<User, AuthError> {
        let result = self.create_user_flow(reg, roles, origin).await;
        let outcome = match &result {
            Ok(_) => "success",
            Err(AuthError::Conflict(_)) => "conflict",
            Err(AuthError::InvalidInput { .. }) => "invalid_request",
            Err(_) => "error",
        };
        metrics::counter!("authgate_registrations_total", "outcome" => outcome).increment(1);
        result
    }

    async fn create_user_flow(
        &self,
        reg: Registration,
        roles: Vec<String>,
        origin: &Origin,
    ) -> Result<User, AuthError> {
        let email = Email::parse(&reg.email)?;
        let username = reg.username.as_deref().map(Username::parse).transpose()?;
        let name = reg
            .name
            .as_deref()
            .map(|n| crate::text::display_name("name", n))
            .transpose()?
            .filter(|n| !n.is_empty());
        if name
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NAME_CHARS)
        {
            return Err(AuthError::invalid(
                "name",
                "name is longer than 200 characters",
            ));
        }
        let related: Vec<&str> = [
            Some(email.as_str()),
            username.as_ref().map(Username::as_str),
            name.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.settings
            .password_policy
            .check(&reg.password, &related)?;

        // Fail fast on a taken email before paying for a hash; the unique
        // index still decides races.
        if self
            .deps
            .users
            .user_by_login(email.as_str())
            .await?
            .is_some()
        {
            return Err(AuthError::Conflict("email"));
        }
        if let Some(u) = &username
            && self.deps.users.user_by_login(u.as_str()).await?.is_some()
        {
            return Err(AuthError::Conflict("username"));
        }
        let password_hash = self.deps.hasher.hash(reg.password).await?;
        let now = truncate_to_millis(self.deps.clock.now());
        let user = User {
            id: Uuid::now_v7(),
            email: email.as_str().to_owned(),
            username: username.map(|u| u.as_str().to_owned()),
            name,
            password_hash,
            roles,
            is_active: true,
            email_verified_at: None,
            created_at: now,
            updated_at: now,
        };
        let mut e = event(AuditKind::USER_REGISTERED, now, origin);
        e.user_id = Some(user.id);
        detail(&mut e, "roles", user.roles.clone());
        self.deps
            .users
            .insert_user_audited(&user, self.in_transaction(&e))
            .await?;
        tracing::info!(user_id = %user.id, "user registered");
        self.deps.audit.record_written(e);
        Ok(user)
    }
}
