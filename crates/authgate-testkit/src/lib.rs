//! authgate-testkit: what authgate's integration tests share.
//!
//! [`spawn_app`] starts the real server (the [`Application`] that
//! `authgate serve` runs) on a free port of 127.0.0.1, with its own
//! temporary data directory, cheap argon2 parameters and a [`ManualClock`].
//! The [`TestApp`] it returns sends requests through typed helpers, moves
//! time instead of sleeping ([`TestApp::advance`]) and restarts the server
//! on the same data ([`TestApp::restart`]).
//!
//! Modules: `app` (spawning, restarting, [`TestUser`]), `requests` (one
//! helper per endpoint of docs/http-api.md), `check` (assertions on docs/http-api.md's error
//! shape and headers).
//!
//! This is test code: a helper that cannot do its job panics, which fails
//! the test that called it with the reason.
//!
//! [`Application`]: authgate_server::Application
//! [`ManualClock`]: authgate_core::ManualClock

// A harness that cannot start a server or parse a response has nothing
// better to do than fail the test loudly.
#![allow(clippy::expect_used, clippy::panic)]

mod admin;
mod app;
mod check;
mod client;
mod cluster;
mod requests;
mod smtp;

pub use admin::TestClient;
pub use app::{PASSWORD, TestApp, TestUser, USER_AGENT, spawn_app, spawn_app_with};
pub use check::{
    BARE_CHALLENGE, ErrorResponse, INVALID_TOKEN_CHALLENGE, assert_error, assert_invalid_token,
    assert_no_store, expect_json,
};
pub use cluster::Cluster;
/// The HTTP client the helpers use, re-exported so tests name the same
/// `Response`, `StatusCode` and `header` types without their own dependency.
pub use reqwest;
pub use smtp::{ReceivedMail, SmtpSink};
