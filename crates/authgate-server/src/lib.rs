//! authgate-server: the HTTP face of authgate.
//!
//! [`Application::build`] turns [`Settings`] into a bound server (stores,
//! master key, keyring, verifier, router); [`routes::router`] is the router
//! alone, for tests without a socket. Handlers are thin: they parse at the
//! edge ([`extract`]), call authgate-core, and map errors in one place
//! ([`error::ApiError`]). [`openapi::ApiDoc`] is the OpenAPI 3.1 document of
//! every route, generated from the handlers and served at `GET /openapi.json`.

mod app;
pub mod authz;
mod client;
pub mod config;
pub mod error;
pub mod extract;
mod layers;
pub mod master_key;
mod metrics;
pub mod openapi;
pub mod routes;
mod scaleout;
mod serve;
mod state;

pub use app::{
    Application, BuildError, StartupReport, auth_settings, build_service, open_store,
    password_hasher,
};
pub use config::Settings;
pub use state::{AppState, SharedState};
