//! The functions of `authgate.jwt`: `encode` and `decode` with PyJWT-shaped
//! arguments and authgate-jwt's strict rules, and the unverified helpers
//! `decode_jwt`, `get_unverified_header` and `is_jwt_expired`.

use std::sync::{Arc, LazyLock};
use std::time::{SystemTime, UNIX_EPOCH};

use authgate_jwt::{Algorithm, Error, SigningKey, Validation, decode_unverified};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use serde::de::IgnoredAny;

use crate::cache::KeyCache;
use crate::convert::{PyJson, ToJson, datetime_seconds};
use crate::errors::IntoPyResult;
use crate::keys::{self, PySigningKey};
use crate::resolve::{raw_key, resolve};

static SIGNING: LazyLock<KeyCache<SigningKey>> = LazyLock::new(KeyCache::new);

/// The UTF-8 bytes of a `str` or `bytes` token, held as a Python `bytes`.
///
/// The 3.9 stable ABI has no way to borrow a `str`'s UTF-8 (that came in
/// 3.10), so a `str` is encoded once into a `bytes` that is kept alive and
/// borrowed; pyo3's `to_cow` would copy it a second time into a `String`.
struct Utf8<'py>(Bound<'py, PyBytes>);

impl Utf8<'_> {
    fn new<'py>(value: &Bound<'py, PyAny>, what: &str) -> PyResult<Utf8<'py>> {
        if let Ok(s) = value.cast::<PyString>() {
            return Ok(Utf8(s.encode_utf8()?));
        }
        if let Ok(b) = value.cast::<PyBytes>() {
            return Ok(Utf8(b.clone()));
        }
        Err(PyTypeError::new_err(format!("{what} must be str or bytes")))
    }

    fn as_str(&self) -> PyResult<&str> {
        std::str::from_utf8(self.0.as_bytes())
            .map_err(|_| Error::Malformed("token is not UTF-8"))
            .py_err()
    }
}

/// Unix seconds from an int, float or `datetime`; the system clock when `None`.
fn unix_seconds(value: Option<&Bound<'_, PyAny>>) -> PyResult<i64> {
    match value {
        None => Ok(SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))),
        Some(value) => match datetime_seconds(value)? {
            Some(seconds) => Ok(seconds),
            None => Ok(value.extract::<f64>()?.floor() as i64),
        },
    }
}

/// Seconds from an int, float or `timedelta`.
fn seconds(value: &Bound<'_, PyAny>) -> PyResult<i64> {
    if value.hasattr(pyo3::intern!(value.py(), "total_seconds"))? {
        let total: f64 = value.call_method0("total_seconds")?.extract()?;
        return Ok(total.floor() as i64);
    }
    Ok(value.extract::<f64>()?.floor() as i64)
}

/// A `str`, or an iterable of `str`, as a list of names.
fn names(value: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(vec![s.to_cow()?.into_owned()]);
    }
    value
        .try_iter()?
        .map(|item| item?.extract::<String>())
        .collect()
}

/// The algorithms of an `algorithms` argument (a name or an iterable of
/// names); unknown names are refused.
fn algorithms(value: &Bound<'_, PyAny>) -> PyResult<Vec<Algorithm>> {
    let parse = |name: &Bound<'_, PyAny>| -> PyResult<Algorithm> {
        keys::algorithm(&name.cast::<PyString>()?.to_cow()?)
    };
    if value.is_instance_of::<PyString>() {
        return Ok(vec![parse(value)?]);
    }
    value.try_iter()?.map(|item| parse(&item?)).collect()
}

/// Verifies `token` and returns its claims as a dict.
#[pyfunction]
#[pyo3(signature = (token, key, algorithms=None, *, audience=None, issuer=None, leeway=None, typ=None, require=None, now=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn decode(
    py: Python<'_>,
    token: &Bound<'_, PyAny>,
    key: &Bound<'_, PyAny>,
    algorithms: Option<&Bound<'_, PyAny>>,
    audience: Option<&Bound<'_, PyAny>>,
    issuer: Option<String>,
    leeway: Option<&Bound<'_, PyAny>>,
    typ: Option<String>,
    require: Option<&Bound<'_, PyAny>>,
    now: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let token = Utf8::new(token, "token")?;
    let token = token.as_str()?;
    let allowed_algs = algorithms.map(self::algorithms).transpose()?;
    let keys = resolve(token, key, allowed_algs.as_deref())?;

    let mut validation = Validation::new();
    validation.issuer = issuer;
    validation.typ = typ;
    if let Some(audience) = audience {
        validation.audiences = names(audience)?;
    }
    if let Some(leeway) = leeway {
        validation.leeway = seconds(leeway)?;
    }
    if let Some(require) = require {
        for claim in names(require)? {
            validation = validation.require(claim);
        }
    }
    let now = unix_seconds(now)?;

    let resolver = keys.resolver();
    if keys.release_gil() {
        py.detach(|| authgate_jwt::verify::<IgnoredAny>(token, resolver, &validation, now))
            .py_err()?;
        Ok(decode_unverified::<PyJson>(token).py_err()?.claims.0)
    } else {
        Ok(
            authgate_jwt::verify::<PyJson>(token, resolver, &validation, now)
                .py_err()?
                .0,
        )
    }
}

/// The signing key of an `encode` call and the `typ` to write.
fn signing_key(
    key: &Bound<'_, PyAny>,
    algorithm: Option<&str>,
    kid: Option<&str>,
) -> PyResult<Arc<SigningKey>> {
    if let Ok(k) = key.cast::<PySigningKey>() {
        let k = &k.get().key;
        if algorithm.is_some_and(|alg| alg != k.algorithm().as_str()) {
            return Err(Error::KeyUsage("`algorithm` differs from the key's")).py_err();
        }
        if kid.is_some_and(|kid| Some(kid) != k.kid()) {
            return Err(PyValueError::new_err(
                "a SigningKey's kid is fixed when it is built (pass kid= to its constructor)",
            ));
        }
        return Ok(Arc::clone(k));
    }
    let alg = keys::algorithm(algorithm.unwrap_or("HS256"))?;
    let material = raw_key(key)?;
    SIGNING
        .get_or_build(&material, alg, kid, || {
            let key = PySigningKey::from_material(alg, &material)?;
            Ok::<_, Error>(match kid {
                Some(kid) => key.with_kid(kid),
                None => key,
            })
        })
        .py_err()
}

/// Signs `payload` (a dict of claims) into a compact JWT.
#[pyfunction]
#[pyo3(signature = (payload, key, algorithm=None, headers=None))]
pub(crate) fn encode(
    py: Python<'_>,
    payload: &Bound<'_, PyAny>,
    key: &Bound<'_, PyAny>,
    algorithm: Option<&str>,
    headers: Option<&Bound<'_, PyDict>>,
) -> PyResult<String> {
    if !payload.is_instance_of::<PyDict>() {
        return Err(PyTypeError::new_err("payload must be a dict of claims"));
    }
    let (mut typ, mut kid) = (Some("JWT".to_owned()), None::<String>);
    let mut algorithm = algorithm.map(str::to_owned);
    if let Some(headers) = headers {
        for (name, value) in headers.iter() {
            let value: Option<String> = value.extract()?;
            match name.extract::<String>()?.as_str() {
                "typ" => typ = value,
                "kid" => kid = value,
                "alg" => match (&algorithm, value) {
                    (Some(a), Some(v)) if *a != v => {
                        return Err(PyValueError::new_err(
                            "headers['alg'] differs from `algorithm`",
                        ));
                    }
                    (_, v) => algorithm = v.or(algorithm),
                },
                _ => {
                    return Err(PyValueError::new_err(
                        "authgate writes only the alg, typ and kid headers",
                    ));
                }
            }
        }
    }
    let key = signing_key(key, algorithm.as_deref(), kid.as_deref())?;
    let typ = typ.as_deref();
    if key.algorithm().is_symmetric() {
        return authgate_jwt::sign(&key, typ, &ToJson::claims(payload)).py_err();
    }
    // Read from Python objects with the GIL, then signed without it.
    let claims = serde_json::to_value(ToJson::claims(payload))
        .map_err(|_| Error::Serialize)
        .py_err()?;
    py.detach(|| authgate_jwt::sign(&key, typ, &claims))
        .py_err()
}

/// The claims of `token`, **not verified**: for display and refresh scheduling only.
#[pyfunction]
pub(crate) fn decode_jwt(token: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let token = Utf8::new(token, "token")?;
    Ok(decode_unverified::<PyJson>(token.as_str()?)
        .py_err()?
        .claims
        .0)
}

/// The JOSE header of `token` (alg, typ, kid, cty), **not verified**.
#[pyfunction]
pub(crate) fn get_unverified_header<'py>(
    py: Python<'py>,
    token: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    let token = Utf8::new(token, "token")?;
    let header = decode_unverified::<IgnoredAny>(token.as_str()?)
        .py_err()?
        .header;
    let dict = PyDict::new(py);
    dict.set_item("alg", header.alg)?;
    for (name, value) in [
        ("typ", header.typ),
        ("kid", header.kid),
        ("cty", header.cty),
    ] {
        if let Some(value) = value {
            dict.set_item(name, value)?;
        }
    }
    Ok(dict)
}

/// Whether `token`'s `exp` is at or before `now`, unverified: no `exp` never
/// expires, a malformed token counts as expired.
#[pyfunction]
#[pyo3(signature = (token, now=None))]
pub(crate) fn is_jwt_expired(
    token: &Bound<'_, PyAny>,
    now: Option<&Bound<'_, PyAny>>,
) -> PyResult<bool> {
    let now = unix_seconds(now)?;
    let token = Utf8::new(token, "token")?;
    Ok(match token.as_str() {
        Ok(token) => authgate_jwt::is_expired(token, now),
        Err(_) => true,
    })
}
