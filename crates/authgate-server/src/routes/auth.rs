//! POST /auth/register, /auth/login, /auth/refresh, /auth/logout,
//! /auth/password/change.

use authgate_core::{
    AuthError, LoginAttempt, LoginOutcome, LogoutScope, Password, PasswordChange, Registration,
};
use authgate_proto as proto;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::reply::{no_store, seconds};
use crate::error::ApiError;
use crate::extract::{Authenticated, JsonBody, OptionalJsonBody};
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// Register a user.
///
/// New users get the configured default roles. Registration can be closed
/// in the configuration (`registration.mode = "closed"`).
#[utoipa::path(
    post,
    path = "/auth/register",
    tag = "auth",
    request_body(content = proto::RegisterRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The user was registered.", body = proto::RegisterResponse),
        (status = 400, description = "`invalid_request`: malformed JSON, a missing or invalid email (control, format or bidi characters, mixed scripts or ASCII look-alikes included), a username outside `[A-Za-z0-9_.-]{3,64}`, a name over 200 characters or holding a control, format or bidi character, or a password that fails the policy; the description names the field.", body = proto::ErrorBody),
        (status = 403, description = "`insufficient_scope`: registration is closed.", body = proto::ErrorBody),
        (status = 409, description = "`conflict`: the email or username is already registered.", body = proto::ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = proto::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = proto::ErrorBody),
        (status = 429, description = "`rate_limited`: too many login and registration attempts from this address (`rate_limit.login_per_ip_per_minute`).", body = proto::ErrorBody,
            headers(("Retry-After" = u64, description = "Whole seconds to wait, at least 1."))),
        (status = 503, description = "`unavailable`: a backing store is down, or every password-hashing thread stayed busy for 30 s (then with `Retry-After`); nothing was written.", body = proto::ErrorBody,
            headers(("Retry-After" = u64, description = "When the server was busy: whole seconds to wait."))),
    ),
)]
pub(crate) async fn register(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    JsonBody(body): JsonBody<proto::RegisterRequest>,
) -> Result<Response, ApiError> {
    let user = state
        .auth
        .register(
            Registration {
                email: body.email,
                password: Password::new(body.password)?,
                username: body.username,
                name: body.name,
            },
            &origin,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(proto::RegisterResponse {
            user: user.to_public(),
        }),
    )
        .into_response())
}

/// Log in with an email or username and a password.
///
/// Starts a new session (`sid`) and returns an access token and a refresh
/// token (`Cache-Control: no-store`); for an account with a second factor,
/// an `mfa_token` for `POST /auth/login/mfa` instead.
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "auth",
    request_body(content = proto::LoginRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Logged in: the tokens and the user. For an account with a second factor, instead `{\"mfa_required\": true, \"mfa_token\": …, \"expires_in\": 300}` (`MfaRequiredResponse`): finish with `POST /auth/login/mfa`.", body = proto::LoginResponse),
        (status = 400, description = "`invalid_request`: malformed JSON, no identifier (or two different ones), an identifier holding a control, format or bidi character, or an unknown `audience`; the description names the field.", body = proto::ErrorBody),
        (status = 401, description = "`invalid_credentials`: unknown user or wrong password (the same body either way).", body = proto::ErrorBody),
        (status = 403, description = "`account_disabled`: the password is right but the account is disabled; `email_not_verified`: the password is right but the account's email address is not verified and `auth.require_verified_email` is on (`POST /auth/email/verify/resend` mails a new link).", body = proto::ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = proto::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = proto::ErrorBody),
        (status = 429, description = "`rate_limited`: too many attempts from this address or on this account.", body = proto::ErrorBody,
            headers(("Retry-After" = u64, description = "Whole seconds (at least 1) to wait before trying again."))),
        (status = 503, description = "`unavailable`: a backing store is down, or every password-hashing thread stayed busy for 30 s (then with `Retry-After`); nothing was written.", body = proto::ErrorBody,
            headers(("Retry-After" = u64, description = "When the server was busy: whole seconds to wait."))),
    ),
)]
pub(crate) async fn login(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
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
    let outcome = state
        .auth
        .login(
            LoginAttempt {
                identifier,
                password: Password::new(body.password)?,
                audience: body.audience,
            },
            &origin,
        )
        .await?;
    match outcome {
        LoginOutcome::LoggedIn(tokens, user) => {
            Ok(super::mfa::login_response(tokens, user.to_public()))
        }
        LoginOutcome::MfaRequired(pending) => {
            let body = proto::MfaRequiredResponse {
                mfa_required: true,
                mfa_token: pending.token.to_string(),
                expires_in: seconds(pending.expires_in),
            };
            Ok(no_store(Json(body).into_response()))
        }
    }
}

/// Trade a refresh token for new tokens (rotation).
///
/// The old refresh token stops working; a rotated one presented again after
/// the reuse grace window revokes the whole session.
#[utoipa::path(
    post,
    path = "/auth/refresh",
    tag = "auth",
    request_body(content = proto::RefreshRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "New tokens; the refresh token was rotated.", body = proto::RefreshResponse),
        (status = 400, description = "`invalid_request`: malformed JSON or no `refresh_token`.", body = proto::ErrorBody),
        (status = 401, description = "`invalid_grant`: the refresh token is unknown, expired, revoked or was reused.", body = proto::ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = proto::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = proto::ErrorBody),
        crate::openapi::responses::Unavailable,
    ),
)]
pub(crate) async fn refresh(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    JsonBody(body): JsonBody<proto::RefreshRequest>,
) -> Result<Response, ApiError> {
    let tokens = state.auth.refresh(&body.refresh_token, &origin).await?;
    let body = proto::RefreshResponse {
        access_token: tokens.access_token,
        token_type: proto::TokenType::Bearer,
        expires_in: seconds(tokens.expires_in),
        refresh_token: tokens.refresh_token.to_string(),
        refresh_expires_in: seconds(tokens.refresh_expires_in),
    };
    Ok(no_store(Json(body).into_response()))
}

/// Log out: revoke the caller's session, or all of the user's sessions.
///
/// The body is optional; without one the current session is revoked.
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "auth",
    request_body(content = Option<proto::LogoutRequest>, content_type = "application/json"),
    responses(
        (status = 200, description = "Logged out: `{\"message\": \"Logged out.\"}`.", body = proto::MessageResponse),
        (status = 400, description = "`invalid_request`: the body is not a valid logout request.", body = proto::ErrorBody),
        crate::openapi::responses::InvalidToken,
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = proto::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: a non-empty body that is not `application/json`.", body = proto::ErrorBody),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn logout(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
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
    state.auth.logout(&who, scope, &origin).await?;
    Ok(Json(proto::MessageResponse {
        message: "Logged out.".to_owned(),
    }))
}

/// Change the caller's password.
///
/// The current password is checked as a login is (a wrong one counts
/// toward the same limits); the new one must pass the registration rule.
/// Every other session of the account is ended; the caller's stays.
#[utoipa::path(
    post,
    path = "/auth/password/change",
    tag = "auth",
    request_body(content = proto::ChangePasswordRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Changed; `sessions_ended` other sessions were ended.", body = proto::PasswordChangedResponse),
        (status = 400, description = "`invalid_request`: malformed JSON, a missing field, or a new password that fails the policy (length, zxcvbn strength, equal to the email or username); the description names the field.", body = proto::ErrorBody),
        (status = 401, description = "`invalid_credentials`: the current password is wrong (counted as a failed login of the account); or `invalid_token` (with its challenge) for a bad Bearer token.", body = proto::ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = proto::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = proto::ErrorBody),
        (status = 429, description = "`rate_limited`: too many login attempts from this address or on this account.", body = proto::ErrorBody,
            headers(("Retry-After" = u64, description = "Whole seconds (at least 1) to wait before trying again."))),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    Authenticated(who): Authenticated,
    JsonBody(body): JsonBody<proto::ChangePasswordRequest>,
) -> Result<Response, ApiError> {
    let change = PasswordChange {
        current: named_password("current_password", body.current_password)?,
        new: named_password("new_password", body.new_password)?,
    };
    let ended = match state.auth.change_password(&who, change, &origin).await {
        // The account went away or was disabled under the token.
        Err(AuthError::NotFound) => return Err(ApiError::invalid_token()),
        other => other?,
    };
    let body = proto::PasswordChangedResponse {
        message: "Password changed.".to_owned(),
        sessions_ended: ended as u64,
    };
    Ok(no_store(Json(body).into_response()))
}

/// `text` as a [`Password`], a refusal naming `field`.
fn named_password(field: &'static str, text: String) -> Result<Password, AuthError> {
    Password::new(text).map_err(|e| match e {
        AuthError::InvalidInput { reason, .. } => AuthError::InvalidInput { field, reason },
        other => other,
    })
}
