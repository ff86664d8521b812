//! Who may administer what: the permission each administrative action
//! needs and the "grant only what you hold" reach, checked by the service
//! itself so the API, the admin pages and any later caller share one rule.

use authgate_proto::permissions::Permissions;

use super::AuthService;
use super::oauth::Caller;
use crate::error::AuthError;

/// Who performs an administrative action: `None` is the operator at the
/// command line (who holds the database, and so every power); `Some` is an
/// API or page caller, checked.
pub type Actor<'a> = Option<&'a Caller>;

impl Caller {
    /// Whether this caller's current roles grant `permission`.
    pub fn may(&self, permissions: &Permissions, permission: &str) -> bool {
        permissions.allows(self.roles(), permission)
    }
}

impl AuthService {
    /// Refuses `actor` unless its roles grant `permission`.
    ///
    /// # Errors
    /// [`AuthError::InsufficientScope`].
    pub(super) fn require(&self, actor: Actor<'_>, permission: &str) -> Result<(), AuthError> {
        match actor {
            Some(caller) if !caller.may(&self.settings.permissions, permission) => {
                tracing::info!(permission, actor = %caller.actor_id(), "permission denied");
                Err(AuthError::InsufficientScope)
            }
            _ => Ok(()),
        }
    }

    /// Refuses `actor` unless it holds every permission `roles` grant
    /// (see [`Caller::within_reach`]).
    ///
    /// # Errors
    /// [`AuthError::InsufficientScope`].
    pub(super) fn require_reach(
        &self,
        actor: Actor<'_>,
        roles: &[String],
    ) -> Result<(), AuthError> {
        match actor {
            Some(caller) => caller.within_reach(&self.settings.permissions, roles),
            None => Ok(()),
        }
    }
}
