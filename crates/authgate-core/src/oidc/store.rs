//! The storage the OpenID Connect provider needs, implemented by
//! authgate-store beside the other traits of [`crate::store`].

use async_trait::async_trait;
use authgate_proto::AuditEvent;
use time::OffsetDateTime;
use uuid::Uuid;

use super::client::OidcClient;
use super::code::{AuthorizationCode, CodeUse};
use crate::secrets::TokenHash;
use crate::store::StoreResult;

/// Relying parties, their authorization codes and the users' consents.
#[async_trait]
pub trait OidcStore: Send + Sync + std::fmt::Debug {
    /// Inserts a client, appending `audit` in the same transaction.
    ///
    /// # Errors
    /// [`crate::StoreError::Conflict`] with `"client_id"` when the id exists.
    async fn insert_oidc_client_audited(
        &self,
        client: &OidcClient,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<()>;

    /// The client with `id`.
    async fn oidc_client(&self, id: &str) -> StoreResult<Option<OidcClient>>;

    /// Every client, oldest first.
    async fn oidc_clients(&self) -> StoreResult<Vec<OidcClient>>;

    /// Deletes the client with `id` (its codes and consents with it),
    /// appending `audit` in the same transaction (not at all when there was
    /// none); returns whether it existed.
    async fn delete_oidc_client_audited(
        &self,
        id: &str,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool>;

    /// Stores a new code.
    async fn insert_code(&self, code: &AuthorizationCode) -> StoreResult<()>;

    /// Marks the code with `hash` used at `now` by an exchange that creates
    /// `session_id`, atomically: of any number of concurrent exchanges,
    /// exactly one gets [`CodeUse::First`].
    async fn use_code(
        &self,
        hash: &TokenHash,
        session_id: Uuid,
        now: OffsetDateTime,
    ) -> StoreResult<CodeUse>;

    /// Deletes up to `limit` codes that expired before `before` (spent or
    /// not); returns how many went.
    async fn purge_codes(&self, before: OffsetDateTime, limit: u32) -> StoreResult<u64>;

    /// Marks revoked at `now` the live sessions `client_id` got for
    /// `user_id` through the browser session `browser_session_id` (RP-initiated
    /// logout), appending `audit` in the same transaction when any was;
    /// returns their ids.
    async fn revoke_client_sessions_audited(
        &self,
        user_id: Uuid,
        client_id: &str,
        browser_session_id: Uuid,
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<Vec<Uuid>>;

    /// The scopes `user_id` has consented to for `client_id`, if any.
    async fn consent(&self, user_id: Uuid, client_id: &str) -> StoreResult<Option<Vec<String>>>;

    /// Records (replacing any earlier) the scopes `user_id` consented to
    /// for `client_id`, appending `audit` in the same transaction.
    async fn save_consent(
        &self,
        user_id: Uuid,
        client_id: &str,
        scopes: &[String],
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<()>;
}
