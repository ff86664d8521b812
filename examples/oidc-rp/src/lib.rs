//! oidc-rp: a tiny web application that signs its users in with authgate
//! ("Sign in with authgate") and shows the claims of their ID token.
//!
//! It is the relying party of OpenID Connect Core's authorization code flow
//! as RFC 9700 wants it: PKCE with `S256`, a `state` bound to the browser by
//! a cookie, a `nonce` checked in the ID token, the `iss` of the response
//! checked (RFC 9207), and the ID token verified against authgate's published
//! JWKS with `authgate-jwt`. Sign-out is RP-initiated logout.
//!
//! Modules: `provider` (discovery, the code exchange, ID-token
//! verification), `pkce` (random values and the S256 challenge), `routes`
//! (the four pages: home, login, callback, logout), `page` (HTML, escaped).

mod page;
mod pkce;
mod provider;
mod routes;

pub use provider::{Provider, RelyingParty, TokenResponse};
pub use routes::{AppState, app};
