//! The `authgate._authgate` extension module: authgate-jwt, authgate-guard
//! authgate-client, and authgate-core in-process (through authgate-server's
//! start-up), for Python.
//!
//! Python code imports it through `authgate.jwt`; errors become the classes
//! of `authgate.errors` (`errors.rs` is the one mapping).

mod cache;
mod client;
mod clock;
mod convert;
mod embedded;
mod errors;
mod guard;
mod jwt;
mod keys;
mod keyset;
mod principal;
mod resolve;
mod runtime;
mod seal;

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
fn _authgate(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<keys::PySigningKey>()?;
    m.add_class::<keys::PyVerifyingKey>()?;
    m.add_class::<keyset::PyKeySet>()?;
    m.add_class::<guard::PyGuard>()?;
    m.add_class::<principal::PyPrincipal>()?;
    m.add_class::<client::PyAuthStore>()?;
    m.add_class::<client::PyAuthClient>()?;
    m.add_class::<client::PyRouteGuard>()?;
    m.add_class::<embedded::PyAuth>()?;
    m.add_function(wrap_pyfunction!(jwt::decode, m)?)?;
    m.add_function(wrap_pyfunction!(jwt::encode, m)?)?;
    m.add_function(wrap_pyfunction!(jwt::decode_jwt, m)?)?;
    m.add_function(wrap_pyfunction!(jwt::get_unverified_header, m)?)?;
    m.add_function(wrap_pyfunction!(jwt::is_jwt_expired, m)?)?;
    m.add_function(wrap_pyfunction!(seal::seal, m)?)?;
    m.add_function(wrap_pyfunction!(seal::unseal, m)?)?;
    let algorithms: Vec<&str> = authgate_jwt::Algorithm::ALL
        .iter()
        .map(|a| a.as_str())
        .collect();
    m.add("ALGORITHMS", pyo3::types::PyTuple::new(m.py(), algorithms)?)?;
    Ok(())
}
