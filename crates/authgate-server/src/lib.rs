//! authgate-server: the HTTP face of authgate.
//!
//! [`Application::build`] turns [`Settings`] into a bound server (stores,
//! master key, keyring, verifier, router); [`router()`] is the router
//! alone, for tests without a socket. Handlers are thin: they parse at the
//! edge ([`extract`]), call authgate-core, and map errors in one place
//! ([`error::ApiError`]). [`openapi::ApiDoc`] is the OpenAPI 3.1 document of
//! every route, generated from the handlers and served at `GET /openapi.json`.
//!
//! Where things live: `config/` reads the settings; `startup/` turns them
//! into the application state (`store.rs` chooses the database,
//! `settings.rs` makes the domain objects, `error.rs` is [`BuildError`]);
//! `master_key.rs` finds the master key and `fs.rs` keeps files private;
//! `origin.rs` reads the caller's address and user agent;
//! `scaleout.rs` is the optional Redis; `serve.rs` runs the server and
//! `upkeep.rs` its background loop (the work itself is authgate-core's
//! `Maintenance`); `router.rs` assembles `routes/`, one file per group.

pub mod authz;
pub mod config;
pub mod error;
pub mod extract;
mod fs;
mod key_reload;
mod layers;
mod mail;
pub mod master_key;
mod metrics;
pub mod openapi;
mod origin;
pub mod pages;
mod qr;
mod router;
mod routes;
mod scaleout;
mod serve;
mod startup;
mod state;
mod transport;
mod upkeep;

pub use config::Settings;
pub use fs::FsError;
pub use mail::MailConfigError;
pub use router::router;
pub use scaleout::ScaleoutError;
pub use serve::Application;
pub use startup::error::BuildError;
pub use startup::settings::{auth_settings, password_hasher};
pub use startup::store::open_store;
pub use startup::{StartupReport, build_service};
pub use state::{AppState, SharedState};
pub use transport::tls::{TlsError, TlsReloader};
