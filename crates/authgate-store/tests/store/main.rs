//! Evidence that the storage backends keep the promises of authgate-core's
//! traits.
//!
//! The checks are backend-generic functions over `&dyn UserStore`,
//! `&dyn SessionStore`, `&dyn KeyStore` and `&dyn Ping` (modules `users`,
//! `sessions`, `keys`); each backend module (`sqlite`, later `postgres`)
//! runs every one of them against a fresh database of its own, plus the
//! checks only that backend needs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fixtures;
mod keys;
mod sessions;
mod sqlite;
mod users;
