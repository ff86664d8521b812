//! GET /auth/sessions and DELETE /auth/sessions/{id}: the caller's own sessions.

use authgate_proto as proto;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::session_cursor;
use crate::error::ApiError;
use crate::extract::{Authenticated, PathId, QueryParams};
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// One page of the caller's active sessions, newest first.
#[utoipa::path(
    get,
    path = "/auth/sessions",
    operation_id = "list_sessions",
    tag = "sessions",
    params(proto::SessionsQuery),
    responses(
        (status = 200, description = "A page of the caller's unrevoked, unexpired sessions, newest first; `current` marks this token's; `next_cursor` is the `cursor` of the next page (`null` on the last).", body = proto::SessionsResponse),
        (status = 400, description = "`invalid_request`: `limit` or `cursor` is invalid; the description names the parameter.", body = proto::ErrorBody),
        crate::openapi::responses::InvalidToken,
        (status = 503, description = "`unavailable`: a backing store is down.", body = proto::ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Authenticated(who): Authenticated,
    QueryParams(query): QueryParams<proto::SessionsQuery>,
) -> Result<Json<proto::SessionsResponse>, ApiError> {
    let after = match query.cursor.as_deref() {
        None | Some("") => None,
        Some(cursor) => Some(session_cursor::decode(cursor)?),
    };
    let (sessions, next) = state
        .auth
        .sessions_page(&who, after, query.effective_limit())
        .await?;
    Ok(Json(proto::SessionsResponse {
        next_cursor: next.as_ref().map(session_cursor::encode),
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
