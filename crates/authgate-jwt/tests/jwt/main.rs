//! Evidence that authgate-jwt does what it claims: published RFC vectors,
//! interoperability with the `jsonwebtoken` crate, properties under mutation
//! and arbitrary input, one test per rejection reason, and key handling.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod claims;
mod formats;
mod headers;
mod interop;
mod keys;
mod malformed;
mod properties;
mod rejections;
mod support;
mod typed;
mod vectors;
