//! POST /auth/email/verify and /auth/email/verify/resend (email
//! verification), POST /auth/email/change (a new address, verified first).

use authgate_core::{AuthError, EmailChange, Password};
use authgate_proto as proto;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::reply::no_store;
use crate::error::ApiError;
use crate::extract::{Authenticated, JsonBody};
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// The one answer to a resend request, whoever has the address.
pub(crate) const RESEND_ANSWER: &str =
    "If an account with this address awaits verification, a new link is on its way.";

/// Ask again for the link that verifies an account's email address.
///
/// The answer is the same whether or not an account has the address, and
/// whether or not it is verified already. An address, and an account, is
/// sent at most `recovery.verifications_per_hour` verification messages an
/// hour; further requests get the same answer and send nothing.
#[utoipa::path(
    post,
    path = "/auth/email/verify/resend",
    tag = "auth",
    request_body(content = proto::ResendVerificationRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted: `{\"message\": \"If an account with this address awaits verification, …\"}`, the same for every address.", body = proto::MessageResponse),
        (status = 400, description = "`invalid_request`: malformed JSON, or an empty `email` or one with control characters.", body = proto::ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = proto::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = proto::ErrorBody),
        (status = 429, description = "`rate_limited`: too many login, registration, reset and verification attempts from this address.", body = proto::ErrorBody,
            headers(("Retry-After" = u64, description = "Whole seconds to wait, at least 1."))),
        (status = 503, description = "`unavailable`: a backing store is down, or the mail outbox is full (`email.max_queued`, then with `Retry-After`); nothing was queued.", body = proto::ErrorBody,
            headers(("Retry-After" = u64, description = "When the outbox was full: whole seconds to wait."))),
    ),
)]
pub(crate) async fn resend(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    JsonBody(body): JsonBody<proto::ResendVerificationRequest>,
) -> Result<Response, ApiError> {
    state.auth.resend_verification(&body.email, &origin).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(proto::MessageResponse::new(RESEND_ANSWER)),
    )
        .into_response())
}

/// Verify an email address with a verification link's token.
///
/// The token works once. For a new account it marks the address
/// verified; for an email change it makes the new address the account's
/// (verified), and the old address is sent a notice.
#[utoipa::path(
    post,
    path = "/auth/email/verify",
    tag = "auth",
    request_body(content = proto::VerifyEmailRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The address is verified: `{\"message\": \"Email address verified.\"}`.", body = proto::MessageResponse),
        (status = 400, description = "`invalid_request`: malformed JSON; `invalid_grant`: the token is unknown, used, replaced by a newer link, or expired; nothing changed.", body = proto::ErrorBody),
        (status = 409, description = "`conflict`: the address the link would change to was registered by another account meanwhile; nothing changed.", body = proto::ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = proto::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = proto::ErrorBody),
        (status = 503, description = "`unavailable`: a backing store is down; nothing changed.", body = proto::ErrorBody),
    ),
)]
pub(crate) async fn verify(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    JsonBody(body): JsonBody<proto::VerifyEmailRequest>,
) -> Result<Response, ApiError> {
    let token = zeroize::Zeroizing::new(body.token);
    state.auth.verify_email(&token, &origin).await?;
    Ok(no_store(
        Json(proto::MessageResponse::new("Email address verified.")).into_response(),
    ))
}

/// The answer to an email change that was taken.
pub(crate) const CHANGE_ANSWER: &str =
    "A link to confirm the new address is on its way. The address changes once it is opened.";

/// Ask to change the caller's email address.
///
/// The current password is checked as a login is (a wrong one counts
/// toward the same limits). A verification link goes to the new address;
/// the account's address changes only when it is used, and the old
/// address is then sent a notice. Until then nothing changes.
#[utoipa::path(
    post,
    path = "/auth/email/change",
    tag = "auth",
    request_body(content = proto::ChangeEmailRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted: `{\"message\": \"A link to confirm the new address is on its way. …\"}`. An address (or account) past its hourly allowance of verification messages gets the same answer and nothing is sent.", body = proto::MessageResponse),
        (status = 400, description = "`invalid_request`: malformed JSON, a missing field, or a `new_email` that is not an address or is the current one; the description names the field.", body = proto::ErrorBody),
        (status = 401, description = "`invalid_credentials`: the current password is wrong (counted as a failed login of the account); or `invalid_token` (with its challenge) for a bad Bearer token.", body = proto::ErrorBody),
        (status = 409, description = "`conflict`: another account has the new address.", body = proto::ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = proto::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = proto::ErrorBody),
        (status = 429, description = "`rate_limited`: too many login attempts from this address or on this account.", body = proto::ErrorBody,
            headers(("Retry-After" = u64, description = "Whole seconds (at least 1) to wait before trying again."))),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn change(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    Authenticated(who): Authenticated,
    JsonBody(body): JsonBody<proto::ChangeEmailRequest>,
) -> Result<Response, ApiError> {
    let current_password = Password::new(body.current_password).map_err(|e| match e {
        AuthError::InvalidInput { reason, .. } => AuthError::InvalidInput {
            field: "current_password",
            reason,
        },
        other => other,
    })?;
    let change = EmailChange {
        current_password,
        new_email: body.new_email,
    };
    match state.auth.request_email_change(&who, change, &origin).await {
        // The account went away or was disabled under the token.
        Err(AuthError::NotFound) => return Err(ApiError::invalid_token()),
        other => other?,
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(proto::MessageResponse::new(CHANGE_ANSWER)),
    )
        .into_response())
}
