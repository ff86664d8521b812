//! Administration of service clients beyond creating one: listing them,
//! disabling or enabling one and deleting one, with the same permission and
//! reach rules as creation.

use authgate_proto::AuditKind;
use authgate_proto::permissions::names;

use super::AuthService;
use super::admin_rules::Actor;
use super::oauth::Caller;
use crate::audit::{Origin, detail, event};
use crate::error::AuthError;
use crate::model::ServiceClient;

/// Most clients listed at once.
pub const MAX_CLIENTS_LISTED: u32 = 500;

impl AuthService {
    /// At most [`MAX_CLIENTS_LISTED`] service clients, newest first. A
    /// caller needs `clients:write` (the only client permission there is).
    ///
    /// # Errors
    /// [`AuthError::InsufficientScope`]; store errors.
    pub async fn list_clients(&self, actor: Actor<'_>) -> Result<Vec<ServiceClient>, AuthError> {
        self.require(actor, names::CLIENTS_WRITE)?;
        Ok(self.deps.clients.list_clients(MAX_CLIENTS_LISTED).await?)
    }

    /// Deletes a service client: its secret stops working and its tokens
    /// stop being accepted by authgate's own routes at once (a caller is a
    /// client that exists). A caller needs `clients:write` and every
    /// permission the client's roles grant. Audited as `client.deleted`.
    ///
    /// # Errors
    /// [`AuthError::InsufficientScope`]; [`AuthError::NotFound`]; store errors.
    pub async fn delete_client(
        &self,
        actor: Actor<'_>,
        id: &str,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        self.require(actor, names::CLIENTS_WRITE)?;
        let client = self
            .deps
            .clients
            .client(id)
            .await?
            .ok_or(AuthError::NotFound)?;
        self.require_reach(actor, &client.roles)?;
        let mut e = event(AuditKind::CLIENT_DELETED, self.deps.clock.now(), origin);
        e.client_id = Some(client.id.clone());
        e.actor_id = actor.map(Caller::actor_id);
        detail(&mut e, "name", client.name.clone());
        let deleted = self
            .deps
            .clients
            .delete_client_audited(&client.id, self.in_transaction(&e))
            .await?;
        if !deleted {
            return Err(AuthError::NotFound);
        }
        tracing::info!(client_id = %client.id, "service client deleted");
        self.deps.audit.record_written(e);
        Ok(())
    }

    /// Disables (`active` false) or enables a service client. A disabled
    /// client keeps its record and secret but gets no tokens (its secret is
    /// refused like a wrong one) and its live tokens are refused by
    /// introspection and authgate's own routes, on every instance at once:
    /// the client is read from the store at each use, never cached. Enabling
    /// it restores both. A caller needs `clients:write` and every permission
    /// the client's roles grant. Audited as `client.disabled` or
    /// `client.enabled`, even when the state was already the one asked for
    /// (the request is what is recorded).
    ///
    /// # Errors
    /// [`AuthError::InsufficientScope`]; [`AuthError::NotFound`]; store errors.
    pub async fn set_client_active(
        &self,
        actor: Actor<'_>,
        id: &str,
        active: bool,
        origin: &Origin,
    ) -> Result<ServiceClient, AuthError> {
        self.require(actor, names::CLIENTS_WRITE)?;
        if id.len() > super::oauth::MAX_CLIENT_ID || !crate::text::is_opaque_id(id) {
            return Err(AuthError::NotFound);
        }
        let client = self
            .deps
            .clients
            .client(id)
            .await?
            .ok_or(AuthError::NotFound)?;
        self.require_reach(actor, &client.roles)?;
        let kind = if active {
            AuditKind::CLIENT_ENABLED
        } else {
            AuditKind::CLIENT_DISABLED
        };
        let mut e = event(kind, self.deps.clock.now(), origin);
        e.client_id = Some(client.id.clone());
        e.actor_id = actor.map(Caller::actor_id);
        detail(&mut e, "name", client.name.clone());
        let client = self
            .deps
            .clients
            .set_client_active_audited(&client.id, active, self.in_transaction(&e))
            .await?
            .ok_or(AuthError::NotFound)?;
        tracing::info!(client_id = %client.id, active, "service client state set");
        self.deps.audit.record_written(e);
        Ok(client)
    }
}
