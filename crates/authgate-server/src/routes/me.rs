//! GET /me: the caller and its current session.

use authgate_core::AuthError;
use authgate_proto as proto;
use axum::Json;
use axum::extract::State;

use crate::error::ApiError;
use crate::extract::Authenticated;
use crate::state::AppState;

/// The caller and the session of their access token.
#[utoipa::path(
    get,
    path = "/me",
    tag = "sessions",
    responses(
        (status = 200, description = "The caller (PublicUser fields) and `session`.", body = proto::MeResponse),
        (status = 401, description = "`invalid_token`: anything but a valid, unrevoked access token of an existing, enabled user.", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"authgate\"`, with `error=\"invalid_token\"` when a token was sent."))),
        (status = 503, description = "`unavailable`: a backing store is down.", body = proto::ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn me(
    State(state): State<AppState>,
    Authenticated(who): Authenticated,
) -> Result<Json<proto::MeResponse>, ApiError> {
    let (user, session) = state.auth.me(&who).await.map_err(|e| match e {
        // The user or session vanished or was disabled since the token was issued.
        AuthError::NotFound => ApiError::invalid_token(),
        other => other.into(),
    })?;
    Ok(Json(proto::MeResponse {
        user: user.to_public(),
        session: proto::CurrentSession {
            id: session.id,
            created_at: session.created_at,
            expires_at: session.expires_at,
        },
    }))
}
