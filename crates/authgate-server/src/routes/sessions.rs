//! GET /auth/sessions and DELETE /auth/sessions/{id}: the caller's own sessions.

use authgate_proto as proto;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use uuid::Uuid;

use crate::error::ApiError;
use crate::extract::Authenticated;
use crate::state::AppState;

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

pub(crate) async fn revoke(
    State(state): State<AppState>,
    Authenticated(who): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    // Not a session id at all: no such session (404), never a 400 that tells ids apart.
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::not_found())?;
    state.auth.revoke_own_session(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
