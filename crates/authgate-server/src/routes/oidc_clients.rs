//! `/admin/oidc-clients*`: registering, listing and deleting OpenID Connect
//! relying parties. Creating and deleting need `clients:write`, listing
//! `clients:read` (the `admin` role has both).

use authgate_core::oidc::OidcClientSpec;
use authgate_core::oidc::client::OidcClient;
use authgate_proto as proto;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::reply::no_store;
use crate::authz::{Authorized, ClientsRead, ClientsWrite};
use crate::error::ApiError;
use crate::extract::{JsonBody, PathId};
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// Register an OpenID Connect relying party.
///
/// A confidential client's secret is shown only in this response
/// (`Cache-Control: no-store`); a public client gets none. Needs the
/// `clients:write` permission (or the `admin` role).
#[utoipa::path(
    post,
    path = "/admin/oidc-clients",
    tag = "admin",
    request_body(content = proto::CreateOidcClientRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The client and, unless public, its secret.", body = proto::CreateOidcClientResponse),
        (status = 400, description = "`invalid_request`: malformed JSON or a missing or invalid field (a redirect URI that is not https or loopback http, has a fragment or is not in canonical form; an unsupported scope); the description names the field.", body = proto::ErrorBody),
        crate::openapi::responses::InvalidToken,
        (status = 403, description = "`insufficient_scope`: the caller's roles lack `clients:write`.", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"authgate\", error=\"insufficient_scope\"`."))),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = proto::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = proto::ErrorBody),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = ["clients:write"])),
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    who: Authorized<ClientsWrite>,
    RequestOrigin(origin): RequestOrigin,
    JsonBody(body): JsonBody<proto::CreateOidcClientRequest>,
) -> Result<Response, ApiError> {
    let spec = OidcClientSpec {
        name: body.name,
        public: body.public,
        redirect_uris: body.redirect_uris,
        post_logout_redirect_uris: body.post_logout_redirect_uris,
        scopes: body.scopes,
        first_party: body.first_party,
    };
    let created = state
        .auth
        .create_oidc_client(Some(&who.caller), spec, &origin)
        .await?;
    let body = proto::CreateOidcClientResponse {
        client: info(&created.client),
        client_secret: created.secret.as_ref().map(|s| s.to_string()),
    };
    Ok(no_store((StatusCode::CREATED, Json(body)).into_response()))
}

/// List the OpenID Connect relying parties, oldest first.
///
/// Needs the `clients:read` permission (or the `admin` role).
#[utoipa::path(
    get,
    path = "/admin/oidc-clients",
    tag = "admin",
    responses(
        (status = 200, description = "Every relying party (never a secret).", body = proto::OidcClientsResponse),
        crate::openapi::responses::InvalidToken,
        (status = 403, description = "`insufficient_scope`: the caller's roles lack `clients:read`.", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"authgate\", error=\"insufficient_scope\"`."))),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = ["clients:read"])),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    _: Authorized<ClientsRead>,
) -> Result<Json<proto::OidcClientsResponse>, ApiError> {
    let clients = state.auth.oidc_clients().await?;
    Ok(Json(proto::OidcClientsResponse {
        clients: clients.iter().map(info).collect(),
    }))
}

/// Delete an OpenID Connect relying party.
///
/// It can start no new sign-in and exchange no code; its sessions go with
/// it (refresh tokens unknown, access tokens refused at userinfo and
/// inactive at introspection). Needs the `clients:write` permission (or
/// the `admin` role).
#[utoipa::path(
    delete,
    path = "/admin/oidc-clients/{id}",
    tag = "admin",
    params(("id" = String, Path, description = "The `client_id`.")),
    responses(
        (status = 204, description = "Deleted."),
        crate::openapi::responses::InvalidToken,
        (status = 403, description = "`insufficient_scope`: the caller's roles lack `clients:write`.", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"authgate\", error=\"insufficient_scope\"`."))),
        (status = 404, description = "`not_found`: no such client.", body = proto::ErrorBody),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = ["clients:write"])),
)]
pub(crate) async fn delete(
    State(state): State<AppState>,
    who: Authorized<ClientsWrite>,
    RequestOrigin(origin): RequestOrigin,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    state
        .auth
        .delete_oidc_client(Some(&who.caller), &id, &origin)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A client as the API shows it.
pub(crate) fn info(client: &OidcClient) -> proto::OidcClientInfo {
    proto::OidcClientInfo {
        client_id: client.id.clone(),
        name: client.name.clone(),
        public: !client.is_confidential(),
        redirect_uris: client.redirect_uris.clone(),
        post_logout_redirect_uris: client.post_logout_redirect_uris.clone(),
        scopes: client.scopes.clone(),
        first_party: client.first_party,
        created_at: client.created_at,
    }
}
