//! JSON values between Python and serde: claims going into `encode` are
//! serialised straight from Python objects, and claims coming out of a
//! verified token are deserialised straight into Python objects, with no
//! intermediate `serde_json::Value`.

use std::fmt;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Nesting deeper than this is refused when serialising (a cycle would otherwise recurse forever).
const MAX_DEPTH: usize = 64;

/// A Python object read from JSON (dict, list, str, int, float, bool or None).
#[derive(Debug)]
pub(crate) struct PyJson(pub(crate) Py<PyAny>);

impl<'de> Deserialize<'de> for PyJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Callers hold the GIL; attaching again only bumps a counter.
        Python::attach(|py| Seed(py).deserialize(d).map(|value| PyJson(value.unbind())))
    }
}

/// Builds Python objects for one JSON value.
#[derive(Clone, Copy)]
struct Seed<'py>(Python<'py>);

impl<'de, 'py> DeserializeSeed<'de> for Seed<'py> {
    type Value = Bound<'py, PyAny>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// The key of a JSON object, as a Python `str`.
struct KeySeed<'py>(Python<'py>);

impl<'de, 'py> DeserializeSeed<'de> for KeySeed<'py> {
    type Value = Bound<'py, PyString>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'py> Visitor<'_> for KeySeed<'py> {
    type Value = Bound<'py, PyString>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(PyString::new(self.0, v))
    }
}

fn py_error<E: de::Error>(err: PyErr) -> E {
    E::custom(err)
}

impl<'de, 'py> Visitor<'de> for Seed<'py> {
    type Value = Bound<'py, PyAny>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(PyBool::new(self.0, v).to_owned().into_any())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(PyInt::new(self.0, v).into_any())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(PyInt::new(self.0, v).into_any())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(PyFloat::new(self.0, v).into_any())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(PyString::new(self.0, v).into_any())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.0.None().into_bound(self.0))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let list = PyList::empty(self.0);
        while let Some(item) = seq.next_element_seed(self)? {
            list.append(item).map_err(py_error)?;
        }
        Ok(list.into_any())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let dict = PyDict::new(self.0);
        while let Some(key) = map.next_key_seed(KeySeed(self.0))? {
            let value = map.next_value_seed(self)?;
            dict.set_item(key, value).map_err(py_error)?;
        }
        Ok(dict.into_any())
    }
}

/// Serialises a Python object as JSON: dict (str keys), list, tuple, str,
/// int (64-bit), finite float, bool and None. At the top level of the claims,
/// `exp`, `nbf` and `iat` may also be `datetime`s, written as whole Unix
/// seconds (as PyJWT does).
#[derive(Debug)]
pub(crate) struct ToJson<'a, 'py> {
    value: &'a Bound<'py, PyAny>,
    depth: usize,
}

impl<'a, 'py> ToJson<'a, 'py> {
    /// The claims object `value`, ready for serialisation.
    pub(crate) fn claims(value: &'a Bound<'py, PyAny>) -> Self {
        Self { value, depth: 0 }
    }
}

/// Time claims PyJWT accepts as `datetime`.
const TIME_CLAIMS: [&str; 3] = ["exp", "nbf", "iat"];

impl Serialize for ToJson<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.value;
        if self.depth > MAX_DEPTH {
            return Err(ser::Error::custom("claims nest too deeply"));
        }
        let err = |e: PyErr| ser::Error::custom(e);
        if let Ok(text) = v.cast::<PyString>() {
            return s.serialize_str(&text.to_cow().map_err(err)?);
        }
        if let Ok(flag) = v.cast::<PyBool>() {
            return s.serialize_bool(flag.is_true());
        }
        if v.is_instance_of::<PyInt>() {
            return match v.extract::<i64>() {
                Ok(n) => s.serialize_i64(n),
                Err(_) => s.serialize_u64(v.extract::<u64>().map_err(err)?),
            };
        }
        if let Ok(float) = v.cast::<PyFloat>() {
            let f = float.value();
            if !f.is_finite() {
                return Err(ser::Error::custom("NaN and infinity are not JSON"));
            }
            return s.serialize_f64(f);
        }
        if v.is_none() {
            return s.serialize_unit();
        }
        let depth = self.depth + 1;
        if let Ok(dict) = v.cast::<PyDict>() {
            let mut map = s.serialize_map(Some(dict.len()))?;
            for (key, value) in dict.iter() {
                let key = key
                    .cast::<PyString>()
                    .map_err(|_| ser::Error::custom("claim names must be str"))?;
                let name = key.to_cow().map_err(err)?;
                if self.depth == 0
                    && TIME_CLAIMS.contains(&&*name)
                    && let Some(seconds) = datetime_seconds(&value).map_err(err)?
                {
                    map.serialize_entry(&*name, &seconds)?;
                    continue;
                }
                map.serialize_entry(
                    &*name,
                    &ToJson {
                        value: &value,
                        depth,
                    },
                )?;
            }
            return map.end();
        }
        if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
            let len = v.len().map_err(err)?;
            let mut seq = s.serialize_seq(Some(len))?;
            for item in v.try_iter().map_err(err)? {
                let item = item.map_err(err)?;
                seq.serialize_element(&ToJson {
                    value: &item,
                    depth,
                })?;
            }
            return seq.end();
        }
        Err(ser::Error::custom(
            "claims must be JSON values (dict, list, str, int, float, bool, None)",
        ))
    }
}

/// Whole Unix seconds of a `datetime` (anything with `timestamp()`), or `None` for other values.
pub(crate) fn datetime_seconds(value: &Bound<'_, PyAny>) -> PyResult<Option<i64>> {
    if value.is_instance_of::<PyInt>() || value.is_instance_of::<PyFloat>() {
        return Ok(None);
    }
    if !value.hasattr(pyo3::intern!(value.py(), "timestamp"))? {
        return Ok(None);
    }
    let seconds: f64 = value.call_method0("timestamp")?.extract()?;
    Ok(Some(seconds.floor() as i64))
}
