//! Authorisation of the administration routes: each handler names the
//! permission it needs as a type, so no admin route can forget its check.

use std::marker::PhantomData;

use authgate_core::Caller;
use authgate_proto::permissions::names;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};

use crate::error::ApiError;
use crate::state::AppState;

/// A permission of docs/http-api.md's administration table, as a type.
pub trait Permission: Send + Sync + 'static {
    /// The permission's name in `[roles]` (`"users:read"`, …).
    const NAME: &'static str;
}

macro_rules! permissions {
    ($($(#[$doc:meta])* $ty:ident = $name:expr;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $ty;
        impl Permission for $ty {
            const NAME: &'static str = $name;
        }
    )*};
}

permissions! {
    /// `admin:read`: the dashboard.
    AdminRead = names::ADMIN_READ;
    /// `users:read`: list and read users.
    UsersRead = names::USERS_READ;
    /// `users:write`: change roles, disable and enable users.
    UsersWrite = names::USERS_WRITE;
    /// `audit:read`: query the audit trail.
    AuditRead = names::AUDIT_READ;
    /// `keys:read`: list signing keys.
    KeysRead = names::KEYS_READ;
    /// `keys:write`: rotate signing keys.
    KeysWrite = names::KEYS_WRITE;
    /// `clients:write`: create service clients.
    ClientsWrite = names::CLIENTS_WRITE;
    /// `clients:read`: list OpenID Connect relying parties.
    ClientsRead = names::CLIENTS_READ;
}

/// Every permission the server's own routes check, for configuration checks.
pub const SERVER_PERMISSIONS: [&str; 8] = [
    AdminRead::NAME,
    UsersRead::NAME,
    UsersWrite::NAME,
    AuditRead::NAME,
    KeysRead::NAME,
    KeysWrite::NAME,
    ClientsWrite::NAME,
    ClientsRead::NAME,
];

/// A caller (user or service client) whose current roles grant `P`.
///
/// 401 `invalid_token` when the Bearer token does not verify or is revoked;
/// 403 `insufficient_scope` (RFC 6750 challenge) when the roles lack `P`.
#[derive(Debug)]
pub struct Authorized<P> {
    /// Who is calling.
    pub caller: Caller,
    /// The permission checked.
    permission: PhantomData<P>,
}

impl<P: Permission> FromRequestParts<AppState> for Authorized<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = bearer_caller(parts, state).await?;
        if !state.permissions.allows(caller.roles(), P::NAME) {
            tracing::info!(permission = P::NAME, actor = %caller.actor_id(), "permission denied");
            return Err(authgate_guard::GuardError::InsufficientScope.into());
        }
        Ok(Self {
            caller,
            permission: PhantomData,
        })
    }
}

/// The caller of a Bearer request, user or client, verified and unrevoked.
pub(crate) async fn bearer_caller(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    let verified = verify_bearer(parts, state).await?;
    // A store error is 503 `unavailable`: the caller's powers cannot be confirmed.
    let caller = state.auth.authenticate_caller(verified.claims()).await?;
    counted(caller)
}

/// The verified claims of the request's Bearer token (signature, time,
/// issuer, audience, type), not yet checked for revocation; failures are
/// counted by reason. A key id the verifier lacks reloads the keys first.
pub(crate) async fn verify_bearer(
    parts: &Parts,
    state: &AppState,
) -> Result<authgate_guard::Principal, ApiError> {
    let header = match parts.headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => Some(value.to_str().map_err(|_| {
            crate::metrics::verification(Err("malformed_header"));
            ApiError::invalid_token()
        })?),
    };
    state.authenticate_bearer(header).await.map_err(|e| {
        crate::metrics::verification(Err(e.reason()));
        e.into()
    })
}

/// Counts the end of a Bearer check: accepted, or refused as revoked.
pub(crate) fn counted<T>(caller: Option<T>) -> Result<T, ApiError> {
    crate::metrics::verification(caller.as_ref().map(|_| ()).ok_or("revoked"));
    caller.ok_or_else(ApiError::invalid_token)
}
