//! Second factors: `POST /auth/login/mfa` (a login's second step),
//! `GET /auth/mfa`, `POST /auth/mfa/totp` (enrol), `…/confirm`,
//! `…/disable`, and `POST /admin/users/{id}/mfa/reset`.

use authgate_core::{AuthError, DisableProof, MfaState, Password, Tokens};
use authgate_proto as proto;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::reply::{no_store, seconds};
use crate::authz::{Authorized, UsersWrite};
use crate::error::ApiError;
use crate::extract::{Authenticated, JsonBody, PathId};
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// Finish a login with a second-factor code.
///
/// The `mfa_token` of `POST /auth/login`'s `mfa_required` answer, with a
/// current TOTP code (the step before or after is accepted too, a code
/// already used is not) or an unused recovery code. Answers as a login does.
#[utoipa::path(
    post,
    path = "/auth/login/mfa",
    operation_id = "login_mfa",
    tag = "auth",
    request_body(content = proto::MfaLoginRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Logged in: the tokens and the user, as `POST /auth/login` without a second factor.", body = proto::LoginResponse),
        (status = 400, description = "`invalid_request`: malformed JSON or a missing field.", body = proto::ErrorBody),
        (status = 401, description = "`invalid_credentials`: the code is wrong, expired or was already used (counted toward the account's limits; the token stays usable for five codes in all); `invalid_grant`: the `mfa_token` is unknown, expired, used, worn out or a browser's.", body = proto::ErrorBody),
        (status = 403, description = "`account_disabled`: the account was disabled after the password step.", body = proto::ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = proto::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = proto::ErrorBody),
        (status = 429, description = "`rate_limited`: too many attempts from this address or wrong codes on this account.", body = proto::ErrorBody,
            headers(("Retry-After" = u64, description = "Whole seconds (at least 1) to wait before trying again."))),
        crate::openapi::responses::Unavailable,
    ),
)]
pub(crate) async fn login(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    JsonBody(body): JsonBody<proto::MfaLoginRequest>,
) -> Result<Response, ApiError> {
    let (tokens, user) = state
        .auth
        .finish_mfa_login(&body.mfa_token, &body.code, &origin)
        .await?;
    Ok(login_response(tokens, user.to_public()))
}

/// The body of a finished login (`POST /auth/login`, `POST /auth/login/mfa`).
pub(crate) fn login_response(tokens: Tokens, user: proto::PublicUser) -> Response {
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
        user,
    };
    no_store(Json(body).into_response())
}

/// The caller's second factor: on or off, pending, recovery codes left.
#[utoipa::path(
    get,
    path = "/auth/mfa",
    operation_id = "mfa_state",
    tag = "auth",
    responses(
        (status = 200, description = "The state of the caller's second factor.", body = proto::MfaStateResponse),
        crate::openapi::responses::InvalidToken,
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn state(
    State(state): State<AppState>,
    Authenticated(who): Authenticated,
) -> Result<Json<proto::MfaStateResponse>, ApiError> {
    let mfa = state.auth.mfa_state(who.user_id).await?;
    Ok(Json(state_body(mfa)))
}

/// [`MfaState`] on the wire.
fn state_body(mfa: MfaState) -> proto::MfaStateResponse {
    proto::MfaStateResponse {
        totp_enabled: mfa.enabled,
        totp_pending: mfa.pending,
        recovery_codes_left: mfa.recovery_codes_left,
    }
}

/// Begin a TOTP enrolment.
///
/// A new secret (sealed with the master key at rest), its `otpauth://` URI
/// and the URI's QR code as SVG; it replaces an enrolment not yet
/// confirmed and protects nothing until `POST /auth/mfa/totp/confirm`.
#[utoipa::path(
    post,
    path = "/auth/mfa/totp",
    operation_id = "begin_totp",
    tag = "auth",
    responses(
        (status = 200, description = "The secret, shown once (`Cache-Control: no-store`).", body = proto::TotpEnrolmentResponse),
        crate::openapi::responses::InvalidToken,
        (status = 409, description = "`conflict`: a second factor is already enabled.", body = proto::ErrorBody),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn enrol(
    State(state): State<AppState>,
    Authenticated(who): Authenticated,
) -> Result<Response, ApiError> {
    let enrolment = match state.auth.begin_totp(&who).await {
        Err(AuthError::NotFound) => return Err(ApiError::invalid_token()),
        other => other?,
    };
    let qr_svg = crate::qr::svg(&enrolment.uri)?;
    let body = proto::TotpEnrolmentResponse {
        secret: enrolment.secret.to_string(),
        otpauth_uri: enrolment.uri.to_string(),
        qr_svg: qr_svg.to_string(),
    };
    Ok(no_store(Json(body).into_response()))
}

/// Confirm a TOTP enrolment with a current code.
///
/// The factor is on from now on; the answer holds ten single-use recovery
/// codes, shown this once (stored only as hashes).
#[utoipa::path(
    post,
    path = "/auth/mfa/totp/confirm",
    operation_id = "confirm_totp",
    tag = "auth",
    request_body(content = proto::TotpConfirmRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Enabled; the recovery codes (`Cache-Control: no-store`).", body = proto::RecoveryCodesResponse),
        (status = 400, description = "`invalid_request`: malformed JSON or no `code`.", body = proto::ErrorBody),
        (status = 401, description = "`invalid_credentials`: the code is wrong or expired (counted toward the account's limits); or `invalid_token` (with its challenge) for a bad Bearer token.", body = proto::ErrorBody),
        (status = 409, description = "`conflict`: no enrolment waits for a code.", body = proto::ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = proto::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = proto::ErrorBody),
        (status = 429, description = "`rate_limited`: too many attempts from this address or wrong codes on this account.", body = proto::ErrorBody,
            headers(("Retry-After" = u64, description = "Whole seconds (at least 1) to wait before trying again."))),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn confirm(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    Authenticated(who): Authenticated,
    JsonBody(body): JsonBody<proto::TotpConfirmRequest>,
) -> Result<Response, ApiError> {
    let codes = match state.auth.confirm_totp(&who, &body.code, &origin).await {
        Err(AuthError::NotFound) => return Err(ApiError::invalid_token()),
        other => other?,
    };
    let body = proto::RecoveryCodesResponse {
        recovery_codes: codes.0.iter().map(|c| c.to_string()).collect(),
    };
    Ok(no_store(Json(body).into_response()))
}

/// Turn the caller's second factor off.
///
/// Proven by a current TOTP code or an unused recovery code (`code`) or by
/// the password (`password`): exactly one of them.
#[utoipa::path(
    post,
    path = "/auth/mfa/totp/disable",
    operation_id = "disable_totp",
    tag = "auth",
    request_body(content = proto::DisableMfaRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Off: the new state.", body = proto::MfaStateResponse),
        (status = 400, description = "`invalid_request`: malformed JSON, or not exactly one of `code` and `password`.", body = proto::ErrorBody),
        (status = 401, description = "`invalid_credentials`: the code or the password is wrong (counted toward the account's limits); or `invalid_token` (with its challenge) for a bad Bearer token.", body = proto::ErrorBody),
        (status = 404, description = "`not_found`: no second factor is enabled or pending.", body = proto::ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = proto::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = proto::ErrorBody),
        (status = 429, description = "`rate_limited`: too many attempts from this address or on this account.", body = proto::ErrorBody,
            headers(("Retry-After" = u64, description = "Whole seconds (at least 1) to wait before trying again."))),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn disable(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    Authenticated(who): Authenticated,
    JsonBody(body): JsonBody<proto::DisableMfaRequest>,
) -> Result<Json<proto::MfaStateResponse>, ApiError> {
    let proof = match (body.code, body.password) {
        (Some(code), None) => DisableProof::Code(code),
        (None, Some(password)) => DisableProof::Password(Password::new(password)?),
        _ => {
            return Err(ApiError::invalid_request(
                "code: give a code or the password (exactly one of them).",
            ));
        }
    };
    state.auth.disable_totp(&who, proof, &origin).await?;
    let mfa = state.auth.mfa_state(who.user_id).await?;
    Ok(Json(state_body(mfa)))
}

/// Reset a user's second factor.
///
/// The TOTP factor and recovery codes go and every session of the user
/// ends; audited as `mfa.reset` with the caller as actor. Needs the
/// `users:write` permission and every permission of the user's roles.
#[utoipa::path(
    post,
    path = "/admin/users/{id}/mfa/reset",
    operation_id = "reset_user_mfa",
    tag = "admin",
    params(("id" = uuid::Uuid, Path, description = "The user id.")),
    responses(
        (status = 200, description = "Reset; `sessions_ended` sessions of the user were ended.", body = proto::MfaResetResponse),
        crate::openapi::responses::InvalidToken,
        (status = 403, description = "`insufficient_scope`: the caller's roles lack `users:write`, or the user's roles grant a permission the caller lacks.", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"authgate\", error=\"insufficient_scope\"`."))),
        (status = 404, description = "`not_found`: no user with this id.", body = proto::ErrorBody),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = ["users:write"])),
)]
pub(crate) async fn admin_reset(
    State(state): State<AppState>,
    who: Authorized<UsersWrite>,
    RequestOrigin(origin): RequestOrigin,
    PathId(id): PathId,
) -> Result<Json<proto::MfaResetResponse>, ApiError> {
    let id = super::admin::user_id(&id)?;
    let ended = state.auth.reset_mfa(Some(&who.caller), id, &origin).await?;
    Ok(Json(proto::MfaResetResponse {
        sessions_ended: ended as u64,
    }))
}
