//! The one error shape of every error response (RFC 6749 §5.2).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The body of every error response:
/// `{"error": "invalid_credentials", "error_description": "..."}`.
///
/// It is the OAuth 2.0 error shape, so OAuth clients and our own clients
/// read errors the same way.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The machine-readable code; clients branch on this, never on the text.
    pub error: ErrorCode,
    /// A human-readable sentence. For `invalid_request` it names the field;
    /// for 5xx it never reveals internals ("internal error").
    pub error_description: String,
}

impl ErrorBody {
    /// An error body with the given code and description.
    pub fn new(error: ErrorCode, error_description: impl Into<String>) -> Self {
        Self {
            error,
            error_description: error_description.into(),
        }
    }

    /// The HTTP status this body is sent with (see [`ErrorCode::http_status`]).
    pub const fn http_status(&self) -> u16 {
        self.error.http_status()
    }
}

/// The `error` codes of docs/http-api.md, written in snake_case on the wire.
///
/// The set is fixed by the contract; the enum is `#[non_exhaustive]` so a
/// code can be added without breaking matches in other crates.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// 400: malformed JSON, a missing or invalid field, a bad password.
    InvalidRequest,
    /// 401: login failed; unknown user and wrong password look the same.
    InvalidCredentials,
    /// 401: the access token is missing, malformed, expired, revoked or
    /// otherwise unacceptable.
    InvalidToken,
    /// 401: the refresh token is unknown, expired, revoked or reused.
    InvalidGrant,
    /// 401: service-client authentication failed (OAuth endpoints).
    InvalidClient,
    /// 400: `/oauth/token` got a `grant_type` it does not support
    /// (RFC 6749 §5.2).
    UnsupportedGrantType,
    /// 400: `/oauth/token` got a `scope` that is malformed or more than the
    /// client's roles grant (RFC 6749 §5.2).
    InvalidScope,
    /// 403: authenticated, but lacking the role or permission.
    InsufficientScope,
    /// 403: the password was right, but the account is disabled.
    AccountDisabled,
    /// 403: the password was right, but the account's email address is not
    /// verified and the server requires it (`auth.require_verified_email`);
    /// `POST /auth/email/verify/resend` mails a new link.
    EmailNotVerified,
    /// 404: unknown resource.
    NotFound,
    /// 409: the email or username is already registered.
    Conflict,
    /// 413: the body is over the limit (64 KiB).
    PayloadTooLarge,
    /// 415: a JSON endpoint got another or no `Content-Type`.
    UnsupportedMediaType,
    /// 429: too many attempts; the response carries `Retry-After`.
    RateLimited,
    /// 503: a backing store is down; nothing was half-written.
    Unavailable,
    /// 500: a bug; the description never leaks internals.
    Internal,
}

impl ErrorCode {
    /// The HTTP status code that goes with this error, per docs/http-api.md's table.
    pub const fn http_status(self) -> u16 {
        match self {
            Self::InvalidRequest | Self::UnsupportedGrantType | Self::InvalidScope => 400,
            Self::InvalidCredentials
            | Self::InvalidToken
            | Self::InvalidGrant
            | Self::InvalidClient => 401,
            Self::InsufficientScope | Self::AccountDisabled | Self::EmailNotVerified => 403,
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::RateLimited => 429,
            Self::Internal => 500,
            Self::Unavailable => 503,
        }
    }

    /// The code as written on the wire, e.g. `"invalid_token"`; also what
    /// goes into `WWW-Authenticate: Bearer error="..."`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidToken => "invalid_token",
            Self::InvalidGrant => "invalid_grant",
            Self::InvalidClient => "invalid_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::InsufficientScope => "insufficient_scope",
            Self::AccountDisabled => "account_disabled",
            Self::EmailNotVerified => "email_not_verified",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const ALL: [ErrorCode; 17] = [
        ErrorCode::InvalidRequest,
        ErrorCode::InvalidCredentials,
        ErrorCode::InvalidToken,
        ErrorCode::InvalidGrant,
        ErrorCode::InvalidClient,
        ErrorCode::UnsupportedGrantType,
        ErrorCode::InvalidScope,
        ErrorCode::InsufficientScope,
        ErrorCode::AccountDisabled,
        ErrorCode::EmailNotVerified,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::RateLimited,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ];

    #[test]
    fn api_md_error_example_round_trips() {
        let text = r#"{"error": "invalid_credentials", "error_description": "Invalid email/username or password."}"#;
        let body: ErrorBody = serde_json::from_str(text).unwrap();
        assert_eq!(
            body,
            ErrorBody::new(
                ErrorCode::InvalidCredentials,
                "Invalid email/username or password."
            )
        );
        let expected: Value = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_value(&body).unwrap(), expected);
    }

    #[test]
    fn every_code_is_written_as_its_snake_case_name() {
        for code in ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
            let back: ErrorCode = serde_json::from_value(json!(code.as_str())).unwrap();
            assert_eq!(back, code);
        }
    }

    #[test]
    fn status_codes_match_the_api_table() {
        let table = [
            ("invalid_request", 400),
            ("invalid_credentials", 401),
            ("invalid_token", 401),
            ("invalid_grant", 401),
            ("invalid_client", 401),
            ("unsupported_grant_type", 400),
            ("invalid_scope", 400),
            ("insufficient_scope", 403),
            ("account_disabled", 403),
            ("email_not_verified", 403),
            ("not_found", 404),
            ("conflict", 409),
            ("payload_too_large", 413),
            ("unsupported_media_type", 415),
            ("rate_limited", 429),
            ("unavailable", 503),
            ("internal", 500),
        ];
        assert_eq!(table.len(), ALL.len());
        for (name, status) in table {
            let code: ErrorCode = serde_json::from_value(json!(name)).unwrap();
            assert_eq!(code.http_status(), status, "{name}");
        }
    }

    #[test]
    fn an_unknown_error_code_is_rejected() {
        assert!(serde_json::from_value::<ErrorCode>(json!("teapot")).is_err());
    }

    #[test]
    fn an_error_body_with_extra_fields_is_accepted() {
        let body: ErrorBody = serde_json::from_value(json!({
            "error": "rate_limited", "error_description": "Slow down.", "retry_after": 3
        }))
        .unwrap();
        assert_eq!(body.error, ErrorCode::RateLimited);
        assert_eq!(body.http_status(), 429);
    }
}
