//! Which keys a `decode` call verifies with: key objects as given, JWK/JWKS
//! dicts parsed, and PyJWT-style raw secrets and PEM text parsed once and
//! cached, each pinned to one algorithm from `algorithms`.

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use authgate_jwt::{Algorithm, Error, KeyResolver, VerifyingKey, decode_unverified};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use serde::de::IgnoredAny;

use crate::cache::KeyCache;
use crate::errors::IntoPyResult;
use crate::keys::{PySigningKey, PyVerifyingKey};
use crate::keyset::{self, KeyArg, PyKeySet};

static VERIFYING: LazyLock<KeyCache<VerifyingKey>> = LazyLock::new(KeyCache::new);

/// Raw key material of a `str` or `bytes` key argument.
pub(crate) fn raw_key<'a>(value: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, [u8]>> {
    if let Ok(b) = value.cast::<PyBytes>() {
        return Ok(Cow::Borrowed(b.as_bytes()));
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(match s.to_cow()? {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        });
    }
    Err(PyTypeError::new_err(
        "key must be a SigningKey, VerifyingKey, KeySet, JWK/JWKS dict, or str/bytes secret or PEM",
    ))
}

/// The keys a `decode` call verifies with.
pub(crate) enum Keys<'a> {
    One(Arc<VerifyingKey>),
    Set(&'a PyKeySet),
    OwnedSet(PyKeySet),
}

impl Keys<'_> {
    pub(crate) fn resolver(&self) -> &(dyn KeyResolver + Sync) {
        match self {
            Keys::One(key) => key.as_ref(),
            Keys::Set(set) => &set.set,
            Keys::OwnedSet(set) => &set.set,
        }
    }

    /// Whether to release the GIL: not for HMAC, whose whole verification is
    /// shorter than a release and re-acquisition (see python/README.md).
    pub(crate) fn release_gil(&self) -> bool {
        match self {
            Keys::One(key) => !key.algorithm().is_symmetric(),
            Keys::Set(set) => !set.all_symmetric,
            Keys::OwnedSet(set) => !set.all_symmetric,
        }
    }
}

/// Checks that a key object's algorithm is one the caller allows.
fn allowed(alg: Algorithm, allowed: Option<&[Algorithm]>) -> PyResult<()> {
    match allowed {
        Some(list) if !list.contains(&alg) => Err(Error::KeyUsage(
            "the key's algorithm is not among `algorithms`",
        ))
        .py_err(),
        _ => Ok(()),
    }
}

/// The key for a raw secret or PEM: the one allowed algorithm, or the token's
/// `alg` when several are allowed (it must be among them).
fn keys_from_material(
    token: &str,
    material: &[u8],
    allowed: Option<&[Algorithm]>,
) -> PyResult<Arc<VerifyingKey>> {
    let alg = match allowed {
        None | Some([]) => {
            return Err(PyTypeError::new_err(
                "`algorithms` is required when the key is a str or bytes secret or PEM",
            ));
        }
        Some([alg]) => *alg,
        Some(list) => {
            let header = decode_unverified::<IgnoredAny>(token).py_err()?.header;
            let alg = header
                .alg
                .parse::<Algorithm>()
                .map_err(|_| Error::UnsupportedAlgorithm)
                .py_err()?;
            if !list.contains(&alg) {
                return Err(Error::AlgorithmMismatch).py_err();
            }
            alg
        }
    };
    VERIFYING
        .get_or_build(material, alg, None, || {
            PyVerifyingKey::from_material(alg, material)
        })
        .py_err()
}

/// The keys for `key`, checked against `algorithms` when given.
pub(crate) fn resolve<'a>(
    token: &str,
    key: &'a Bound<'_, PyAny>,
    allowed_algs: Option<&[Algorithm]>,
) -> PyResult<Keys<'a>> {
    if let Ok(k) = key.cast::<PyVerifyingKey>() {
        let k = &k.get().key;
        allowed(k.algorithm(), allowed_algs)?;
        return Ok(Keys::One(Arc::clone(k)));
    }
    if let Ok(set) = key.cast::<PyKeySet>() {
        if let Some(list) = allowed_algs {
            let header = decode_unverified::<IgnoredAny>(token).py_err()?.header;
            if !header
                .alg
                .parse::<Algorithm>()
                .is_ok_and(|a| list.contains(&a))
            {
                return Err(Error::AlgorithmMismatch).py_err();
            }
        }
        return Ok(Keys::Set(set.get()));
    }
    if let Ok(k) = key.cast::<PySigningKey>() {
        let k = k.get().key.verifying_key();
        allowed(k.algorithm(), allowed_algs)?;
        return Ok(Keys::One(Arc::new(k.clone())));
    }
    if let Ok(dict) = key.cast::<PyDict>() {
        return Ok(match keyset::from_jwk_dict(dict)? {
            KeyArg::One(k) => {
                allowed(k.algorithm(), allowed_algs)?;
                Keys::One(k)
            }
            KeyArg::Set(set) => Keys::OwnedSet(set),
        });
    }
    let material = raw_key(key)?;
    Ok(Keys::One(keys_from_material(
        token,
        &material,
        allowed_algs,
    )?))
}
