//! The key classes of `authgate.jwt` (`SigningKey`, `VerifyingKey`; `KeySet`
//! is in `keyset.rs`): parsed once, each pinned to one algorithm, with PEM, DER and
//! JWK/JWKS import and export.

use std::sync::Arc;

use authgate_jwt::{Algorithm, Error, Jwk, SigningKey, VerifyingKey};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use serde::Deserialize;

use crate::convert::{PyJson, ToJson};
use crate::errors::IntoPyResult;

/// Parses an algorithm name (`"HS256"`, `"EdDSA"`, ...); `none` and unknown names are refused.
pub(crate) fn algorithm(name: &str) -> PyResult<Algorithm> {
    name.parse::<Algorithm>().py_err()
}

/// Key material given as `str` or `bytes`.
pub(crate) fn material(value: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(text.to_cow()?.as_bytes().to_vec());
    }
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return Ok(bytes.as_bytes().to_vec());
    }
    Err(pyo3::exceptions::PyTypeError::new_err(
        "key material must be str or bytes",
    ))
}

/// A JSON document given as a `dict` or as JSON text, read into `T`.
pub(crate) fn json_arg<T: for<'de> Deserialize<'de>>(value: &Bound<'_, PyAny>) -> PyResult<T> {
    const BAD: Error = Error::InvalidKey("not a valid JWK/JWKS document");
    let parsed = if let Ok(text) = value.cast::<PyString>() {
        serde_json::from_str(&text.to_cow()?)
    } else {
        serde_json::to_value(ToJson::claims(value)).and_then(serde_json::from_value)
    };
    parsed.map_err(|_| BAD).py_err()
}

/// A serialisable document as a Python dict.
pub(crate) fn to_dict<T: serde::Serialize>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    let text = serde_json::to_string(value)
        .map_err(|_| Error::Serialize)
        .py_err()?;
    let _ = py;
    let parsed: PyJson = serde_json::from_str(&text)
        .map_err(|_| Error::Serialize)
        .py_err()?;
    Ok(parsed.0)
}

/// Whether key material is a PEM block or an OpenSSH key, which must never be used as an HMAC secret.
pub(crate) fn looks_public(material: &[u8]) -> bool {
    let trimmed = material.trim_ascii_start();
    trimmed.starts_with(b"-----BEGIN") || trimmed.starts_with(b"ssh-")
}

/// A private (or shared-secret) key that signs tokens with one algorithm.
#[pyclass(frozen, module = "authgate._authgate", name = "SigningKey")]
#[derive(Debug)]
pub(crate) struct PySigningKey {
    pub(crate) key: Arc<SigningKey>,
}

impl PySigningKey {
    fn wrap(key: SigningKey, kid: Option<String>) -> Self {
        let key = match kid {
            Some(kid) => key.with_kid(kid),
            None => key,
        };
        Self { key: Arc::new(key) }
    }

    /// Builds a signing key for `alg` from a secret (HMAC) or a PKCS#8 PEM.
    pub(crate) fn from_material(alg: Algorithm, material: &[u8]) -> Result<SigningKey, Error> {
        if alg.is_symmetric() {
            if looks_public(material) {
                return Err(Error::InvalidKey(
                    "PEM or SSH key material cannot be an HMAC secret",
                ));
            }
            return SigningKey::from_secret(alg, material);
        }
        let pem = std::str::from_utf8(material).map_err(|_| Error::InvalidKey("malformed PEM"))?;
        SigningKey::from_pkcs8_pem(alg, pem)
    }
}

#[pymethods]
impl PySigningKey {
    /// A fresh key: 64 random bytes for HMAC, RSA of `rsa_bits`, a new EC or Ed25519 key.
    #[staticmethod]
    #[pyo3(signature = (algorithm, *, kid=None, rsa_bits=2048))]
    fn generate(
        py: Python<'_>,
        algorithm: &str,
        kid: Option<String>,
        rsa_bits: u32,
    ) -> PyResult<Self> {
        let alg = self::algorithm(algorithm)?;
        let key = py
            .detach(|| match alg {
                Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512 => SigningKey::generate_rsa(alg, rsa_bits),
                _ => SigningKey::generate(alg),
            })
            .py_err()?;
        Ok(Self::wrap(key, kid))
    }

    /// An HMAC key from a shared secret (at least as long as the hash).
    #[staticmethod]
    #[pyo3(signature = (algorithm, secret, *, kid=None))]
    fn from_secret(
        algorithm: &str,
        secret: &Bound<'_, PyAny>,
        kid: Option<String>,
    ) -> PyResult<Self> {
        let alg = self::algorithm(algorithm)?;
        let secret = zeroize::Zeroizing::new(material(secret)?);
        if !alg.is_symmetric() {
            return Err(Error::KeyUsage("not an HMAC algorithm")).py_err();
        }
        Ok(Self::wrap(Self::from_material(alg, &secret).py_err()?, kid))
    }

    /// A key from a PEM `PRIVATE KEY` (PKCS#8) block.
    #[staticmethod]
    #[pyo3(signature = (algorithm, pem, *, kid=None))]
    fn from_pem(
        py: Python<'_>,
        algorithm: &str,
        pem: &Bound<'_, PyAny>,
        kid: Option<String>,
    ) -> PyResult<Self> {
        let alg = self::algorithm(algorithm)?;
        let pem = zeroize::Zeroizing::new(material(pem)?);
        let pem = std::str::from_utf8(&pem)
            .map_err(|_| Error::InvalidKey("malformed PEM"))
            .py_err()?;
        let key = py
            .detach(|| SigningKey::from_pkcs8_pem(alg, pem))
            .py_err()?;
        Ok(Self::wrap(key, kid))
    }

    /// A key from unencrypted PKCS#8 DER.
    #[staticmethod]
    #[pyo3(signature = (algorithm, der, *, kid=None))]
    fn from_der(
        py: Python<'_>,
        algorithm: &str,
        der: &[u8],
        kid: Option<String>,
    ) -> PyResult<Self> {
        let alg = self::algorithm(algorithm)?;
        let key = py
            .detach(|| SigningKey::from_pkcs8_der(alg, der))
            .py_err()?;
        Ok(Self::wrap(key, kid))
    }

    /// The private key as a PEM `PRIVATE KEY` block (not for HMAC keys).
    fn to_pem(&self) -> PyResult<String> {
        Ok(self.key.to_pkcs8_pem().py_err()?.to_string())
    }

    /// The private key as PKCS#8 DER (not for HMAC keys).
    fn to_der<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &self.key.to_pkcs8_der().py_err()?))
    }

    /// The shared secret of an HMAC key.
    fn to_secret<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &self.key.to_secret_bytes().py_err()?))
    }

    /// The algorithm every token signed by this key declares.
    #[getter]
    fn algorithm(&self) -> &'static str {
        self.key.algorithm().as_str()
    }

    /// The `kid` written into every header (RFC 7638 thumbprint by default for asymmetric keys).
    #[getter]
    fn kid(&self) -> Option<&str> {
        self.key.kid()
    }

    /// The key that verifies this key's signatures (same `kid`).
    #[getter]
    fn verifying_key(&self) -> PyVerifyingKey {
        PyVerifyingKey {
            key: Arc::new(self.key.verifying_key().clone()),
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "SigningKey(algorithm={:?}, kid={:?})",
            self.key.algorithm().as_str(),
            self.key.kid()
        )
    }
}

/// A public (or shared-secret) key that verifies tokens of one algorithm.
#[pyclass(frozen, module = "authgate._authgate", name = "VerifyingKey")]
#[derive(Debug, Clone)]
pub(crate) struct PyVerifyingKey {
    pub(crate) key: Arc<VerifyingKey>,
}

impl PyVerifyingKey {
    fn wrap(key: VerifyingKey, kid: Option<String>) -> Self {
        let key = match kid {
            Some(kid) => key.with_kid(kid),
            None => key,
        };
        Self { key: Arc::new(key) }
    }

    /// Builds a verifying key for `alg` from a secret (HMAC) or a PEM public or private key.
    pub(crate) fn from_material(alg: Algorithm, material: &[u8]) -> Result<VerifyingKey, Error> {
        if alg.is_symmetric() {
            if looks_public(material) {
                return Err(Error::InvalidKey(
                    "PEM or SSH key material cannot be an HMAC secret",
                ));
            }
            return VerifyingKey::from_secret(alg, material);
        }
        let pem = std::str::from_utf8(material).map_err(|_| Error::InvalidKey("malformed PEM"))?;
        if pem.contains("PRIVATE KEY-----") {
            return Ok(SigningKey::from_pkcs8_pem(alg, pem)?
                .verifying_key()
                .clone());
        }
        VerifyingKey::from_public_key_pem(alg, pem)
    }
}

#[pymethods]
impl PyVerifyingKey {
    /// An HMAC key from a shared secret.
    #[staticmethod]
    #[pyo3(signature = (algorithm, secret, *, kid=None))]
    fn from_secret(
        algorithm: &str,
        secret: &Bound<'_, PyAny>,
        kid: Option<String>,
    ) -> PyResult<Self> {
        let alg = self::algorithm(algorithm)?;
        let secret = zeroize::Zeroizing::new(material(secret)?);
        if !alg.is_symmetric() {
            return Err(Error::KeyUsage("not an HMAC algorithm")).py_err();
        }
        Ok(Self::wrap(Self::from_material(alg, &secret).py_err()?, kid))
    }

    /// A key from a PEM `PUBLIC KEY` block (or the public half of a PEM `PRIVATE KEY`).
    #[staticmethod]
    #[pyo3(signature = (algorithm, pem, *, kid=None))]
    fn from_pem(algorithm: &str, pem: &Bound<'_, PyAny>, kid: Option<String>) -> PyResult<Self> {
        let alg = self::algorithm(algorithm)?;
        if alg.is_symmetric() {
            return Err(Error::KeyUsage("HMAC keys are secrets, not PEM")).py_err();
        }
        let pem = zeroize::Zeroizing::new(material(pem)?);
        Ok(Self::wrap(Self::from_material(alg, &pem).py_err()?, kid))
    }

    /// A key from a DER SubjectPublicKeyInfo.
    #[staticmethod]
    #[pyo3(signature = (algorithm, der, *, kid=None))]
    fn from_der(algorithm: &str, der: &[u8], kid: Option<String>) -> PyResult<Self> {
        let alg = self::algorithm(algorithm)?;
        let key = VerifyingKey::from_public_key_der(alg, der).py_err()?;
        Ok(Self::wrap(key, kid))
    }

    /// A key from a JWK (dict or JSON text); RSA and `oct` JWKs must name their `alg`.
    #[staticmethod]
    pub(crate) fn from_jwk(jwk: &Bound<'_, PyAny>) -> PyResult<Self> {
        let jwk: Jwk = json_arg(jwk)?;
        Ok(Self::wrap(VerifyingKey::from_jwk(&jwk).py_err()?, None))
    }

    /// The public JWK (`use: sig`, `alg`, `kid`) as a dict; HMAC keys are never exported.
    fn to_jwk(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_dict(py, &self.key.to_jwk().py_err()?)
    }

    /// The public key as a PEM `PUBLIC KEY` block.
    fn to_pem(&self) -> PyResult<String> {
        self.key.to_public_key_pem().py_err()
    }

    /// The public key as DER SubjectPublicKeyInfo.
    fn to_der<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &self.key.to_public_key_der().py_err()?))
    }

    /// The RFC 7638 thumbprint of the public key.
    fn thumbprint(&self) -> PyResult<String> {
        self.key.thumbprint().py_err()
    }

    /// The one algorithm this key verifies.
    #[getter]
    fn algorithm(&self) -> &'static str {
        self.key.algorithm().as_str()
    }

    /// The key id matched against a token's `kid`.
    #[getter]
    fn kid(&self) -> Option<&str> {
        self.key.kid()
    }

    fn __repr__(&self) -> String {
        format!(
            "VerifyingKey(algorithm={:?}, kid={:?})",
            self.key.algorithm().as_str(),
            self.key.kid()
        )
    }
}
