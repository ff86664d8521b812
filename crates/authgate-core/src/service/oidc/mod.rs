//! The OpenID Connect provider's flows (docs/architecture.md "OpenID
//! Connect"), one file per job: registering clients, checking an
//! authorization request, deciding its next step, exchanging the code,
//! answering userinfo.

mod authorize;
mod clients;
mod exchange;
mod logout;
mod request;
mod userinfo;

pub use authorize::{Checked, Step};
pub use clients::{NewOidcClient, OidcClientSpec};
pub use exchange::OidcTokens;
pub use logout::LogoutHint;
pub use request::{Authorization, AuthorizeParams, Prompt, Refusal, Untrusted};
