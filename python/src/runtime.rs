//! The Tokio runtime of the extension: started once, on first use, and
//! shared by every guard (its background JWKS refresh runs there, and
//! blocking calls wait on it with the GIL released).

use std::sync::OnceLock;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

/// The one runtime; never shut down (it lives as long as the interpreter).
static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

/// The runtime, started on the first call.
///
/// # Errors
/// `RuntimeError` when the operating system refuses the worker threads.
pub(crate) fn runtime() -> PyResult<&'static tokio::runtime::Runtime> {
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let built = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("authgate-guard")
        .enable_all()
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the tokio runtime: {e}")))?;
    // Another thread may have won the race; its runtime is used, ours dropped.
    Ok(RUNTIME.get_or_init(|| built))
}
