//! POST /auth/register, /auth/login, /auth/refresh, /auth/logout.

use authgate_core::{LoginRequest, LogoutScope, Password, Registration, Tokens};
use authgate_proto as proto;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::no_store;
use crate::client::ClientInfo;
use crate::error::ApiError;
use crate::extract::{Authenticated, JsonBody, OptionalJsonBody};
use crate::state::AppState;

pub(crate) async fn register(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<proto::RegisterRequest>,
) -> Result<Response, ApiError> {
    let user = state
        .auth
        .register(Registration {
            email: body.email,
            password: Password::new(body.password)?,
            username: body.username,
            name: body.name,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(proto::RegisterResponse {
            user: user.to_public(),
        }),
    )
        .into_response())
}

pub(crate) async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    JsonBody(body): JsonBody<proto::LoginRequest>,
) -> Result<Response, ApiError> {
    let identifier = body
        .identifier()
        .ok_or_else(|| {
            ApiError::invalid_request(
                "email: give an email or a username (two different ones cannot both be used).",
            )
        })?
        .to_owned();
    let (tokens, user) = state
        .auth
        .login(LoginRequest {
            identifier,
            password: Password::new(body.password)?,
            audience: body.audience,
            ip: client.ip.map(|ip| ip.to_string()),
            user_agent: client.user_agent,
        })
        .await?;
    let Tokens {
        access_token,
        expires_in,
        refresh_token,
        refresh_expires_in,
    } = tokens;
    let body = proto::LoginResponse {
        access_token,
        token_type: proto::TokenType::Bearer,
        expires_in: seconds(expires_in),
        refresh_token: refresh_token.to_string(),
        refresh_expires_in: seconds(refresh_expires_in),
        user: user.to_public(),
    };
    Ok(no_store(Json(body).into_response()))
}

pub(crate) async fn refresh(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<proto::RefreshRequest>,
) -> Result<Response, ApiError> {
    let tokens = state.auth.refresh(&body.refresh_token).await?;
    let body = proto::RefreshResponse {
        access_token: tokens.access_token,
        token_type: proto::TokenType::Bearer,
        expires_in: seconds(tokens.expires_in),
        refresh_token: tokens.refresh_token.to_string(),
        refresh_expires_in: seconds(tokens.refresh_expires_in),
    };
    Ok(no_store(Json(body).into_response()))
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    Authenticated(who): Authenticated,
    OptionalJsonBody(body): OptionalJsonBody<proto::LogoutRequest>,
) -> Result<Json<proto::MessageResponse>, ApiError> {
    let body = body.unwrap_or_default();
    let scope = if body.all {
        LogoutScope::All
    } else {
        LogoutScope::Current {
            refresh_token: body.refresh_token,
        }
    };
    state.auth.logout(&who, scope).await?;
    Ok(Json(proto::MessageResponse {
        message: "Logged out.".to_owned(),
    }))
}

/// A lifetime in seconds for the wire; never negative.
fn seconds(s: i64) -> u64 {
    u64::try_from(s).unwrap_or(0)
}
