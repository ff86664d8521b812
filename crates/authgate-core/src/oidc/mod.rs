//! The OpenID Connect provider's domain (docs/architecture.md "OpenID
//! Connect"): relying parties, their redirect URIs and scopes, and the
//! storage they need. The flows are in `service::oidc`.

pub mod client;
pub mod code;
pub mod redirect;
pub mod store;

pub use crate::service::{
    Authorization, AuthorizeParams, Checked, LogoutHint, NewOidcClient, OidcClientSpec, OidcTokens,
    Prompt, Refusal, Step, Untrusted,
};
