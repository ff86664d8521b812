//! The routes of docs/http-api.md, one file per group; the router module assembles
//! them. The groups are visible to the crate so the OpenAPI document can
//! list their handlers' `#[utoipa::path]` descriptions.

pub(crate) mod admin;
pub(crate) mod admin_clients;
pub(crate) mod auth;
pub(crate) mod discovery;
pub(crate) mod health;
pub(crate) mod me;
pub(crate) mod mfa;
pub(crate) mod oauth;
pub(crate) mod oidc;
pub(crate) mod oidc_clients;
pub(crate) mod recovery;
mod reply;
pub(crate) mod scope;
mod session_cursor;
pub(crate) mod sessions;
pub(crate) mod verification;
