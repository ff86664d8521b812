//! The `authgate` binary as people run it: one test binary, a module per
//! command group, and [`support`] holding the one way of running the binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod audit;
mod client;
mod keys;
mod oidc_client;
mod serve;
mod session;
mod support;
mod tls;
mod token_decode;
