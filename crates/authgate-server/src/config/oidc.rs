//! `[oidc]`: the OpenID Connect provider (docs/architecture.md "OpenID Connect").

use serde::{Deserialize, Serialize};

/// `[oidc]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OidcSettings {
    /// Whether authgate is an OpenID Connect provider: keeps an RS256
    /// ID-token key lane in the keyring (published in the JWKS). Off, no
    /// RSA key is generated or published. Defaults to `false`.
    pub enabled: bool,
    /// Whether RP-initiated logout (`GET /oauth/logout`) also ends the
    /// sessions the client got through the browser session it ends (its
    /// access and refresh tokens), not only the browser session. Defaults
    /// to `false`: a relying party keeps its tokens (`offline_access` is
    /// meant to outlive the browser login) unless the operator says so.
    pub logout_ends_client_sessions: bool,
}
