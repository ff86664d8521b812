//! OpenID Connect: relying parties (`/admin/oidc-clients*`), ID-token
//! claims and the userinfo answer.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::redact::REDACTED;

/// Body of `POST /admin/oidc-clients`: a new relying party.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateOidcClientRequest {
    /// Shown to users on the consent page.
    pub name: String,
    /// The exact redirect URIs (at least one): `https`, or `http` on
    /// `127.0.0.1` / `[::1]` (any port matches, RFC 8252).
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser. Defaults to none.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Scopes the client may ask for, among `openid profile email
    /// offline_access`;
    /// `openid` is always included. Defaults to `openid`.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// A public client (a single-page or native app) gets no secret and
    /// proves itself by PKCE alone. Defaults to `false` (confidential).
    #[serde(default)]
    pub public: bool,
    /// A first-party client's users are not asked for consent. Defaults to `false`.
    #[serde(default)]
    pub first_party: bool,
}

/// A relying party as `GET /admin/oidc-clients` shows it (never its secret).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcClientInfo {
    /// The `client_id`.
    pub client_id: String,
    /// Its name.
    pub name: String,
    /// `true` for a public client (no secret).
    pub public: bool,
    /// The exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// The post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// The scopes it may ask for.
    pub scopes: Vec<String>,
    /// Whether its users skip the consent page.
    pub first_party: bool,
    /// When it was registered.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Response of `GET /admin/oidc-clients`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcClientsResponse {
    /// Every relying party, oldest first.
    pub clients: Vec<OidcClientInfo>,
}

/// Response of `POST /admin/oidc-clients` (201): the client and, for a
/// confidential one, its secret, shown only this once; `Debug` hides it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateOidcClientResponse {
    /// The registered client.
    #[serde(flatten)]
    pub client: OidcClientInfo,
    /// The secret (HTTP Basic or `client_secret`); absent for a public client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl fmt::Debug for CreateOidcClientResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateOidcClientResponse")
            .field("client", &self.client)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| REDACTED),
            )
            .finish()
    }
}

/// The claims of an ID token (OIDC Core §2, §5.1). Which profile and email
/// claims appear depends on the granted scopes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    /// The issuer.
    pub iss: String,
    /// The user's id.
    pub sub: String,
    /// The client's id.
    pub aud: String,
    /// Expiry (Unix seconds).
    pub exp: i64,
    /// Issue time (Unix seconds).
    pub iat: i64,
    /// When the user authenticated (Unix seconds).
    pub auth_time: i64,
    /// The `nonce` of the authorization request, if it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The authorized party: the client's id.
    pub azp: String,
    /// Left half of the SHA-256 of the access token, base64url (OIDC Core §3.1.3.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// The browser session that signed in (for RP-initiated logout).
    pub sid: String,
    /// The user's profile claims and email, by scope.
    #[serde(flatten)]
    pub profile: UserInfo,
}

/// What `GET /oauth/userinfo` answers (OIDC Core §5.3), and the profile part
/// of an ID token: `sub` always, the rest by scope.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// The user's id (absent inside an ID token, which has its own `sub`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// `profile`: the user's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `profile`: the username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// `email`: the email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `email`: whether the address was verified; `false` until authgate
    /// verifies addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_request_defaults_to_a_confidential_third_party_client_with_openid() {
        let request: CreateOidcClientRequest = serde_json::from_value(
            json!({"name": "Wiki", "redirect_uris": ["https://wiki.example/cb"]}),
        )
        .unwrap();
        assert!(!request.public && !request.first_party);
        assert!(request.scopes.is_empty() && request.post_logout_redirect_uris.is_empty());
    }

    #[test]
    fn the_created_response_is_flat_and_its_debug_hides_the_secret() {
        let response = CreateOidcClientResponse {
            client: OidcClientInfo {
                client_id: "oidc_1".into(),
                name: "Wiki".into(),
                public: false,
                redirect_uris: vec!["https://wiki.example/cb".into()],
                post_logout_redirect_uris: vec![],
                scopes: vec!["openid".into()],
                first_party: false,
                created_at: OffsetDateTime::UNIX_EPOCH,
            },
            client_secret: Some("s3cr3t-s3cr3t".into()),
        };
        assert!(!format!("{response:?}").contains("s3cr3t-s3cr3t"));
        let value = serde_json::to_value(&response).unwrap();
        assert_eq!(value["client_id"], "oidc_1");
        assert_eq!(value["client_secret"], "s3cr3t-s3cr3t");
    }
}
