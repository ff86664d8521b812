//! authgate-server's integration tests, compiled as one binary.
//!
//! Every test starts the real server on a socket through authgate-testkit,
//! with its own database and a manual clock (no test sleeps), and checks
//! what docs/http-api.md promises: status, `error` code, the headers it requires.
//!
//! - `flow`: register → login → /me → refresh → logout, and logout's scopes.
//! - `errors`: the error rows of docs/http-api.md these endpoints can produce.
//! - `input`: control, format and bidi characters, look-alike emails,
//!   duplicate JSON keys: refused by name, nothing stored.
//! - `input_prop`: arbitrary text in every field: never a 5xx (property test).
//! - `refresh`: rotation, the reuse grace window, theft detection, racing refreshes.
//! - `tokens`: forged, expired and misdirected access tokens; audiences.
//! - `sessions`: listing and revoking one's own sessions.
//! - `passwords`: the password policy and the argon2 parameter upgrade.
//! - `accounts`: disabled accounts.
//! - `restart`: what survives a restart of the server.
//! - `keys`: the signing-key lifecycle, JWKS and discovery, racing instances.
//! - `admin`: the administration routes and their permission boundaries.
//! - `admin_rules`: the same boundaries as the core service enforces them.
//! - `password_change`: `POST /auth/password/change`.
//! - `audit`: the audit trail and its sinks.
//! - `limits`: brute-force protection (account delay, per-address limit, proxies).
//! - `oauth`: client credentials, introspection and revocation.
//! - `client_state`: disabling and enabling a service client.
//! - `oidc`: OpenID Connect: relying parties, authorization, consent, code
//!   exchange with PKCE, ID tokens, userinfo, and their refusals.
//! - `oidc_loopback`: a native app's loopback post-logout URI (any port).
//! - `pages`: the hosted pages, their guard, forms, cookies and browser sessions.
//! - `recovery`: password reset by email through a real SMTP sink, the
//!   outbox folder, no enumeration, no secret in the log or audit trail.
//! - `openapi`: `GET /openapi.json` against the router and docs/http-api.md.
//! - `postgres`: the flow on PostgreSQL, and the database going away and
//!   coming back (needs `AUTHGATE_TEST_POSTGRES_URL`; ignored without).
//! - `transport`: slowloris, the connection cap, the head, body and idle
//!   timeouts, oversized and malformed requests, h2c, /healthz under load.
//! - `headers`: the security headers of every answer; the request-id rule.
//! - `tls`: TLS terminated by authgate: versions, ALPN, HSTS, reloading the
//!   certificate, refusing bad files, the handshake timeout.
//! - `cluster`: two instances sharing PostgreSQL and Redis (needs both
//!   `AUTHGATE_TEST_POSTGRES_URL` and `AUTHGATE_TEST_REDIS_URL`; ignored without).
//!
//! The Prometheus scrape is tested in a binary of its own (`tests/metrics.rs`):
//! the recorder is one per process, and only there are its counts the test's own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod admin;
mod admin_rules;
mod audit;
mod client_state;
mod cluster;
mod errors;
mod flow;
mod headers;
mod input;
mod input_prop;
mod keys;
mod limits;
mod mfa;
mod oauth;
mod oidc;
mod oidc_loopback;
mod openapi;
mod pages;
mod password_change;
mod passwords;
mod postgres;
mod recovery;
mod refresh;
mod restart;
mod sessions;
mod tls;
mod tokens;
mod transport;
mod verification;
