//! One module per command group of the `authgate` binary.

pub(crate) mod audit;
pub(crate) mod client;
pub(crate) mod config;
pub(crate) mod keys;
pub(crate) mod oidc_client;
pub(crate) mod serve;
pub(crate) mod session;
pub(crate) mod token;
pub(crate) mod user;
