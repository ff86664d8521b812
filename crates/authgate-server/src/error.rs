//! The one place errors become HTTP responses in docs/http-api.md's shape.

use authgate_core::AuthError;
use authgate_guard::GuardError;
use authgate_proto::{ErrorBody, ErrorCode};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An error response: status, `error` code, a description safe to show, and
/// the RFC 6750 challenge for Bearer failures.
#[derive(Debug)]
pub struct ApiError {
    /// The `error` member, which also decides the status.
    code: ErrorCode,
    /// The `error_description` member; never internals.
    description: String,
    /// `WWW-Authenticate` for 401/403 on Bearer endpoints.
    challenge: Option<&'static str>,
    /// Seconds for `Retry-After` (429, and 503 when the server is busy).
    retry_after: Option<u64>,
    /// A status other than the code's own (405, 408, 414, 431 with `invalid_request`).
    status: Option<StatusCode>,
}

/// `Retry-After` of a 503 for overload: by then a hashing thread is likely free.
const OVERLOAD_RETRY_AFTER_SECS: u64 = 1;

impl ApiError {
    /// An error with `code` and a description.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            challenge: None,
            retry_after: None,
            status: None,
        }
    }

    /// 400 `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    /// 401 `invalid_token` with `WWW-Authenticate: Bearer realm="authgate", error="invalid_token"`.
    pub fn invalid_token() -> Self {
        Self::new(
            ErrorCode::InvalidToken,
            "The access token is missing, invalid, expired or revoked.",
        )
        .with_challenge(r#"Bearer realm="authgate", error="invalid_token""#)
    }

    /// 401 `invalid_client` (RFC 6749 §5.2) with a `Basic` challenge, the
    /// scheme service clients authenticate with.
    pub fn invalid_client() -> Self {
        Self::new(ErrorCode::InvalidClient, "Client authentication failed.")
            .with_challenge(r#"Basic realm="authgate""#)
    }

    /// The status RFC 6749 §5.2 gives a token endpoint error: 400 for every
    /// error, `invalid_grant` included (which is 401 at `/auth/refresh`,
    /// authgate's own contract), except `invalid_client`: 401 with the
    /// `Basic` challenge, which §5.2 requires when the client sent HTTP
    /// Basic and allows otherwise (it names the scheme to use).
    #[must_use]
    pub fn at_token_endpoint(self) -> Self {
        match self.code {
            ErrorCode::InvalidGrant => self.with_status(StatusCode::BAD_REQUEST),
            _ => self,
        }
    }

    /// 404 `not_found`.
    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "Not found.")
    }

    /// 500 `internal`; `cause` is logged, never sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::Internal, "internal error")
    }

    /// Adds a `WWW-Authenticate` challenge.
    #[must_use]
    pub fn with_challenge(mut self, challenge: &'static str) -> Self {
        self.challenge = Some(challenge);
        self
    }

    /// Answers with `status` instead of the code's own: the transport
    /// errors (405, 408, 414, 431) have no code of their own in docs/http-api.md.
    #[must_use]
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    /// Adds `Retry-After` (whole seconds, at least 1).
    #[must_use]
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status.unwrap_or_else(|| {
            StatusCode::from_u16(self.code.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        });
        let body = ErrorBody::new(self.code, self.description);
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::InvalidInput { field, reason } => {
                Self::invalid_request(format!("{field}: {reason}"))
            }
            AuthError::InvalidCredentials => Self::new(
                ErrorCode::InvalidCredentials,
                "Invalid email/username or password.",
            ),
            AuthError::AccountDisabled => {
                Self::new(ErrorCode::AccountDisabled, "This account is disabled.")
            }
            AuthError::EmailNotVerified => Self::new(
                ErrorCode::EmailNotVerified,
                "This account's email address is not verified yet: open the link mailed to it, \
                 or ask for a new one with POST /auth/email/verify/resend.",
            ),
            AuthError::InvalidVerificationToken => Self::new(
                ErrorCode::InvalidGrant,
                "The verification link is invalid, expired or was already used.",
            )
            .with_status(StatusCode::BAD_REQUEST),
            AuthError::Conflict(what) => Self::new(
                ErrorCode::Conflict,
                format!("This {what} is already registered."),
            ),
            AuthError::InvalidGrant => Self::new(
                ErrorCode::InvalidGrant,
                "The refresh token is invalid, expired, revoked or was already used.",
            ),
            // RFC 6749 §5.2's status for invalid_grant: the reset link is
            // the grant, and no credential of the caller's failed.
            AuthError::InvalidResetToken => Self::new(
                ErrorCode::InvalidGrant,
                "The reset link is invalid, expired or was already used.",
            )
            .with_status(StatusCode::BAD_REQUEST),
            // docs/http-api.md's insufficient_scope row carries the RFC 6750 challenge.
            // Second factors: a wrong code is a wrong credential; a bad
            // mfa_token a spent grant, as a refresh token's.
            AuthError::InvalidMfaCode => Self::new(
                ErrorCode::InvalidCredentials,
                "The code is wrong, expired or was already used.",
            ),
            AuthError::InvalidMfaToken => Self::new(
                ErrorCode::InvalidGrant,
                "The login step is invalid, expired or was already used; log in again.",
            ),
            AuthError::MfaAlreadyEnabled => Self::new(
                ErrorCode::Conflict,
                "A second factor is already enabled; disable it first.",
            ),
            AuthError::MfaNotPending => Self::new(
                ErrorCode::Conflict,
                "No enrolment is waiting for a code; start one with POST /auth/mfa/totp.",
            ),
            AuthError::RegistrationClosed => {
                Self::new(ErrorCode::InsufficientScope, "Registration is closed.")
                    .with_challenge(r#"Bearer realm="authgate", error="insufficient_scope""#)
            }
            AuthError::NotFound => Self::not_found(),
            AuthError::InvalidClient => Self::invalid_client(),
            AuthError::InvalidScope => Self::new(
                ErrorCode::InvalidScope,
                "scope: asks for more than was granted.",
            ),
            AuthError::RateLimited(seconds) => Self::new(
                ErrorCode::RateLimited,
                "Too many login attempts; try again later.",
            )
            .with_retry_after(seconds),
            AuthError::InsufficientScope => GuardError::InsufficientScope.into(),
            AuthError::Unavailable(cause) => {
                tracing::error!(error = %cause, "store unavailable");
                Self::new(
                    ErrorCode::Unavailable,
                    "A backing store is unavailable; try again shortly.",
                )
            }
            // A login flood, not a fault: no error log per refused request.
            AuthError::Overloaded(what) => {
                tracing::debug!(what, "overloaded; answered 503");
                Self::new(
                    ErrorCode::Unavailable,
                    "The server is busy; try again shortly.",
                )
                .with_retry_after(OVERLOAD_RETRY_AFTER_SECS)
            }
            other => Self::internal(&other),
        }
    }
}

impl From<GuardError> for ApiError {
    /// The guard's own answer (code, description, RFC 6750 challenge): one
    /// definition for the server and for every resource server.
    fn from(err: GuardError) -> Self {
        tracing::debug!(reason = err.reason(), "bearer authentication failed");
        let error = Self::new(err.error_code(), err.description());
        match err.www_authenticate() {
            Some(challenge) => error.with_challenge(challenge),
            None => error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overload_is_a_503_that_says_when_to_retry_and_names_no_store() {
        let response = ApiError::from(AuthError::Overloaded("password hashing")).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get(header::RETRY_AFTER).unwrap(),
            &HeaderValue::from_static("1")
        );
        let store_down = ApiError::from(AuthError::Unavailable(
            authgate_core::StoreError::Unavailable("connection refused".into()),
        ))
        .into_response();
        assert_eq!(store_down.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(store_down.headers().get(header::RETRY_AFTER).is_none());
    }
}
