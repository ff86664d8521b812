//! `authgate._authgate.AuthStoreCore`, `AuthClientCore` and
//! `RouteGuardCore`: authgate-client's observable store, HTTP client
//! (single-flight refresh ahead of expiry and after a 401, clock-skew
//! correction) and route guard for Python programs that log in to an
//! authgate server. `authgate.client` wraps them with models and async twins.
//!
//! Every request runs on the extension's runtime with the GIL released;
//! store listeners are called with the GIL taken, on whichever thread made
//! the change.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use authgate_client::{
    AuthChange, AuthStore, Client, ReqwestTransport, RouteGuard, Subscription, route_guard,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde::Serialize;

use crate::clock::PyClock;
use crate::errors::client_error;
use crate::runtime::runtime;

/// authgate-client's `AuthStore`: the session's tokens and user, telling
/// listeners about every change in order.
#[pyclass(frozen, module = "authgate._authgate", name = "AuthStoreCore")]
#[derive(Debug, Default)]
pub(crate) struct PyAuthStore {
    /// The Rust store (clones share it).
    store: AuthStore,
    /// Live subscriptions by id: dropping one unsubscribes it.
    subscriptions: Mutex<HashMap<u64, Subscription>>,
    /// The next subscription id.
    next_id: AtomicU64,
}

/// JSON text of a wire value (the Python layer parses it into its models).
fn to_json<T: Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value)
        .map_err(|_| PyValueError::new_err("the value could not be serialised"))
}

/// `(kind, user JSON)` of a change, as listeners receive it.
fn change_parts(change: &AuthChange) -> (&'static str, Option<String>) {
    match change {
        AuthChange::LoggedIn(user) => ("logged_in", serde_json::to_string(user).ok()),
        AuthChange::TokenRefreshed => ("token_refreshed", None),
        // Non-exhaustive: anything else ends what listeners knew.
        _ => ("logged_out", None),
    }
}

#[pymethods]
impl PyAuthStore {
    /// An empty store (logged out).
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// The access token, if logged in.
    fn token(&self) -> Option<String> {
        self.store.token()
    }

    /// The refresh token, if logged in with one.
    fn refresh_token(&self) -> Option<String> {
        self.store.refresh_token()
    }

    /// The logged-in user as JSON, if any.
    fn user(&self) -> PyResult<Option<String>> {
        self.store.user().as_ref().map(to_json).transpose()
    }

    /// Whether a session is held.
    fn is_authenticated(&self) -> bool {
        self.store.is_authenticated()
    }

    /// Replaces the access token (and the refresh token when given) of the
    /// current session; `False` when logged out.
    #[pyo3(signature = (access, refresh=None))]
    fn set_token(&self, access: String, refresh: Option<String>) -> bool {
        self.store
            .set_token(authgate_client::Tokens { access, refresh })
    }

    /// Ends the session locally (no request): listeners hear `logged_out`.
    fn logout(&self) {
        self.store.logout();
    }

    /// Calls `listener(kind, user_json)` after every change, in order;
    /// returns the id `unsubscribe` takes. A listener that raises is
    /// reported with `sys.unraisablehook` and the others still hear the change.
    fn subscribe(&self, listener: Py<PyAny>) -> u64 {
        let subscription = self.store.subscribe(move |change| {
            let (kind, user) = change_parts(change);
            Python::attach(|py| {
                if let Err(error) = listener.call1(py, (kind, user)) {
                    error.write_unraisable(py, Some(listener.bind(py)));
                }
            });
        });
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.subscriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, subscription);
        id
    }

    /// Removes subscription `id`; `False` if it was already gone.
    fn unsubscribe(&self, id: u64) -> bool {
        let removed = self
            .subscriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        // Dropped outside the lock: dropping takes the store's listener lock.
        removed.is_some()
    }
}

/// authgate-client's `Client` over reqwest, for one server and one session.
#[pyclass(frozen, module = "authgate._authgate", name = "AuthClientCore")]
#[derive(Debug)]
pub(crate) struct PyAuthClient {
    /// The Rust client (clones share the store and the refresh in flight).
    client: Client,
}

impl PyAuthClient {
    /// Runs `call` on a clone of the client, on the runtime, without the GIL.
    fn run<T, F, Fut>(&self, py: Python<'_>, call: F) -> PyResult<T>
    where
        T: Send,
        F: FnOnce(Client) -> Fut + Send,
        Fut: Future<Output = Result<T, authgate_client::Error>>,
    {
        let client = self.client.clone();
        let answer = py.detach(|| runtime().map(|rt| rt.block_on(call(client))))?;
        answer.map_err(client_error)
    }
}

#[pymethods]
impl PyAuthClient {
    /// A client of `server` (`https://…`, or `http://` to loopback, or
    /// anywhere with `allow_http`) keeping its session in `store`.
    #[new]
    #[pyo3(signature = (server, store, *, refresh_margin=60.0, clock=None, allow_http=false))]
    fn new(
        server: &str,
        store: &PyAuthStore,
        refresh_margin: f64,
        clock: Option<Py<PyAny>>,
        allow_http: bool,
    ) -> PyResult<Self> {
        if !(0.0..1e9).contains(&refresh_margin) {
            return Err(PyValueError::new_err(
                "refresh_margin must be between 0 and 10^9 seconds",
            ));
        }
        let transport = if allow_http {
            ReqwestTransport::new_over_plain_http(server)
        } else {
            ReqwestTransport::new(server)
        }
        .map_err(client_error)?;
        let mut builder = Client::builder(transport)
            .store(store.store.clone())
            .refresh_margin(Duration::from_secs_f64(refresh_margin));
        if let Some(clock) = clock {
            builder = builder.clock(Arc::new(PyClock::new(clock)));
        }
        Ok(Self {
            client: builder.build(),
        })
    }

    /// `POST /auth/login`; the session goes into the store. The user (JSON).
    fn login(&self, py: Python<'_>, identifier: String, password: String) -> PyResult<String> {
        let user = self.run(py, |client| async move {
            client.login(&identifier, &password).await
        })?;
        to_json(&user)
    }

    /// Refreshes now (joining a refresh in flight); the new access token.
    fn refresh(&self, py: Python<'_>) -> PyResult<String> {
        self.run(py, |client| async move { client.refresh().await })
    }

    /// An access token good for the refresh margin, refreshing first if needed.
    fn access_token(&self, py: Python<'_>) -> PyResult<String> {
        self.run(py, |client| async move { client.access_token().await })
    }

    /// `POST /auth/logout` for this session; the store is emptied whatever happens.
    fn logout(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, |client| async move { client.logout().await })
    }

    /// `GET /me` (JSON), refreshing ahead of expiry and once after a 401.
    fn me(&self, py: Python<'_>) -> PyResult<String> {
        let me = self.run(py, |client| async move { client.me().await })?;
        to_json(&me)
    }

    /// "Now" by the server's clock as the client knows it (Unix seconds).
    fn server_now(&self) -> i64 {
        self.client.server_now()
    }
}

/// authgate-client's `RouteGuard`: which route to render for the store's session.
#[pyclass(frozen, module = "authgate._authgate", name = "RouteGuardCore")]
#[derive(Debug)]
pub(crate) struct PyRouteGuard {
    /// The Rust guard (it reads the store at each call).
    guard: RouteGuard,
}

#[pymethods]
impl PyRouteGuard {
    /// Sends visitors of `store` to `redirect_to`, except on `public` routes
    /// (a trailing `/*` covers a subtree); with `role`, users without it too.
    #[new]
    #[pyo3(signature = (store, redirect_to, *, public=Vec::new(), role=None))]
    fn new(
        store: &PyAuthStore,
        redirect_to: String,
        public: Vec<String>,
        role: Option<String>,
    ) -> Self {
        let mut guard = route_guard(&store.store, redirect_to).public_routes(public);
        if let Some(role) = role {
            guard = guard.require_role(role);
        }
        Self { guard }
    }

    /// The route to render when `requested` is asked for.
    fn resolve(&self, requested: &str) -> String {
        self.guard.resolve(requested).to_owned()
    }

    /// Whether `requested` may be rendered as it is.
    fn allows(&self, requested: &str) -> bool {
        self.guard.allows(requested)
    }
}
