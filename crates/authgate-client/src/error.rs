//! The one error type of the client.

use authgate_proto::{ErrorBody, ErrorCode};

/// What can go wrong talking to an authgate server or keeping its tokens.
///
/// `Clone`, because one refresh's outcome is handed to every caller that
/// waited for it. No variant ever carries a password or a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error body of docs/http-api.md; branch on `code`.
    #[error("the server refused the request ({status} {code}): {description}")]
    Api {
        /// The HTTP status, e.g. 401.
        status: u16,
        /// The docs/http-api.md error code, e.g. [`ErrorCode::InvalidCredentials`].
        code: ErrorCode,
        /// The server's human-readable sentence.
        description: String,
        /// Whole seconds to wait before trying again (`Retry-After`, with 429).
        retry_after: Option<u64>,
    },
    /// `POST /auth/refresh` was refused in a way that means this refresh
    /// token will never work, though not with docs/http-api.md's `invalid_grant`: a
    /// 401 with another code or without a docs/http-api.md body, or a 400
    /// `invalid_request` (a corrupt token). The store was logged out.
    #[error("the server refused the refresh token ({status}): {description}")]
    RefreshRefused {
        /// The HTTP status, 401 or 400.
        status: u16,
        /// The docs/http-api.md error code, when the response carried one.
        code: Option<ErrorCode>,
        /// The server's sentence, or what was wrong with its response.
        description: String,
    },
    /// The store holds no access token (or no refresh token where one is
    /// needed): log in first.
    #[error("not logged in")]
    NotAuthenticated,
    /// The request never got an answer: connection refused, timeout, TLS.
    #[error("the server could not be reached: {0}")]
    Transport(String),
    /// The server answered something that is not what docs/http-api.md promises.
    #[error("unexpected response from the server ({status}): {reason}")]
    UnexpectedResponse {
        /// The HTTP status received.
        status: u16,
        /// What was wrong with it.
        reason: String,
    },
    /// The server URL cannot be used (not http/https, not a URL at all).
    #[error("invalid server URL: {0}")]
    InvalidUrl(String),
    /// The server URL is plain `http://` to a host other than this machine,
    /// which would send the password and tokens in clear; the URL is given.
    #[error(
        "refusing plain http to {0}: passwords and tokens would cross the network in clear; use https"
    )]
    PlainHttp(String),
    /// The password was right, but the account has a second factor: log in
    /// with [`Client::login_with_code`](crate::Client::login_with_code) and
    /// a code from the user's authenticator app (or a recovery code).
    #[error(
        "this account has two-factor authentication: a code from the authenticator app is needed"
    )]
    MfaRequired,
    /// Reading or writing the credentials file failed.
    #[error("credentials file {path}: {message}")]
    Credentials {
        /// The file (or directory) concerned.
        path: String,
        /// What went wrong with it.
        message: String,
    },
}

impl Error {
    /// The docs/http-api.md error code, when the server sent one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Api { code, .. } => Some(*code),
            Self::RefreshRefused { code, .. } => *code,
            _ => None,
        }
    }

    /// Whether the refresh token is no longer any good (`invalid_grant`,
    /// or [`Error::RefreshRefused`]): the session is over, the store was
    /// logged out, and the user must log in again.
    pub fn is_session_over(&self) -> bool {
        matches!(self, Self::RefreshRefused { .. }) || self.code() == Some(ErrorCode::InvalidGrant)
    }

    /// How a refusal of `POST /auth/refresh` is reported: as
    /// [`Error::RefreshRefused`] when it means the refresh token will never
    /// work, else unchanged. `invalid_grant` (any status, as RFC 6749 sends
    /// it with 400) stays an [`Error::Api`]; any other 401 and a 400
    /// `invalid_request` (the server could not even read the token: retrying
    /// it cannot help) end the session. 5xx, 429, other 4xx and network
    /// errors may pass, so the session is kept.
    pub(crate) fn into_refresh_error(self) -> Self {
        match self {
            Self::Api {
                status,
                code,
                description,
                ..
            } if code != ErrorCode::InvalidGrant
                && (status == 401 || (status == 400 && code == ErrorCode::InvalidRequest)) =>
            {
                Self::RefreshRefused {
                    status,
                    code: Some(code),
                    description,
                }
            }
            Self::UnexpectedResponse {
                status: 401,
                reason,
            } => Self::RefreshRefused {
                status: 401,
                code: None,
                description: reason,
            },
            other => other,
        }
    }

    /// The error of an error body of docs/http-api.md received with `status`.
    pub(crate) fn api(status: u16, body: ErrorBody, retry_after: Option<u64>) -> Self {
        Self::Api {
            status,
            code: body.error,
            description: body.error_description,
            retry_after,
        }
    }

    /// A credentials-file error about `path`.
    pub(crate) fn credentials(path: &std::path::Path, message: impl std::fmt::Display) -> Self {
        Self::Credentials {
            path: path.display().to_string(),
            message: message.to_string(),
        }
    }
}
