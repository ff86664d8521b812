//! `/admin/*`: the dashboard, users, audit trail, signing keys and service
//! clients. Each handler states its permission as an [`Authorized`] type.

use authgate_core::{AuditFilter, LoginName, UserQuery};
use authgate_proto::{self as proto, KeyState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::reply::no_store;
use crate::authz::{
    AdminRead, AuditRead, Authorized, ClientsWrite, KeysRead, KeysWrite, UsersRead, UsersWrite,
};
use crate::error::ApiError;
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// Longest `q` prefix searched (an email is at most 254 characters).
const MAX_PREFIX: usize = 254;

/// A few counters for the overview page.
///
/// Needs the `admin:read` permission (or the `admin` role).
#[utoipa::path(
    get,
    path = "/admin/dashboard",
    tag = "admin",
    responses(
        (status = 200, description = "The counters.", body = proto::DashboardResponse),
        crate::openapi::responses::InvalidToken,
        (status = 403, description = "`insufficient_scope`: the caller's roles lack `admin:read`.", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"authgate\", error=\"insufficient_scope\"`."))),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = ["admin:read"])),
)]
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    _: Authorized<AdminRead>,
) -> Result<Json<proto::DashboardResponse>, ApiError> {
    let live_keys = state
        .keys
        .ring()
        .infos
        .iter()
        .filter(|k| k.state != KeyState::Expired)
        .count();
    let d = state.auth.dashboard(live_keys as u64).await?;
    Ok(Json(proto::DashboardResponse {
        total_users: d.total_users,
        active_sessions: d.active_sessions,
        active_keys: d.active_keys,
        failed_logins_24h: d.failed_logins_24h,
    }))
}

/// One page of users, optionally filtered by a prefix of email or username.
///
/// Needs the `users:read` permission (or the `admin` role).
#[utoipa::path(
    get,
    path = "/admin/users",
    tag = "admin",
    params(proto::UsersQuery),
    responses(
        (status = 200, description = "A page of users and the cursor of the next page (`null` on the last).", body = proto::UsersPage),
        (status = 400, description = "`invalid_request`: `limit`, `after` or `q` (over 254 characters, or holding a control, format or bidi character) is invalid; the description names the parameter.", body = proto::ErrorBody),
        crate::openapi::responses::InvalidToken,
        (status = 403, description = "`insufficient_scope`: the caller's roles lack `users:read`.", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"authgate\", error=\"insufficient_scope\"`."))),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = ["users:read"])),
)]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    _: Authorized<UsersRead>,
    QueryParams(query): QueryParams<proto::UsersQuery>,
) -> Result<Json<proto::UsersPage>, ApiError> {
    let limit = query.effective_limit();
    let after = match query.after.as_deref() {
        None | Some("") => None,
        Some(cursor) => Some(
            Uuid::parse_str(cursor)
                .map_err(|_| ApiError::invalid_request("after: not a cursor from this API."))?,
        ),
    };
    let prefix = match query.q.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(q) if q.len() > MAX_PREFIX => {
            return Err(ApiError::invalid_request("q: at most 254 characters."));
        }
        Some(q) => Some(LoginName::parse("q", q)?.into_string()),
    };
    let (users, next) = state
        .auth
        .users_page(UserQuery {
            after,
            limit,
            prefix,
        })
        .await?;
    Ok(Json(proto::UsersPage {
        users: users.iter().map(|u| u.to_public()).collect(),
        next: next.map(|id| id.to_string()),
    }))
}

/// One user.
///
/// Needs the `users:read` permission (or the `admin` role).
#[utoipa::path(
    get,
    path = "/admin/users/{id}",
    tag = "admin",
    params(("id" = uuid::Uuid, Path, description = "The user id.")),
    responses(
        (status = 200, description = "The user.", body = proto::PublicUser),
        crate::openapi::responses::InvalidToken,
        (status = 403, description = "`insufficient_scope`: the caller's roles lack `users:read`.", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"authgate\", error=\"insufficient_scope\"`."))),
        (status = 404, description = "`not_found`: no user with this id.", body = proto::ErrorBody),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = ["users:read"])),
)]
pub(crate) async fn get_user(
    State(state): State<AppState>,
    _: Authorized<UsersRead>,
    PathId(id): PathId,
) -> Result<Json<proto::PublicUser>, ApiError> {
    let user = state.auth.user(user_id(&id)?).await?;
    Ok(Json(user.to_public()))
}

/// Replace a user's roles.
///
/// Needs the `users:write` permission (or the `admin` role).
#[utoipa::path(
    put,
    path = "/admin/users/{id}/roles",
    tag = "admin",
    params(("id" = uuid::Uuid, Path, description = "The user id.")),
    request_body(content = proto::SetRolesRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The user with the new roles.", body = proto::PublicUser),
        (status = 400, description = "`invalid_request`: malformed JSON, no `roles`, or an unknown role.", body = proto::ErrorBody),
        crate::openapi::responses::InvalidToken,
        (status = 403, description = "`insufficient_scope`: the caller's roles lack `users:write`, or the user's roles (current or new) grant a permission the caller lacks.", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"authgate\", error=\"insufficient_scope\"`."))),
        (status = 404, description = "`not_found`: no user with this id.", body = proto::ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = proto::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = proto::ErrorBody),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = ["users:write"])),
)]
pub(crate) async fn set_roles(
    State(state): State<AppState>,
    who: Authorized<UsersWrite>,
    RequestOrigin(origin): RequestOrigin,
    PathId(id): PathId,
    JsonBody(body): JsonBody<proto::SetRolesRequest>,
) -> Result<Json<proto::PublicUser>, ApiError> {
    // The service checks the permission and "grant only what you hold".
    let id = user_id(&id)?;
    let user = state
        .auth
        .set_roles(Some(&who.caller), id, body.roles, &origin)
        .await?;
    Ok(Json(user.to_public()))
}

/// Disable a user: they can no longer log in, and all their sessions are revoked.
///
/// Needs the `users:write` permission (or the `admin` role).
#[utoipa::path(
    post,
    path = "/admin/users/{id}/disable",
    tag = "admin",
    params(("id" = uuid::Uuid, Path, description = "The user id.")),
    responses(
        (status = 200, description = "The disabled user.", body = proto::PublicUser),
        crate::openapi::responses::InvalidToken,
        (status = 403, description = "`insufficient_scope`: the caller's roles lack `users:write`, or the user's roles (current or new) grant a permission the caller lacks.", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"authgate\", error=\"insufficient_scope\"`."))),
        (status = 404, description = "`not_found`: no user with this id.", body = proto::ErrorBody),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = ["users:write"])),
)]
pub(crate) async fn disable_user(
    state: State<AppState>,
    who: Authorized<UsersWrite>,
    RequestOrigin(origin): RequestOrigin,
    id: PathId,
) -> Result<Json<proto::PublicUser>, ApiError> {
    set_active(state, who, RequestOrigin(origin), id, false).await
}

/// Enable a disabled user again.
///
/// Needs the `users:write` permission (or the `admin` role).
#[utoipa::path(
    post,
    path = "/admin/users/{id}/enable",
    tag = "admin",
    params(("id" = uuid::Uuid, Path, description = "The user id.")),
    responses(
        (status = 200, description = "The enabled user.", body = proto::PublicUser),
        crate::openapi::responses::InvalidToken,
        (status = 403, description = "`insufficient_scope`: the caller's roles lack `users:write`, or the user's roles (current or new) grant a permission the caller lacks.", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"authgate\", error=\"insufficient_scope\"`."))),
        (status = 404, description = "`not_found`: no user with this id.", body = proto::ErrorBody),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = ["users:write"])),
)]
pub(crate) async fn enable_user(
    state: State<AppState>,
    who: Authorized<UsersWrite>,
    RequestOrigin(origin): RequestOrigin,
    id: PathId,
) -> Result<Json<proto::PublicUser>, ApiError> {
    set_active(state, who, RequestOrigin(origin), id, true).await
}

async fn set_active(
    State(state): State<AppState>,
    who: Authorized<UsersWrite>,
    RequestOrigin(origin): RequestOrigin,
    PathId(id): PathId,
    active: bool,
) -> Result<Json<proto::PublicUser>, ApiError> {
    // The service checks the permission, the reach, and not disabling oneself.
    let id = user_id(&id)?;
    let (user, _revoked) = state
        .auth
        .set_active(Some(&who.caller), id, active, &origin)
        .await?;
    Ok(Json(user.to_public()))
}

/// Audit events, newest first, optionally filtered.
///
/// Needs the `audit:read` permission (or the `admin` role).
#[utoipa::path(
    get,
    path = "/admin/audit",
    operation_id = "list_audit_events",
    tag = "admin",
    params(proto::AuditQuery),
    responses(
        (status = 200, description = "The matching events, newest first.", body = proto::AuditResponse),
        (status = 400, description = "`invalid_request`: `user_id`, `kind` (not visible ASCII), `since` or `limit` is invalid; the description names the parameter.", body = proto::ErrorBody),
        crate::openapi::responses::InvalidToken,
        (status = 403, description = "`insufficient_scope`: the caller's roles lack `audit:read`.", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"authgate\", error=\"insufficient_scope\"`."))),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = ["audit:read"])),
)]
pub(crate) async fn audit(
    State(state): State<AppState>,
    _: Authorized<AuditRead>,
    QueryParams(query): QueryParams<proto::AuditQuery>,
) -> Result<Json<proto::AuditResponse>, ApiError> {
    if query
        .kind
        .as_ref()
        .is_some_and(|k| !authgate_core::text::is_opaque_id(k.as_str()))
    {
        return Err(ApiError::invalid_request(
            "kind: an event kind is visible ASCII, such as login.failed.",
        ));
    }
    let filter = AuditFilter {
        limit: query.effective_limit(),
        user_id: query.user_id,
        kind: query.kind.map(|k| k.as_str().to_owned()),
        since: query.since,
        ..AuditFilter::default()
    };
    let events = state.auth.audit_events(&filter).await?;
    Ok(Json(proto::AuditResponse { events }))
}

/// The signing keys in every state; never key material.
///
/// Needs the `keys:read` permission (or the `admin` role).
#[utoipa::path(
    get,
    path = "/admin/keys",
    operation_id = "list_keys",
    tag = "admin",
    responses(
        (status = 200, description = "Every key the server knows.", body = proto::KeysResponse),
        crate::openapi::responses::InvalidToken,
        (status = 403, description = "`insufficient_scope`: the caller's roles lack `keys:read`.", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"authgate\", error=\"insufficient_scope\"`."))),
        (status = 503, description = "`unavailable`: the database does not answer, so the caller's roles cannot be confirmed.", body = proto::ErrorBody),
    ),
    security(("bearer" = ["keys:read"])),
)]
pub(crate) async fn keys(
    State(state): State<AppState>,
    _: Authorized<KeysRead>,
) -> Json<proto::KeysResponse> {
    Json(proto::KeysResponse {
        keys: state.keys.ring().infos.clone(),
    })
}

/// Rotate the signing keys now.
///
/// The `next` key becomes active (one is created if none is waiting) and a
/// new `next` is created. Needs the `keys:write` permission (or the `admin` role).
#[utoipa::path(
    post,
    path = "/admin/keys/rotate",
    tag = "admin",
    responses(
        (status = 200, description = "The new active key and the new next key.", body = proto::RotateKeysResponse),
        crate::openapi::responses::InvalidToken,
        (status = 403, description = "`insufficient_scope`: the caller's roles lack `keys:write`.", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"authgate\", error=\"insufficient_scope\"`."))),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = ["keys:write"])),
)]
pub(crate) async fn rotate_keys(
    State(state): State<AppState>,
    who: Authorized<KeysWrite>,
    RequestOrigin(origin): RequestOrigin,
) -> Result<Json<proto::RotateKeysResponse>, ApiError> {
    state
        .rotate_keys_by(Some(&who.caller.actor_id()), &origin)
        .await?;
    let ring = state.keys.ring();
    let find = |wanted: KeyState| {
        ring.infos
            .iter()
            .rev()
            .find(|k| k.state == wanted && k.lane == proto::KeyLane::Access)
            .cloned()
    };
    let (Some(active), Some(next)) = (find(KeyState::Active), find(KeyState::Next)) else {
        return Err(ApiError::internal(&"rotation left no active or next key"));
    };
    Ok(Json(proto::RotateKeysResponse { active, next }))
}

/// Create a service client for the OAuth endpoints.
///
/// The secret is shown only in this response (`Cache-Control: no-store`).
/// Needs the `clients:write` permission (or the `admin` role).
#[utoipa::path(
    post,
    path = "/admin/clients",
    tag = "admin",
    request_body(content = proto::CreateClientRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The client id and its secret.", body = proto::CreateClientResponse),
        (status = 400, description = "`invalid_request`: malformed JSON or a missing or invalid field; the description names the field.", body = proto::ErrorBody),
        crate::openapi::responses::InvalidToken,
        (status = 403, description = "`insufficient_scope`: the caller's roles lack `clients:write`, or the client's roles grant a permission the caller lacks.", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"authgate\", error=\"insufficient_scope\"`."))),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = proto::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = proto::ErrorBody),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = ["clients:write"])),
)]
pub(crate) async fn create_client(
    State(state): State<AppState>,
    who: Authorized<ClientsWrite>,
    RequestOrigin(origin): RequestOrigin,
    JsonBody(body): JsonBody<proto::CreateClientRequest>,
) -> Result<Response, ApiError> {
    // The service checks the permission and "grant only what you hold".
    let created = state
        .auth
        .create_client(Some(&who.caller), &body.name, body.roles, &origin)
        .await?;
    let body = proto::CreateClientResponse {
        client_id: created.client.id.clone(),
        client_secret: created.secret.to_string(),
    };
    Ok(no_store((StatusCode::CREATED, Json(body)).into_response()))
}

/// A user id from the path; anything but a UUID names no user (404).
pub(super) fn user_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| ApiError::not_found())
}
