//! The one place where Rust errors become Python exceptions of
//! `authgate.errors`: authgate-jwt's `Error` with its `reason()` label,
//! authgate-guard's `GuardError` (with the HTTP answer it calls for), and
//! key-store sealing failures.

use authgate_guard::GuardError;
use authgate_jwt::Error;
use authgate_proto::ErrorCode;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// `authgate.errors`, imported once.
static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The `authgate.errors` class for each variant: this match is the whole mapping.
fn class_name(error: &Error) -> &'static str {
    match error {
        Error::TooLarge
        | Error::Malformed(_)
        | Error::UnsupportedAlgorithm
        | Error::CriticalHeader => "MalformedTokenError",
        Error::MissingKeyId | Error::UnknownKey | Error::AlgorithmMismatch => "KeyMismatchError",
        Error::InvalidSignature => "InvalidSignatureError",
        Error::Expired => "ExpiredTokenError",
        Error::NotYetValid | Error::IssuedInFuture => "ImmatureTokenError",
        Error::InvalidIssuer
        | Error::InvalidAudience
        | Error::InvalidType
        | Error::MissingClaim(_) => "InvalidClaimError",
        Error::InvalidKey(_) | Error::KeyUsage(_) => "InvalidKeyError",
        Error::Crypto | Error::Serialize => "SigningError",
        // `Error` is non-exhaustive: a variant added later is still an error
        // of authgate, with its own reason.
        _ => "AuthgateError",
    }
}

/// The Python exception for `error`: `cls(message, reason)`.
///
/// The message is the Rust `Display`, which never holds token content or keys.
pub(crate) fn to_py(error: Error) -> PyErr {
    raise(|py| {
        let class = errors_module(py)?.getattr(class_name(&error))?;
        let instance = class.call1((error.to_string(), error.reason()))?;
        Ok(PyErr::from_value(instance))
    })
}

/// The `authgate.errors` class for each guard refusal that is not a token's
/// own failure (those keep their authgate-jwt class).
fn guard_class_name(error: &GuardError) -> &'static str {
    match error {
        GuardError::InvalidToken(jwt) => class_name(jwt),
        GuardError::MissingCredentials | GuardError::UnsupportedScheme => "MissingCredentialsError",
        GuardError::MalformedHeader | GuardError::HeaderTooLarge => "MalformedTokenError",
        GuardError::Inactive => "InactiveTokenError",
        GuardError::InsufficientScope => "InsufficientScopeError",
        GuardError::Unavailable(_) | GuardError::StaleKeys => "AuthServiceUnavailable",
        GuardError::InvalidConfig(_) => "GuardConfigError",
        // Non-exhaustive: a later variant is still an authgate error.
        _ => "AuthgateError",
    }
}

/// The Python exception for a guard refusal: `cls(message, reason)` with
/// what a server answers for it set on the instance: `status`,
/// `error_code`, `description` and `www_authenticate` (or `None`).
///
/// The message is the Rust `Display`, which never holds token content.
pub(crate) fn guard_error(error: GuardError) -> PyErr {
    raise(|py| {
        let class = errors_module(py)?.getattr(guard_class_name(&error))?;
        let instance = class.call1((error.to_string(), error.reason()))?;
        instance.setattr("status", error.http_status())?;
        instance.setattr("error_code", error.error_code().as_str())?;
        instance.setattr("description", error.description())?;
        instance.setattr("www_authenticate", error.www_authenticate())?;
        Ok(PyErr::from_value(instance))
    })
}

/// `authgate.errors`, imported on first use.
fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    ERRORS
        .get_or_try_init(py, || py.import("authgate.errors").map(Bound::unbind))
        .map(|module| module.bind(py))
}

/// The exception `build` makes, or the error that kept it from being made.
fn raise(build: impl FnOnce(Python<'_>) -> PyResult<PyErr>) -> PyErr {
    Python::attach(|py| build(py).unwrap_or_else(|failed| failed))
}

/// A `KeyStoreError` (reason `key_store`): a TokenManager store's sealed key could not be made or opened.
pub(crate) fn key_store_error(message: &str) -> PyErr {
    raise(|py| {
        let class = errors_module(py)?.getattr("KeyStoreError")?;
        Ok(PyErr::from_value(class.call1((message, "key_store"))?))
    })
}

/// Maps a `Result` of authgate-jwt into a `PyResult`.
pub(crate) trait IntoPyResult<T> {
    /// The value, or the Python exception [`to_py`] makes of the error.
    fn py_err(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for Result<T, Error> {
    fn py_err(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

/// The `authgate.errors` class and reason for a client failure.
fn client_class(error: &authgate_client::Error) -> (&'static str, String) {
    use authgate_client::Error as E;
    match error {
        E::NotAuthenticated => ("NotAuthenticatedError", "not_authenticated".to_owned()),
        E::RefreshRefused { .. } => ("SessionEndedError", "session_over".to_owned()),
        e if e.is_session_over() => ("SessionEndedError", "session_over".to_owned()),
        E::Api { code, .. } => ("ApiError", code.as_str().to_owned()),
        E::UnexpectedResponse { .. } => ("ApiError", "unexpected_response".to_owned()),
        E::Transport(_) => ("AuthServiceUnavailable", "unreachable".to_owned()),
        E::InvalidUrl(_) => ("ClientConfigError", "invalid_url".to_owned()),
        E::PlainHttp(_) => ("ClientConfigError", "plain_http".to_owned()),
        E::MfaRequired => ("ApiError", "mfa_required".to_owned()),
        // Non-exhaustive (and the credentials file, which Python does not use).
        _ => ("AuthgateError", "client".to_owned()),
    }
}

/// The Python exception for an authgate-client failure: `cls(message,
/// reason)` with, when the server answered, `status`, `error_code`,
/// `description` and `retry_after` set on the instance.
///
/// The message is the Rust `Display`: the server's error description,
/// never a password or token.
pub(crate) fn client_error(error: authgate_client::Error) -> PyErr {
    use authgate_client::Error as E;
    raise(|py| {
        let (name, reason) = client_class(&error);
        let class = errors_module(py)?.getattr(name)?;
        let instance = class.call1((error.to_string(), reason))?;
        match &error {
            E::Api {
                status,
                code,
                description,
                retry_after,
            } => {
                instance.setattr("status", status)?;
                instance.setattr("error_code", code.as_str())?;
                instance.setattr("description", description)?;
                instance.setattr("retry_after", retry_after)?;
            }
            E::RefreshRefused {
                status,
                code,
                description,
            } => {
                instance.setattr("status", status)?;
                instance.setattr("error_code", code.map_or("invalid_grant", |c| c.as_str()))?;
                instance.setattr("description", description)?;
            }
            E::UnexpectedResponse { status, .. } => instance.setattr("status", status)?,
            E::Transport(_) => instance.setattr("status", 503)?,
            _ => {}
        }
        Ok(PyErr::from_value(instance))
    })
}

/// The `authgate.errors` class, reason and API error code of an
/// authgate-core failure (embedded auth): the codes and statuses are the
/// server's for the same failure (docs/http-api.md).
fn auth_class(error: &authgate_core::AuthError) -> (&'static str, &'static str, ErrorCode) {
    use authgate_core::AuthError as E;
    match error {
        E::InvalidInput { .. } => ("ApiError", "invalid_request", ErrorCode::InvalidRequest),
        E::InvalidCredentials => (
            "ApiError",
            "invalid_credentials",
            ErrorCode::InvalidCredentials,
        ),
        E::AccountDisabled => ("ApiError", "account_disabled", ErrorCode::AccountDisabled),
        E::EmailNotVerified => (
            "ApiError",
            "email_not_verified",
            ErrorCode::EmailNotVerified,
        ),
        E::Conflict(_) => ("ApiError", "conflict", ErrorCode::Conflict),
        E::InvalidGrant => (
            "InvalidTokenError",
            "invalid_grant",
            ErrorCode::InvalidGrant,
        ),
        E::InvalidClient => ("ApiError", "invalid_client", ErrorCode::InvalidClient),
        E::InsufficientScope => (
            "InsufficientScopeError",
            "insufficient_scope",
            ErrorCode::InsufficientScope,
        ),
        E::RateLimited(_) => ("ApiError", "rate_limited", ErrorCode::RateLimited),
        E::RegistrationClosed => (
            "ApiError",
            "registration_closed",
            ErrorCode::InsufficientScope,
        ),
        E::NotFound => ("UserNotFound", "user_not_found", ErrorCode::NotFound),
        E::Unavailable(_) | E::Overloaded(_) => (
            "AuthServiceUnavailable",
            "unavailable",
            ErrorCode::Unavailable,
        ),
        // Internal and storage faults, and variants added later.
        _ => ("AuthgateError", "internal", ErrorCode::Internal),
    }
}

/// The Python exception for an authgate-core failure (embedded auth), with
/// `status`, `error_code`, `description` and, for rate limits and an
/// overloaded password hasher, `retry_after` set on the instance.
///
/// The message is the core's `Display`: a field and why for bad input, a
/// kind otherwise; it never holds a password, token, hash or key.
pub(crate) fn auth_error(error: authgate_core::AuthError) -> PyErr {
    use authgate_core::AuthError as E;
    raise(|py| {
        let (name, reason, code) = auth_class(&error);
        let class = errors_module(py)?.getattr(name)?;
        let instance = class.call1((error.to_string(), reason))?;
        instance.setattr("status", code.http_status())?;
        instance.setattr("error_code", code.as_str())?;
        instance.setattr("description", error.to_string())?;
        let retry_after = match &error {
            E::RateLimited(seconds) => Some((*seconds).max(1)),
            E::Overloaded(_) => Some(1),
            _ => None,
        };
        instance.setattr("retry_after", retry_after)?;
        Ok(PyErr::from_value(instance))
    })
}

/// `ApiError` (reason `mfa_required`): the password was right, but the
/// account has a second factor, whose code this call cannot take.
pub(crate) fn mfa_required() -> PyErr {
    raise(|py| {
        let class = errors_module(py)?.getattr("ApiError")?;
        let instance = class.call1((
            "this account has two-factor authentication: a code from the authenticator app is needed",
            "mfa_required",
        ))?;
        instance.setattr("status", 200)?;
        instance.setattr("error_code", "mfa_required")?;
        Ok(PyErr::from_value(instance))
    })
}

/// `UserNotFound` (reason `user_not_found`): the token's user is gone.
pub(crate) fn user_not_found() -> PyErr {
    auth_error(authgate_core::AuthError::NotFound)
}

/// An `AuthgateError` (reason `config`) for settings embedded auth cannot
/// start with: the server's start-up message (it names the setting, never a secret).
pub(crate) fn config_error(error: &dyn std::fmt::Display) -> PyErr {
    raise(|py| {
        let class = errors_module(py)?.getattr("AuthConfigError")?;
        Ok(PyErr::from_value(
            class.call1((error.to_string(), "config"))?,
        ))
    })
}
