//! GET /auth/sessions and DELETE /auth/sessions/{id}: the caller's own sessions.

use authgate_proto as proto;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use crate::error::ApiError;
use crate::extract::{Authenticated, PathId};
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// The caller's active sessions.
#[utoipa::path(
    get,
    path = "/auth/sessions",
    operation_id = "list_sessions",
    tag = "sessions",
    responses(
        (status = 200, description = "The caller's unrevoked, unexpired sessions; `current` marks this token's.", body = proto::SessionsResponse),
        crate::openapi::responses::InvalidToken,
        (status = 503, description = "`unavailable`: a backing store is down.", body = proto::ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Authenticated(who): Authenticated,
) -> Result<Json<proto::SessionsResponse>, ApiError> {
    let sessions = state.auth.sessions(&who).await?;
    Ok(Json(proto::SessionsResponse {
        sessions: sessions
            .into_iter()
            .map(|s| proto::SessionInfo {
                current: s.id == who.session_id,
                id: s.id,
                created_at: s.created_at,
                last_used_at: s.last_used_at,
                expires_at: s.expires_at,
                user_agent: s.user_agent,
                ip: s.ip.and_then(|ip| ip.parse().ok()),
            })
            .collect(),
    }))
}

/// Revoke one of the caller's own sessions.
#[utoipa::path(
    delete,
    path = "/auth/sessions/{id}",
    operation_id = "revoke_session",
    tag = "sessions",
    params(("id" = uuid::Uuid, Path, description = "The session id (`sid`).")),
    responses(
        (status = 204, description = "The session was revoked."),
        crate::openapi::responses::InvalidToken,
        (status = 404, description = "`not_found`: no such session, or not the caller's.", body = proto::ErrorBody),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    Authenticated(who): Authenticated,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    // Not a session id at all: no such session (404), never a 400 that tells ids apart.
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::not_found())?;
    state.auth.revoke_own_session(&who, id, &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}
