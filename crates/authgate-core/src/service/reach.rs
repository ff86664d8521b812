//! How far a token revocation (RFC 7009) reaches: which tokens a caller may
//! revoke, decided here rather than in the HTTP handler.

use authgate_proto::AccessClaims;
use authgate_proto::permissions::Permissions;
use uuid::Uuid;

use super::AuthService;
use crate::audit::Origin;
use crate::error::AuthError;
use crate::model::ServiceClient;

/// Whose tokens a revocation request may revoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Any token: a service client whose roles grant the permission that
    /// may disable users (and so end their sessions anyway).
    Any,
    /// The tokens issued to this service client (RFC 7009 §2.1).
    ServiceClient(String),
    /// This user's tokens (a user presenting their own Bearer token).
    User(Uuid),
}

impl Reach {
    /// A service client's reach: any token when its roles grant
    /// `revoke_any` (the server's `users:write`), else its own tokens.
    pub fn of_service_client(
        client: &ServiceClient,
        permissions: &Permissions,
        revoke_any: &str,
    ) -> Self {
        if permissions.allows(&client.roles, revoke_any) {
            Self::Any
        } else {
            Self::ServiceClient(client.id.clone())
        }
    }
}

impl AuthService {
    /// Revokes the verified access token of `claims` if it is within
    /// `reach`; one out of reach is left alone, silently (RFC 7009 §2.1).
    ///
    /// # Errors
    /// Store errors.
    pub async fn revoke_access_within(
        &self,
        claims: &AccessClaims,
        reach: &Reach,
        actor: &str,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        let owner = match reach {
            Reach::Any => None,
            Reach::User(user) => Some(user.to_string()),
            // Not issued to this client: not its to revoke.
            Reach::ServiceClient(id) if claims.client_id.as_ref() != Some(id) => return Ok(()),
            Reach::ServiceClient(_) => None,
        };
        self.revoke_access(claims, owner.as_deref(), actor, origin)
            .await
    }

    /// Revokes the refresh token `token` (and its session) if it is within
    /// `reach`: refresh tokens belong to users' sessions, never to a
    /// service client, so a client without [`Reach::Any`] revokes nothing.
    ///
    /// # Errors
    /// Store errors.
    pub async fn revoke_refresh_within(
        &self,
        token: &str,
        reach: &Reach,
        actor: &str,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        let owner = match reach {
            Reach::Any => None,
            Reach::User(user) => Some(*user),
            Reach::ServiceClient(_) => return Ok(()),
        };
        self.revoke_refresh(token, owner, actor, origin).await
    }
}
