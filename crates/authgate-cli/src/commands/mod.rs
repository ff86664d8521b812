//! One module per command group of the `authgate` binary.

pub(crate) mod config;
pub(crate) mod keys;
pub(crate) mod serve;
pub(crate) mod token;
pub(crate) mod user;
