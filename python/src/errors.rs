//! The one place where authgate-jwt's `Error` becomes a Python exception of
//! `authgate.errors`, carrying the Rust `reason()` label.

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
    Python::attach(|py| {
        let build = || -> PyResult<PyErr> {
            let module =
                ERRORS.get_or_try_init(py, || py.import("authgate.errors").map(Bound::unbind))?;
            let class = module.bind(py).getattr(class_name(&error))?;
            let instance = class.call1((error.to_string(), error.reason()))?;
            Ok(PyErr::from_value(instance))
        };
        build().unwrap_or_else(|import_failed| import_failed)
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
