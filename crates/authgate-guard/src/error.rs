//! The one error type of authgate-guard, with what a server answers for it:
//! the docs/http-api.md error code and the RFC 6750 `WWW-Authenticate` value.

use authgate_proto::{ErrorBody, ErrorCode};

/// `WWW-Authenticate` when no usable Bearer credentials were sent (RFC 6750 §3.1).
const CHALLENGE: &str = r#"Bearer realm="authgate""#;
/// `WWW-Authenticate` for a Bearer token (or header) that is not acceptable.
const INVALID_TOKEN: &str = r#"Bearer realm="authgate", error="invalid_token""#;
/// `WWW-Authenticate` for a valid token lacking a role or permission.
const INSUFFICIENT_SCOPE: &str = r#"Bearer realm="authgate", error="insufficient_scope""#;

/// Why a request was not authenticated (or not authorised).
///
/// The variant (and [`GuardError::reason`]) is for logs and metrics; clients
/// get only the code of [`GuardError::error_code`] and the header of
/// [`GuardError::www_authenticate`]: telling a forger which check failed
/// helps nobody else.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GuardError {
    /// No `Authorization` header was sent.
    #[error("no credentials")]
    MissingCredentials,
    /// The `Authorization` header uses another scheme than Bearer (`Basic`, …);
    /// RFC 6750 §3.1 treats this like sending no credentials.
    #[error("authorization scheme is not Bearer")]
    UnsupportedScheme,
    /// The header is not exactly `Bearer <token68>` (extra spaces, empty or
    /// invalid token characters, a scheme that is not a token).
    #[error("malformed authorization header")]
    MalformedHeader,
    /// The header is longer than [`MAX_AUTHORIZATION_LEN`](crate::MAX_AUTHORIZATION_LEN);
    /// nothing of it was parsed.
    #[error("authorization header is too large")]
    HeaderTooLarge,
    /// The token did not verify; the inner error names the first failed check.
    #[error("invalid token: {0}")]
    InvalidToken(authgate_jwt::Error),
    /// The authorization server says the token is not active (RFC 7662):
    /// revoked, its session logged out, its user disabled, or unknown to it.
    #[error("token is not active")]
    Inactive,
    /// The token is valid but lacks the role or permission the route needs.
    #[error("insufficient scope")]
    InsufficientScope,
    /// A check that needs the authorization server (introspection, a
    /// revocation check that fails closed) could not reach it or could not
    /// read its answer; the reason says which. Answered 503: the token may
    /// well be good, the client should retry.
    #[error("authorization server unavailable: {0}")]
    Unavailable(&'static str),
    /// The keys held come from a JWKS fetch older than the configured
    /// maximum staleness (`JwksSettings::max_staleness_secs`) and every
    /// fetch since has failed: the guard fails closed rather than trust
    /// keys the server may have withdrawn. Answered 503, like
    /// [`GuardError::Unavailable`].
    #[error("signing keys too stale: no JWKS fetch has succeeded within the maximum staleness")]
    StaleKeys,
    /// The verifier configuration is unusable (no audience, empty issuer, …);
    /// a startup error, never an answer to a request.
    #[error("invalid verifier configuration: {0}")]
    InvalidConfig(&'static str),
}

impl GuardError {
    /// A short stable label for metrics and logs: `"missing_credentials"`,
    /// `"malformed_header"`, … and, for a token that did not verify,
    /// authgate-jwt's reason (`"expired"`, `"bad_signature"`, …).
    pub const fn reason(&self) -> &'static str {
        match self {
            Self::MissingCredentials => "missing_credentials",
            Self::UnsupportedScheme => "unsupported_scheme",
            Self::MalformedHeader => "malformed_header",
            Self::HeaderTooLarge => "header_too_large",
            Self::InvalidToken(e) => e.reason(),
            Self::Inactive => "inactive",
            Self::InsufficientScope => "insufficient_scope",
            Self::Unavailable(_) => "unavailable",
            Self::StaleKeys => "stale_keys",
            Self::InvalidConfig(_) => "invalid_config",
        }
    }

    /// The docs/http-api.md error code to answer with: `invalid_token` (401) for every
    /// authentication failure, missing credentials included; `insufficient_scope`
    /// (403); `unavailable` (503) when the authorization server could not
    /// be asked; `internal` (500) for a configuration error.
    pub const fn error_code(&self) -> ErrorCode {
        match self {
            Self::MissingCredentials
            | Self::UnsupportedScheme
            | Self::MalformedHeader
            | Self::HeaderTooLarge
            | Self::InvalidToken(_)
            | Self::Inactive => ErrorCode::InvalidToken,
            Self::InsufficientScope => ErrorCode::InsufficientScope,
            Self::Unavailable(_) | Self::StaleKeys => ErrorCode::Unavailable,
            Self::InvalidConfig(_) => ErrorCode::Internal,
        }
    }

    /// The HTTP status to answer with: that of [`GuardError::error_code`].
    pub const fn http_status(&self) -> u16 {
        self.error_code().http_status()
    }

    /// The `error_description` to send: one sentence per kind of answer,
    /// the same for every reason behind it (which check failed is for the
    /// log, see [`GuardError::reason`]).
    pub const fn description(&self) -> &'static str {
        match self {
            Self::MissingCredentials | Self::UnsupportedScheme => "Authentication is required.",
            Self::MalformedHeader
            | Self::HeaderTooLarge
            | Self::InvalidToken(_)
            | Self::Inactive => "The access token is missing, invalid, expired or revoked.",
            Self::InsufficientScope => "Insufficient scope.",
            Self::Unavailable(_) | Self::StaleKeys => {
                "The authorization server is unavailable; try again shortly."
            }
            Self::InvalidConfig(_) => "internal error",
        }
    }

    /// The docs/http-api.md error body: `{"error": …, "error_description": …}`.
    pub fn error_body(&self) -> ErrorBody {
        ErrorBody::new(self.error_code(), self.description())
    }

    /// The `WWW-Authenticate` value to send (RFC 6750 §3), or `None` for an
    /// error that is not about the request's credentials.
    ///
    /// A bare `Bearer realm="authgate"` when no Bearer credentials were sent
    /// (RFC 6750 §3.1 forbids an error code then), `error="invalid_token"`
    /// for any unacceptable header or token, `error="insufficient_scope"`
    /// for a missing role.
    pub const fn www_authenticate(&self) -> Option<&'static str> {
        match self {
            Self::MissingCredentials | Self::UnsupportedScheme => Some(CHALLENGE),
            Self::MalformedHeader
            | Self::HeaderTooLarge
            | Self::InvalidToken(_)
            | Self::Inactive => Some(INVALID_TOKEN),
            Self::InsufficientScope => Some(INSUFFICIENT_SCOPE),
            Self::Unavailable(_) | Self::StaleKeys | Self::InvalidConfig(_) => None,
        }
    }
}

impl From<authgate_jwt::Error> for GuardError {
    /// Every authgate-jwt error met while verifying is the token's fault.
    fn from(error: authgate_jwt::Error) -> Self {
        Self::InvalidToken(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_credentials_get_a_bare_challenge_but_an_invalid_token_body() {
        let e = GuardError::MissingCredentials;
        assert_eq!(e.www_authenticate(), Some(r#"Bearer realm="authgate""#));
        assert_eq!(e.error_code(), ErrorCode::InvalidToken);
        assert_eq!(e.error_code().http_status(), 401);
    }

    #[test]
    fn another_scheme_is_treated_like_no_credentials() {
        let e = GuardError::UnsupportedScheme;
        assert_eq!(e.www_authenticate(), Some(r#"Bearer realm="authgate""#));
        assert_eq!(e.reason(), "unsupported_scheme");
    }

    #[test]
    fn header_and_token_failures_say_invalid_token() {
        for e in [
            GuardError::MalformedHeader,
            GuardError::HeaderTooLarge,
            GuardError::InvalidToken(authgate_jwt::Error::Expired),
        ] {
            assert_eq!(
                e.www_authenticate(),
                Some(r#"Bearer realm="authgate", error="invalid_token""#)
            );
            assert_eq!(e.error_code().http_status(), 401);
        }
    }

    #[test]
    fn insufficient_scope_is_a_403_with_its_own_challenge() {
        let e = GuardError::InsufficientScope;
        assert_eq!(
            e.www_authenticate(),
            Some(r#"Bearer realm="authgate", error="insufficient_scope""#)
        );
        assert_eq!(e.error_code().http_status(), 403);
    }

    #[test]
    fn token_failures_reuse_the_jwt_reason() {
        let e = GuardError::from(authgate_jwt::Error::InvalidSignature);
        assert_eq!(e.reason(), "bad_signature");
        assert_eq!(GuardError::HeaderTooLarge.reason(), "header_too_large");
    }

    #[test]
    fn an_inactive_token_is_an_invalid_token() {
        let e = GuardError::Inactive;
        assert_eq!(e.http_status(), 401);
        assert_eq!(e.www_authenticate(), Some(INVALID_TOKEN));
        assert_eq!(e.reason(), "inactive");
    }

    #[test]
    fn an_unreachable_authorization_server_is_a_503_without_challenge() {
        let e = GuardError::Unavailable("introspection timed out");
        assert_eq!(e.http_status(), 503);
        assert_eq!(e.error_code(), ErrorCode::Unavailable);
        assert_eq!(e.www_authenticate(), None);
    }

    #[test]
    fn stale_keys_are_a_503_without_challenge() {
        let e = GuardError::StaleKeys;
        assert_eq!(e.http_status(), 503);
        assert_eq!(e.error_code(), ErrorCode::Unavailable);
        assert_eq!(e.www_authenticate(), None);
        assert_eq!(e.reason(), "stale_keys");
    }

    #[test]
    fn the_body_never_says_which_check_failed() {
        let expired = GuardError::InvalidToken(authgate_jwt::Error::Expired).error_body();
        let forged = GuardError::InvalidToken(authgate_jwt::Error::InvalidSignature).error_body();
        assert_eq!(expired, forged);
        assert_eq!(
            serde_json::to_value(&expired).unwrap(),
            serde_json::json!({
                "error": "invalid_token",
                "error_description": "The access token is missing, invalid, expired or revoked."
            })
        );
    }

    #[test]
    fn a_configuration_error_is_internal_and_has_no_challenge() {
        let e = GuardError::InvalidConfig("no audience");
        assert_eq!(e.www_authenticate(), None);
        assert_eq!(e.error_code().http_status(), 500);
    }
}
