//! The one place where Rust errors become Python exceptions of
//! `authgate.errors`: authgate-jwt's `Error` with its `reason()` label,
//! authgate-guard's `GuardError` (with the HTTP answer it calls for), and
//! key-store sealing failures.

use authgate_guard::GuardError;
use authgate_jwt::Error;
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
