//! authgate-client: the client side of authgate, for Rust programs.
//!
//! - [`AuthStore`] holds the session's tokens and user, is shared between
//!   threads, and tells subscribers about every change.
//! - [`route_guard`] maps a requested route to the one to render.
//! - [`Client`] talks to the user endpoints of docs/http-api.md through a
//!   [`Transport`] ([`ReqwestTransport`] on a real network), refreshing the
//!   access token ahead of expiry and after a 401, with concurrent
//!   refreshes merged into one request.
//! - [`CredentialsFile`] keeps a session between runs of a command-line
//!   program: one 0600 file per server, written atomically.
//! - [`AuditLog`] keeps the latest login, logout, refresh and failure
//!   records; each is also a `tracing` event (target `authgate_client::audit`).
//! - [`decode_unverified`], [`is_expired`] and [`expires_in`] (from
//!   authgate-jwt) read a token for display and scheduling, never for trust.
//!
//! Time comes from a [`Clock`], so tests move it. The core types (store,
//! guard, refresh, client) use no runtime-specific API: only the
//! [`ReqwestTransport`] and the credentials file touch the outside world.
//!
//! Modules: `store`, `guard`, `client` (builder, request plumbing), `api`
//! (one method per endpoint), `refresh` (single flight, its
//! `flight` slot), `transport` (the
//! trait), `http` (reqwest), `credentials`, `audit`, `error`. The [`Clock`] is authgate-proto's,
//! re-exported.

mod api;
mod audit;
mod client;
#[cfg(test)]
mod client_tests;
mod credentials;
mod error;
#[cfg(test)]
mod fake;
mod flight;
mod guard;
mod http;
mod refresh;
mod skew;
mod store;
mod transport;

pub use audit::{AuditKind, AuditLog, AuditRecord, DEFAULT_AUDIT_CAPACITY};
pub use authgate_jwt::{Unverified, decode_unverified, expires_in, is_expired};
pub use authgate_proto::clock::{Clock, ManualClock, SystemClock};
pub use client::{Client, ClientBuilder, DEFAULT_REFRESH_MARGIN};
pub use credentials::{Credentials, CredentialsFile};
pub use error::Error;
pub use guard::{RouteGuard, route_guard};
pub use http::{ReqwestTransport, server_url};
pub use refresh::REFRESH_TIMEOUT;
pub use store::{AuthChange, AuthStore, Subscription, Tokens};
pub use transport::{HttpRequest, HttpResponse, MAX_RESPONSE_BYTES, Method, Transport};
