//! `authgate.jwt.KeySet`: verifying keys chosen by a token's `kid`, with
//! JWKS import and export, and JWK/JWKS dicts given to `decode` as keys.

use std::sync::Arc;

use authgate_jwt::{Error, JwkSet, KeySet, VerifyingKey};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::IntoPyResult;
use crate::keys::{PySigningKey, PyVerifyingKey, json_arg, to_dict};

/// Verifying keys chosen by the token's `kid` (a JWKS, or keys across a rotation).
#[pyclass(frozen, module = "authgate._authgate", name = "KeySet")]
#[derive(Debug)]
pub(crate) struct PyKeySet {
    pub(crate) set: KeySet,
    /// Whether every key is HMAC (verification is then too short to release the GIL for).
    pub(crate) all_symmetric: bool,
}

impl PyKeySet {
    fn wrap(set: KeySet) -> Self {
        let all_symmetric = set.iter().all(|key| key.algorithm().is_symmetric());
        Self { set, all_symmetric }
    }
}

#[pymethods]
impl PyKeySet {
    /// A set of `VerifyingKey`s (or `SigningKey`s, for their verifying halves); each needs a `kid`.
    #[new]
    #[pyo3(signature = (keys=None))]
    fn new(keys: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let mut set = KeySet::new();
        if let Some(keys) = keys {
            for item in keys.try_iter()? {
                let item = item?;
                let key = if let Ok(key) = item.cast::<PyVerifyingKey>() {
                    key.get().key.as_ref().clone()
                } else if let Ok(key) = item.cast::<PySigningKey>() {
                    key.get().key.verifying_key().clone()
                } else {
                    return Err(pyo3::exceptions::PyTypeError::new_err(
                        "KeySet holds VerifyingKey or SigningKey objects",
                    ));
                };
                if key.kid().is_none() {
                    return Err(Error::MissingKeyId).py_err();
                }
                set.insert(key).py_err()?;
            }
        }
        Ok(Self::wrap(set))
    }

    /// The signature keys of a JWKS document (dict or JSON text). Keys without
    /// `kid`, shared secrets (`oct`) and unsupported types are skipped.
    #[staticmethod]
    fn from_jwks(jwks: &Bound<'_, PyAny>) -> PyResult<Self> {
        let jwks: JwkSet = json_arg(jwks)?;
        Ok(Self::wrap(KeySet::from_jwks(&jwks).py_err()?))
    }

    /// The public keys as a JWKS dict; HMAC keys are left out.
    fn to_jwks(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_dict(py, &self.set.to_jwks())
    }

    /// The key with this `kid`, if any.
    fn get(&self, kid: &str) -> Option<PyVerifyingKey> {
        self.set.get(kid).map(|key| PyVerifyingKey {
            key: Arc::new(key.clone()),
        })
    }

    /// The key ids, in insertion order.
    #[getter]
    fn kids(&self) -> Vec<String> {
        self.set
            .iter()
            .filter_map(|key| key.kid().map(str::to_owned))
            .collect()
    }

    fn __len__(&self) -> usize {
        self.set.len()
    }

    fn __contains__(&self, kid: &str) -> bool {
        self.set.get(kid).is_some()
    }

    fn __repr__(&self) -> String {
        format!("KeySet(kids={:?})", self.kids())
    }
}

/// A JWK or JWKS given as a dict to `decode`: a dict with `keys` is a JWKS.
pub(crate) fn from_jwk_dict(dict: &Bound<'_, PyDict>) -> PyResult<KeyArg> {
    if dict.contains(pyo3::intern!(dict.py(), "keys"))? {
        Ok(KeyArg::Set(PyKeySet::from_jwks(dict.as_any())?))
    } else {
        Ok(KeyArg::One(PyVerifyingKey::from_jwk(dict.as_any())?.key))
    }
}

/// A key argument that is not a key object: parsed for this call.
#[derive(Debug)]
pub(crate) enum KeyArg {
    /// One key.
    One(Arc<VerifyingKey>),
    /// A JWKS.
    Set(PyKeySet),
}
