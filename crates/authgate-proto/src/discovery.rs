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
    /// The OpenID Connect provider's metadata (OIDC Discovery §3), present
    /// when `[oidc]` is enabled.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcProviderMetadata>,
}

/// What a relying party needs beyond the OAuth metadata (OpenID Connect
/// Discovery 1.0 §3, RFC 9207).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcProviderMetadata {
    /// The URL of `GET /oauth/authorize`.
    pub authorization_endpoint: String,
    /// The URL of `GET|POST /oauth/userinfo`.
    pub userinfo_endpoint: String,
    /// The URL of `GET /oauth/logout` (RP-initiated logout).
    pub end_session_endpoint: String,
    /// The scopes relying parties may ask for.
    pub scopes_supported: Vec<String>,
    /// `["code"]`.
    pub response_types_supported: Vec<String>,
    /// `["query"]`.
    pub response_modes_supported: Vec<String>,
    /// `["public"]`: `sub` is the user's id for every client.
    pub subject_types_supported: Vec<String>,
    /// `["RS256"]`.
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// `["S256"]`: PKCE is required, `plain` refused.
    pub code_challenge_methods_supported: Vec<String>,
    /// `client_secret_basic`, `client_secret_post` and `none` (public clients).
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// The claims ID tokens and userinfo may carry.
    pub claims_supported: Vec<String>,
    /// `true`: authorization responses carry `iss` (RFC 9207).
    pub authorization_response_iss_parameter_supported: bool,
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
        assert_eq!(config.oidc, None, "without [oidc], no provider metadata");
        assert_eq!(serde_json::to_value(&config).unwrap(), text);
    }
}
