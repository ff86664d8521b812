//! `GET /.well-known/openid-configuration`: where a client finds the
//! endpoints and keys. (The JWKS document belongs to `authgate-jwt`.)

use serde::{Deserialize, Serialize};

/// The server metadata document (RFC 8414 / OpenID Connect Discovery),
/// limited to the fields docs/http-api.md names.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenIdConfiguration {
    /// The `iss` of every token this server issues.
    pub issuer: String,
    /// The URL of the JWKS document with the verification keys.
    pub jwks_uri: String,
    /// The URL of `POST /oauth/token`.
    pub token_endpoint: String,
    /// The URL of `POST /oauth/introspect`.
    pub introspection_endpoint: String,
    /// The URL of `POST /oauth/revoke`.
    pub revocation_endpoint: String,
    /// The JWS algorithms tokens may be signed with, e.g. `["EdDSA"]`.
    pub token_signing_alg_values_supported: Vec<String>,
    /// The grant types `/oauth/token` accepts.
    pub grant_types_supported: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn openid_configuration_round_trips() {
        let text = json!({
            "issuer": "https://auth.example.com",
            "jwks_uri": "https://auth.example.com/.well-known/jwks.json",
            "token_endpoint": "https://auth.example.com/oauth/token",
            "introspection_endpoint": "https://auth.example.com/oauth/introspect",
            "revocation_endpoint": "https://auth.example.com/oauth/revoke",
            "token_signing_alg_values_supported": ["EdDSA"],
            "grant_types_supported": ["client_credentials", "refresh_token"]
        });
        let config: OpenIdConfiguration = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(config.issuer, "https://auth.example.com");
        assert_eq!(serde_json::to_value(&config).unwrap(), text);
    }
}
