//! `authgate._authgate.GuardCore`: authgate-guard's `Guard` for Python
//! services that trust an authgate server (a JWKS URL, static keys or
//! introspection), with its public-route policy. `authgate.guard.Guard`
//! wraps it with principals, async twins and the FastAPI/ASGI glue.
//!
//! Every call that may wait (a JWKS fetch for an unknown kid,
//! introspection) runs on the extension's runtime with the GIL released.

use std::sync::Arc;

use futures_util::FutureExt;

use authgate_guard::{
    Guard, GuardError, IntrospectionConfig, JwksSettings, Permissions, Policy, PublicRoutes,
    VerifierConfig,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::clock::PyClock;
use crate::errors::guard_error;
use crate::keyset::PyKeySet;
use crate::principal::PyPrincipal;
use crate::runtime::runtime;

/// A guard and the routes it lets through without a token.
#[pyclass(frozen, module = "authgate._authgate", name = "GuardCore")]
#[derive(Debug)]
pub(crate) struct PyGuard {
    /// The Rust guard (cheap to clone into a blocking call).
    guard: Guard,
    /// Which requests skip authentication.
    public: PublicRoutes,
}

/// `(method, path)` pairs; a path ending in `/*` makes everything below it public.
pub(crate) fn public_routes(routes: Vec<(String, String)>) -> PublicRoutes {
    routes
        .iter()
        .fold(PublicRoutes::new(), |public, (method, path)| {
            match path.strip_suffix("/*") {
                Some(prefix) => public.prefix(method, prefix),
                None => public.exact(method, path),
            }
        })
}

/// Seconds as a whole, positive number, for the JWKS schedule.
fn whole_seconds(name: &str, seconds: f64) -> PyResult<i64> {
    if !(1.0..1e12).contains(&seconds) {
        return Err(PyValueError::new_err(format!(
            "{name} must be at least one second"
        )));
    }
    // Bounded above: the cast cannot truncate a meaningful value.
    #[allow(clippy::cast_possible_truncation)]
    Ok(seconds.floor() as i64)
}

impl PyGuard {
    /// Whether verifying `authorization` may wait on the network:
    /// introspection (unless its cache answers, which only the full path
    /// knows), or a JWKS guard that does not hold the token's key id.
    fn may_wait(&self, authorization: Option<&str>) -> bool {
        let Some(verifier) = self.guard.verifier() else {
            return true;
        };
        self.guard.jwks().is_some()
            && authorization
                .and_then(|header| authgate_guard::parse_bearer(header).ok())
                .is_some_and(|token| {
                    matches!(
                        verifier.verify_token(token, self.guard.clock().unix()),
                        Err(GuardError::InvalidToken(authgate_jwt::Error::UnknownKey))
                    )
                })
    }
}

#[pymethods]
impl PyGuard {
    /// A guard for tokens of `issuer` for one of `audiences`, with exactly
    /// one of `jwks_url`, `keys`, or `introspection` (endpoint, client id,
    /// client secret).
    #[new]
    #[pyo3(signature = (
        issuer, audiences, *, jwks_url=None, keys=None, introspection=None,
        public=Vec::new(), permissions=Vec::new(), leeway=60, max_staleness=None,
        unknown_kid_interval=None, clock=None, allow_http=false
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        issuer: String,
        audiences: Vec<String>,
        jwks_url: Option<String>,
        keys: Option<PyRef<'_, PyKeySet>>,
        introspection: Option<(String, String, String)>,
        public: Vec<(String, String)>,
        permissions: Vec<(String, Vec<String>)>,
        leeway: i64,
        max_staleness: Option<f64>,
        unknown_kid_interval: Option<f64>,
        clock: Option<Py<PyAny>>,
        allow_http: bool,
    ) -> PyResult<Self> {
        let mut audiences = audiences.into_iter();
        let first = audiences.next().unwrap_or_default();
        let config = audiences
            .fold(VerifierConfig::new(issuer, first), VerifierConfig::audience)
            .leeway_secs(leeway);
        let mut settings = JwksSettings::default();
        if let Some(max) = max_staleness {
            settings.max_staleness_secs = whole_seconds("max_staleness", max)?;
            // The refresh interval may not exceed the staleness limit.
            settings.max_refresh_secs = settings.max_refresh_secs.min(settings.max_staleness_secs);
            settings.min_refresh_secs = settings.min_refresh_secs.min(settings.max_refresh_secs);
        }
        if let Some(interval) = unknown_kid_interval {
            settings.unknown_kid_interval_secs = whole_seconds("unknown_kid_interval", interval)?;
        }
        let mut builder = Guard::builder(config)
            .jwks_settings(settings)
            .permissions(Permissions::new(permissions));
        if let Some(url) = jwks_url {
            builder = builder.jwks_url(url);
        }
        if let Some(keys) = keys {
            builder = builder.keys(keys.set.clone());
        }
        if let Some((endpoint, client_id, secret)) = introspection {
            let mut config = IntrospectionConfig::new(endpoint, client_id, secret);
            config.insecure_allow_http = allow_http;
            builder = builder.introspection(config);
        }
        if let Some(clock) = clock {
            builder = builder.clock(Arc::new(PyClock::new(clock)));
        }
        if allow_http {
            builder = builder.insecure_allow_http();
        }
        let runtime = runtime()?;
        // Built inside the runtime: the background JWKS refresh is spawned there.
        let guard = py
            .detach(|| {
                let _entered = runtime.enter();
                builder.build()
            })
            .map_err(guard_error)?;
        Ok(Self {
            guard,
            public: public_routes(public),
        })
    }

    /// Whether `method` on `path` is public by this guard's routes.
    fn should_skip_authentication(&self, method: &str, path: &str) -> bool {
        self.public.should_skip_authentication(method, path)
    }

    /// `None` for a public route, else the principal of the verified
    /// `Authorization` header's token.
    #[pyo3(signature = (method, path, authorization))]
    fn authenticate_request(
        &self,
        py: Python<'_>,
        method: &str,
        path: &str,
        authorization: Option<&str>,
    ) -> PyResult<Option<PyPrincipal>> {
        let guard = &self.guard;
        let public = &self.public;
        let answer = py.detach(|| {
            runtime().map(|rt| {
                rt.block_on(guard.authenticate_request(public, method, path, authorization))
            })
        })?;
        Ok(answer.map_err(guard_error)?.map(PyPrincipal::from))
    }

    /// `authenticate_request` without waiting: `(True, principal)` when the
    /// answer needs no network (a public route, a token verified with the
    /// keys held or from the cache, any refusal decided locally), `(False,
    /// None)` when it may (introspection, or a token naming a key id the
    /// guard does not hold, which may fetch the JWKS): the caller then runs
    /// `authenticate_request`, in a thread from the event loop.
    ///
    /// What the guard answers without a signature check (a public route, a
    /// bad header, a token from its cache) is answered with the GIL held:
    /// under a microsecond, less than releasing the GIL and taking it back.
    /// A signature check runs with the GIL released, and nothing waits on
    /// the runtime: no `block_on`, no thread hop.
    #[pyo3(signature = (method, path, authorization))]
    fn authenticate_request_now(
        &self,
        py: Python<'_>,
        method: &str,
        path: &str,
        authorization: Option<&str>,
    ) -> PyResult<(bool, Option<PyPrincipal>)> {
        if let Some(answer) =
            self.guard
                .authenticate_request_cached(&self.public, method, path, authorization)
        {
            let principal = answer.map_err(guard_error)?;
            return Ok((true, principal.map(PyPrincipal::from)));
        }
        let runtime = runtime()?;
        let answer = py.detach(|| {
            if !self.public.should_skip_authentication(method, path) && self.may_wait(authorization)
            {
                return None;
            }
            // Nothing below awaits the network now: one poll completes it.
            let _entered = runtime.enter();
            self.guard
                .authenticate_request(&self.public, method, path, authorization)
                .now_or_never()
        });
        match answer {
            None => Ok((false, None)),
            Some(Ok(Some(principal))) => Ok((true, Some(principal.into()))),
            Some(Ok(None)) => Ok((true, None)),
            Some(Err(error)) => Err(guard_error(error)),
        }
    }

    /// The principal of a bare access token, verified.
    fn verify_token(&self, py: Python<'_>, token: &str) -> PyResult<PyPrincipal> {
        let guard = &self.guard;
        let answer = py.detach(|| runtime().map(|rt| rt.block_on(guard.verify_token(token))))?;
        Ok(answer.map_err(guard_error)?.into())
    }

    /// Like `verify_token`, but never raises: `None` for any refusal
    /// (the server unreachable included), with the reason.
    fn introspect_token(
        &self,
        py: Python<'_>,
        token: &str,
    ) -> PyResult<(Option<PyPrincipal>, &'static str)> {
        let guard = &self.guard;
        let answer = py.detach(|| runtime().map(|rt| rt.block_on(guard.verify_token(token))))?;
        match answer {
            Ok(principal) => Ok((Some(principal.into()), "active")),
            Err(error) => Ok((None, error.reason())),
        }
    }

    /// Whether the principal's roles grant `permission` by this guard's
    /// role map (`admin` holds every permission).
    fn allows(&self, principal: &PyPrincipal, permission: &str) -> bool {
        self.guard
            .permissions()
            .allows(principal.principal().roles(), permission)
    }

    /// Succeeds when the principal holds every role in `required_roles`
    /// (literally) and its roles grant every permission in `required_permissions`.
    ///
    /// # Errors
    /// `InsufficientScopeError` (403, the server's `WWW-Authenticate`) otherwise.
    fn check_scope(
        &self,
        principal: &PyPrincipal,
        required_roles: Vec<String>,
        required_permissions: Vec<String>,
    ) -> PyResult<()> {
        let principal = principal.principal();
        let permissions = self.guard.permissions();
        let granted = required_roles.iter().all(|role| principal.has_role(role))
            && required_permissions
                .iter()
                .all(|permission| permissions.allows(principal.roles(), permission));
        if granted {
            Ok(())
        } else {
            Err(guard_error(GuardError::InsufficientScope))
        }
    }

    /// The JWKS fetcher's counters (`None` without a JWKS URL): requests,
    /// failures, unknown-kid refetches, stale refusals, the key ids held.
    fn jwks_status(&self) -> Option<JwksStatusTuple> {
        self.guard.jwks().map(|jwks| {
            let status = jwks.status();
            (
                status.key_ids,
                status.requests,
                status.failures,
                status.unknown_kid_refetches,
                status.stale_refusals,
            )
        })
    }
}

/// `(key_ids, requests, failures, unknown_kid_refetches, stale_refusals)`.
type JwksStatusTuple = (Vec<String>, u64, u64, u64, u64);
