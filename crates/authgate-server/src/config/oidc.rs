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
}
