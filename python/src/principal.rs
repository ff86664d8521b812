//! `authgate._authgate.Principal` (re-exported as `authgate.guard.Principal`):
//! who a verified access token speaks for, handed to Python without copying
//! the claims.
//!
//! It wraps authgate-guard's `Principal` (an `Arc` shared with the guard's
//! token cache), so building one on a cache hit is a pointer copy; the
//! fields become Python objects when read, and the claims dict is built once,
//! on first use. Before this, the claims went to Python as JSON text, parsed
//! into a frozen dataclass: that took longer than an HS256 verify itself.

use std::hash::{DefaultHasher, Hash, Hasher};

use authgate_guard::Principal;
use authgate_proto::AccessClaims;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyTuple};

/// The claims of a verified access token, read-only.
#[pyclass(frozen, module = "authgate._authgate", name = "Principal")]
pub(crate) struct PyPrincipal {
    /// The verified claims (shared with the guard's cache).
    principal: Principal,
    /// `claims` as a dict, built on first read and then handed out each time.
    claims: PyOnceLock<Py<PyDict>>,
}

impl std::fmt::Debug for PyPrincipal {
    /// The claims; the dict built from them adds nothing.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PyPrincipal")
            .field("principal", &self.principal)
            .finish_non_exhaustive()
    }
}

impl From<Principal> for PyPrincipal {
    fn from(principal: Principal) -> Self {
        Self {
            principal,
            claims: PyOnceLock::new(),
        }
    }
}

/// The claims as a dict with the keys and shapes of the token's JSON
/// (`aud` a string for one audience, a list for several; `sid`,
/// `client_id` and `scope` only when present).
fn claims_dict<'py>(py: Python<'py>, claims: &AccessClaims) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("iss", &claims.iss)?;
    dict.set_item("sub", &claims.sub)?;
    match claims.aud.as_slice() {
        [one] => dict.set_item("aud", one)?,
        many => dict.set_item("aud", PyList::new(py, many)?)?,
    }
    dict.set_item("exp", claims.exp)?;
    dict.set_item("iat", claims.iat)?;
    dict.set_item("nbf", claims.nbf)?;
    dict.set_item("jti", &claims.jti)?;
    if let Some(sid) = claims.sid {
        dict.set_item("sid", sid.to_string())?;
    }
    dict.set_item("roles", PyList::new(py, &claims.roles)?)?;
    if let Some(client_id) = &claims.client_id {
        dict.set_item("client_id", client_id)?;
    }
    if let Some(scope) = &claims.scope {
        dict.set_item("scope", scope)?;
    }
    Ok(dict)
}

#[pymethods]
impl PyPrincipal {
    /// `sub`: the user id, or the client id of a client token.
    #[getter]
    fn subject(&self) -> &str {
        self.principal.subject()
    }

    /// The roles the subject had when the token was issued.
    #[getter]
    fn roles<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.principal.roles())
    }

    /// `jti`: by which this one token can be revoked.
    #[getter]
    fn token_id(&self) -> &str {
        self.principal.token_id()
    }

    /// `sid`: the session; `None` for client tokens.
    #[getter]
    fn session_id(&self) -> Option<String> {
        self.principal.session_id().map(|sid| sid.to_string())
    }

    /// `client_id`: the service client, for client tokens only.
    #[getter]
    fn client_id(&self) -> Option<&str> {
        self.principal.client_id()
    }

    /// `exp`, Unix seconds.
    #[getter]
    fn expires_at(&self) -> i64 {
        self.principal.expires_at()
    }

    /// Every claim, for what the fields above do not cover (`aud`, `scope`).
    #[getter]
    fn claims<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.claims
            .get_or_try_init(py, || {
                claims_dict(py, self.principal.claims()).map(Bound::unbind)
            })
            .map(|dict| dict.bind(py).clone())
    }

    /// Whether `role` is literally among the roles (no admin shortcut).
    fn has_role(&self, role: &str) -> bool {
        self.principal.has_role(role)
    }

    /// Principals are equal when their claims are.
    fn __eq__(&self, other: &Self) -> bool {
        self.principal == other.principal
    }

    /// Consistent with `__eq__`: equal claims have the same `jti`.
    fn __hash__(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        self.principal.token_id().hash(&mut hasher);
        hasher.finish()
    }

    /// The fields as Python writes them, not the claims (which may be long).
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let fields = [
            "subject",
            "roles",
            "token_id",
            "session_id",
            "client_id",
            "expires_at",
        ];
        let mut text = String::from("Principal(");
        for (i, field) in fields.into_iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            let value = slf.getattr(field)?.repr()?;
            text.push_str(field);
            text.push('=');
            text.push_str(&value.to_cow()?);
        }
        text.push(')');
        Ok(text)
    }
}

impl PyPrincipal {
    /// The roles, for the guard's scope checks.
    pub(crate) fn principal(&self) -> &Principal {
        &self.principal
    }
}
