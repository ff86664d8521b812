//! POST /auth/password/forgot and /auth/password/reset: password reset by email.

use authgate_core::Password;
use authgate_proto as proto;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::reply::no_store;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// The one answer to a reset request, whoever has the address.
pub(crate) const FORGOT_ANSWER: &str =
    "If an account has this address, a link to reset its password is on its way.";

/// Ask for a password-reset link by email.
///
/// The answer is the same whether or not an account has the address (a
/// message goes to the address either way: the link, or a notice that no
/// account has it). An address is sent at most `recovery.resets_per_address_per_hour`
/// messages an hour; further requests get the same answer and send nothing.
#[utoipa::path(
    post,
    path = "/auth/password/forgot",
    tag = "auth",
    request_body(content = proto::ForgotPasswordRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted: `{\"message\": \"If an account has this address, …\"}`, the same for every address.", body = proto::MessageResponse),
        (status = 400, description = "`invalid_request`: malformed JSON, or `email` is not an email address.", body = proto::ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = proto::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = proto::ErrorBody),
        (status = 429, description = "`rate_limited`: too many login, registration and reset attempts from this address.", body = proto::ErrorBody,
            headers(("Retry-After" = u64, description = "Whole seconds to wait, at least 1."))),
        (status = 503, description = "`unavailable`: a backing store is down, or the mail outbox is full (`email.max_queued`, then with `Retry-After`); nothing was queued.", body = proto::ErrorBody,
            headers(("Retry-After" = u64, description = "When the outbox was full: whole seconds to wait."))),
    ),
)]
pub(crate) async fn forgot(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    JsonBody(body): JsonBody<proto::ForgotPasswordRequest>,
) -> Result<Response, ApiError> {
    state.auth.forgot_password(&body.email, &origin).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(proto::MessageResponse::new(FORGOT_ANSWER)),
    )
        .into_response())
}

/// Set a new password with a reset link's token.
///
/// The token works once; the new password meets the registration rule;
/// every session of the account ends.
#[utoipa::path(
    post,
    path = "/auth/password/reset",
    tag = "auth",
    request_body(content = proto::ResetPasswordRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The password was set and every session ended: `{\"message\": \"Password changed. Log in with the new password.\"}`.", body = proto::MessageResponse),
        (status = 400, description = "`invalid_request`: malformed JSON, or a `new_password` that fails the policy (the token stays usable); `invalid_grant`: the token is unknown, used, replaced by a newer request, expired, or older than the account's last password change; nothing changed.", body = proto::ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = proto::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = proto::ErrorBody),
        (status = 503, description = "`unavailable`: a backing store is down, or every password-hashing thread stayed busy for 30 s (then with `Retry-After`); nothing changed.", body = proto::ErrorBody,
            headers(("Retry-After" = u64, description = "When the server was busy: whole seconds to wait."))),
    ),
)]
pub(crate) async fn reset(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    JsonBody(body): JsonBody<proto::ResetPasswordRequest>,
) -> Result<Response, ApiError> {
    let proto::ResetPasswordRequest {
        token,
        new_password,
    } = body;
    let token = zeroize::Zeroizing::new(token);
    state
        .auth
        .reset_password(&token, Password::new(new_password)?, &origin)
        .await?;
    Ok(no_store(
        Json(proto::MessageResponse::new(
            "Password changed. Log in with the new password.",
        ))
        .into_response(),
    ))
}
