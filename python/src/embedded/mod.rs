//! `authgate._authgate.AuthCore`: authgate-core running in the Python
//! process (embedded auth), built by authgate-server's own start-up
//! (`Settings::load`, `build_service`) so the stores, migrations, master-key
//! file, keyring, argon2id pool, refresh rotation, revocation and audit are
//! the server's, and a data directory or database written here can be
//! served by `authgate serve` and the other way round.
//! `authgate.embedded.Auth` wraps it with models and async twins.
//!
//! Every call runs on the extension's runtime with the GIL released; a
//! background task does the server's upkeep (key schedule, purges).

mod support;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use authgate_core::{
    AuthError, Clock, LoginAttempt, LoginOutcome, LogoutScope, Password, Registration, SystemClock,
};
use authgate_guard::{GuardError, Policy};
use authgate_proto as proto;
use authgate_server::{AppState, Settings, build_service};
use pyo3::prelude::*;
use tokio::task::JoinHandle;

use self::support::{origin, seconds, session_caller, spawn_upkeep, to_json, verify};
use crate::clock::PyClock;
use crate::errors::{auth_error, config_error, guard_error, user_not_found};
use crate::guard::public_routes;
use crate::runtime::runtime;

/// An authgate service in this process.
#[pyclass(frozen, module = "authgate._authgate", name = "AuthCore")]
pub(crate) struct PyAuth {
    /// What `authgate serve` would hold: the service, verifier, keys, clock.
    state: AppState,
    /// The background upkeep; aborted by `close` (or when dropped).
    upkeep: Mutex<Option<JoinHandle<()>>>,
    /// `(database, signing kid, algorithm, master key source)`, for the caller.
    report: (String, String, String, String),
}

impl std::fmt::Debug for PyAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthCore")
            .field("database", &self.report.0)
            .finish_non_exhaustive()
    }
}

impl Drop for PyAuth {
    fn drop(&mut self) {
        if let Some(task) = self
            .upkeep
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
    }
}

impl PyAuth {
    /// Runs `call` on the runtime without the GIL; maps core errors.
    fn run<T, F, Fut>(&self, py: Python<'_>, call: F) -> PyResult<T>
    where
        T: Send,
        F: FnOnce(AppState) -> Fut + Send,
        Fut: Future<Output = PyResult<T>>,
    {
        let state = self.state.clone();
        py.detach(|| runtime().and_then(|rt| rt.block_on(call(state))))
    }
}

#[pymethods]
impl PyAuth {
    /// Loads the settings as `authgate serve` does (defaults, the TOML file
    /// `config`, then `env`: `AUTHGATE_SECTION__KEY` pairs, passed in, never
    /// read from the process) and builds the service on them.
    #[new]
    #[pyo3(signature = (env, *, config=None, clock=None))]
    fn new(
        py: Python<'_>,
        env: Vec<(String, String)>,
        config: Option<PathBuf>,
        clock: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let settings = Settings::load(config.as_deref(), env).map_err(|e| config_error(&e))?;
        let clock: Arc<dyn Clock> = match clock {
            Some(clock) => Arc::new(PyClock::new(clock)),
            None => Arc::new(SystemClock),
        };
        let runtime = runtime()?;
        let (state, report, upkeep) = py.detach(|| {
            runtime.block_on(async {
                let (state, report) = build_service(&settings, clock)
                    .await
                    .map_err(|e| config_error(&e))?;
                let upkeep = spawn_upkeep(state.clone());
                Ok::<_, PyErr>((state, report, upkeep))
            })
        })?;
        let source = match &report.master_key {
            authgate_server::master_key::MasterKeySource::Environment => "settings".to_owned(),
            authgate_server::master_key::MasterKeySource::File(path) => {
                format!("file {}", path.display())
            }
            authgate_server::master_key::MasterKeySource::Generated(path) => {
                format!("generated {}", path.display())
            }
        };
        Ok(Self {
            state,
            upkeep: Mutex::new(Some(upkeep)),
            report: (
                report.database,
                report.signing_kid,
                report.algorithm,
                source,
            ),
        })
    }

    /// `(database, signing kid, algorithm, master key source)`.
    fn report(&self) -> (String, String, String, String) {
        self.report.clone()
    }

    /// The issuer of the tokens (`tokens.issuer`).
    fn issuer(&self) -> String {
        self.state.auth.settings().issuer.clone()
    }

    /// The `aud` of tokens issued without an audience name (`tokens.audiences.default`).
    fn audience(&self) -> String {
        let settings = self.state.auth.settings();
        settings
            .audiences
            .get("default")
            .cloned()
            .unwrap_or_else(|| settings.issuer.clone())
    }

    /// The public keys in force as a JWKS (JSON), as `GET /.well-known/jwks.json`
    /// serves them: the signing key, the next one, and retired ones still verifying.
    fn jwks(&self) -> PyResult<String> {
        to_json(&self.state.keys.ring().jwks())
    }

    /// Registers a user (the configured default roles); the user as JSON.
    #[pyo3(signature = (email, password, *, username=None, name=None, ip=None, user_agent=None))]
    #[allow(clippy::too_many_arguments)]
    fn register_user(
        &self,
        py: Python<'_>,
        email: String,
        password: String,
        username: Option<String>,
        name: Option<String>,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> PyResult<String> {
        let origin = origin(ip, user_agent)?;
        let password = Password::new(password).map_err(auth_error)?;
        let user = self.run(py, |state| async move {
            let registration = Registration {
                email,
                password,
                username,
                name,
            };
            state
                .auth
                .register(registration, &origin)
                .await
                .map_err(auth_error)
        })?;
        to_json(&user.to_public())
    }

    /// Logs in with an email or username; `LoginResponse` as JSON.
    #[pyo3(signature = (identifier, password, *, audience=None, ip=None, user_agent=None))]
    fn login_user(
        &self,
        py: Python<'_>,
        identifier: String,
        password: String,
        audience: Option<String>,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> PyResult<String> {
        let origin = origin(ip, user_agent)?;
        let password = Password::new(password).map_err(auth_error)?;
        let outcome = self.run(py, |state| async move {
            let attempt = LoginAttempt {
                identifier,
                password,
                audience,
            };
            state.auth.login(attempt, &origin).await.map_err(auth_error)
        })?;
        let (tokens, user) = match outcome {
            LoginOutcome::LoggedIn(tokens, user) => (tokens, user),
            LoginOutcome::MfaRequired(_) => return Err(crate::errors::mfa_required()),
        };
        to_json(&proto::LoginResponse {
            access_token: tokens.access_token,
            token_type: proto::TokenType::Bearer,
            expires_in: seconds(tokens.expires_in),
            refresh_token: tokens.refresh_token.to_string(),
            refresh_expires_in: seconds(tokens.refresh_expires_in),
            user: user.to_public(),
        })
    }

    /// Trades a refresh token for new tokens (rotation; a rotated token
    /// presented again past the grace revokes the session); JSON.
    #[pyo3(signature = (refresh_token, *, ip=None, user_agent=None))]
    fn refresh(
        &self,
        py: Python<'_>,
        refresh_token: String,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> PyResult<String> {
        let origin = origin(ip, user_agent)?;
        let tokens = self.run(py, |state| async move {
            state
                .auth
                .refresh(&refresh_token, &origin)
                .await
                .map_err(auth_error)
        })?;
        to_json(&proto::RefreshResponse {
            access_token: tokens.access_token,
            token_type: proto::TokenType::Bearer,
            expires_in: seconds(tokens.expires_in),
            refresh_token: tokens.refresh_token.to_string(),
            refresh_expires_in: seconds(tokens.refresh_expires_in),
        })
    }

    /// Ends the access token's session (or, with `all`, every session of its user).
    #[pyo3(signature = (access_token, *, refresh_token=None, all=false, ip=None, user_agent=None))]
    #[allow(clippy::too_many_arguments)]
    fn logout_user(
        &self,
        py: Python<'_>,
        access_token: String,
        refresh_token: Option<String>,
        all: bool,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> PyResult<()> {
        let origin = origin(ip, user_agent)?;
        self.run(py, |state| async move {
            let (_, caller) = session_caller(&state, &access_token).await?;
            let scope = if all {
                LogoutScope::All
            } else {
                LogoutScope::Current { refresh_token }
            };
            state
                .auth
                .logout(&caller, scope, &origin)
                .await
                .map_err(auth_error)
        })
    }

    /// The user and session of an access token (`GET /me`), as JSON.
    fn get_logged_in_user(&self, py: Python<'_>, access_token: String) -> PyResult<String> {
        let me = self.run(py, |state| async move {
            let (_, caller) = session_caller(&state, &access_token).await?;
            state.auth.me(&caller).await.map_err(|e| match e {
                AuthError::NotFound => user_not_found(),
                other => auth_error(other),
            })
        })?;
        let (user, session) = me;
        to_json(&proto::MeResponse {
            user: user.to_public(),
            session: proto::CurrentSession {
                id: session.id,
                created_at: session.created_at,
                expires_at: session.expires_at,
            },
        })
    }

    /// RFC 7662 introspection of an access or refresh token (JSON); never
    /// raises for a bad token: `{"active": false}`.
    fn introspect_token(&self, py: Python<'_>, token: String) -> PyResult<String> {
        let answer = self.run(py, |state| async move {
            // As the server's `POST /oauth/introspect`: three dot-separated
            // parts are a JWT, which must pass the verifier; anything else
            // is looked up as a refresh token.
            if token.bytes().filter(|b| *b == b'.').count() != 2 {
                return Ok(state.auth.introspect_refresh_token(&token).await);
            }
            Ok(match verify(&state, &token).await {
                Ok(principal) => {
                    state
                        .auth
                        .introspect_access_token(principal.claims(), state.clock.unix())
                        .await
                }
                Err(_) => proto::IntrospectionResponse::inactive(),
            })
        })?;
        to_json(&answer)
    }

    /// `None` for a public route, else the claims (JSON) of the
    /// `Authorization` header's token: verified, its session not revoked.
    #[pyo3(signature = (method, path, authorization, public=Vec::new()))]
    fn authenticate_request(
        &self,
        py: Python<'_>,
        method: &str,
        path: &str,
        authorization: Option<String>,
        public: Vec<(String, String)>,
    ) -> PyResult<Option<String>> {
        let routes = public_routes(public);
        if routes.should_skip_authentication(method, path) {
            return Ok(None);
        }
        let principal = self.run(py, |state| async move {
            let header =
                authorization.ok_or_else(|| guard_error(GuardError::MissingCredentials))?;
            let token = authgate_guard::parse_bearer(&header).map_err(guard_error)?;
            Ok(session_caller(&state, token).await?.0)
        })?;
        to_json(principal.claims()).map(Some)
    }

    /// Rotates the signing keys now (the next key takes over, the old one
    /// keeps verifying), as `POST /admin/keys/rotate` does.
    fn rotate_keys(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, |state| async move {
            state.rotate_keys().await.map_err(auth_error)
        })
    }

    /// Stops the background upkeep; the stores close when the last reference goes.
    fn close(&self) {
        if let Some(task) = self
            .upkeep
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
    }
}
