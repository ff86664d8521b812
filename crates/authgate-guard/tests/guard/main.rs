//! authgate-guard without an authgate server: the extractors and the layer
//! over axum and plain tower, the framework-agnostic entry point, the
//! builder's refusals, introspection and the revocation check against a
//! small RFC 7662 endpoint, and the JWKS fetcher against documents a real
//! authgate never serves (broken, oversized), fetches that fail while a
//! token waits, and redirects. The tests against a real
//! authgate server started in-process live in `examples/resource-server/tests`
//! (authgate-server depends on this crate, so they cannot live here).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod authenticate_request;
mod builder;
mod extractors;
mod introspection;
mod jwks_documents;
mod jwks_fetches;
mod layer;
mod support;
