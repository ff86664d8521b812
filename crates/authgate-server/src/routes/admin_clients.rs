//! `/admin/clients/{id}/disable` and `/enable`: switching a service client
//! off without deleting it, and on again.

use authgate_proto as proto;
use axum::Json;
use axum::extract::State;

use crate::authz::{Authorized, ClientsWrite};
use crate::error::ApiError;
use crate::extract::PathId;
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// Disable a service client.
///
/// It keeps its record and secret, but `/oauth/token` answers its secret
/// with `invalid_client` (as for a wrong one) and its live access tokens are
/// inactive at introspection and refused by authgate's own routes, at once
/// on every instance. Needs the `clients:write` permission (or the `admin`
/// role).
#[utoipa::path(
    post,
    path = "/admin/clients/{id}/disable",
    tag = "admin",
    params(("id" = String, Path, description = "The client id.")),
    responses(
        (status = 200, description = "The disabled client.", body = proto::ServiceClientInfo),
        crate::openapi::responses::InvalidToken,
        (status = 403, description = "`insufficient_scope`: the caller's roles lack `clients:write`, or the client's roles grant a permission the caller lacks.", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"authgate\", error=\"insufficient_scope\"`."))),
        (status = 404, description = "`not_found`: no client with this id.", body = proto::ErrorBody),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = ["clients:write"])),
)]
pub(crate) async fn disable(
    state: State<AppState>,
    who: Authorized<ClientsWrite>,
    origin: RequestOrigin,
    id: PathId,
) -> Result<Json<proto::ServiceClientInfo>, ApiError> {
    set_active(state, who, origin, id, false).await
}

/// Enable a disabled service client: its secret and its unexpired tokens
/// work again.
///
/// Needs the `clients:write` permission (or the `admin` role).
#[utoipa::path(
    post,
    path = "/admin/clients/{id}/enable",
    tag = "admin",
    params(("id" = String, Path, description = "The client id.")),
    responses(
        (status = 200, description = "The enabled client.", body = proto::ServiceClientInfo),
        crate::openapi::responses::InvalidToken,
        (status = 403, description = "`insufficient_scope`: the caller's roles lack `clients:write`, or the client's roles grant a permission the caller lacks.", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"authgate\", error=\"insufficient_scope\"`."))),
        (status = 404, description = "`not_found`: no client with this id.", body = proto::ErrorBody),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = ["clients:write"])),
)]
pub(crate) async fn enable(
    state: State<AppState>,
    who: Authorized<ClientsWrite>,
    origin: RequestOrigin,
    id: PathId,
) -> Result<Json<proto::ServiceClientInfo>, ApiError> {
    set_active(state, who, origin, id, true).await
}

async fn set_active(
    State(state): State<AppState>,
    who: Authorized<ClientsWrite>,
    RequestOrigin(origin): RequestOrigin,
    PathId(id): PathId,
    active: bool,
) -> Result<Json<proto::ServiceClientInfo>, ApiError> {
    // The service checks the permission and the reach, and audits.
    let client = state
        .auth
        .set_client_active(Some(&who.caller), &id, active, &origin)
        .await?;
    Ok(Json(client.to_info()))
}
