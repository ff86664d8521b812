//! The OAuth 2.0 endpoints: `/oauth/token` (RFC 6749), `/oauth/introspect`
//! (RFC 7662) and `/oauth/revoke` (RFC 7009).
//!
//! Their requests arrive as `application/x-www-form-urlencoded` (or JSON);
//! the types only use strings and options so both decode the same way.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::claims::Audience;
use crate::redact::{REDACTED, redact_opt};
use crate::token_type::TokenType;

/// The `grant_type` of a token request.
///
/// An unsupported value is kept as [`GrantType::Other`] rather than
/// rejected while parsing, so the server can answer
/// `unsupported_grant_type` (RFC 6749 §5.2) instead of `invalid_request`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GrantType {
    /// `client_credentials`: a service client asks for a token for itself.
    ClientCredentials,
    /// `refresh_token`: trade a refresh token for new tokens.
    RefreshToken,
    /// `authorization_code`: a relying party trades an OpenID Connect code.
    AuthorizationCode,
    /// Any other value, as sent.
    Other(String),
}

impl GrantType {
    /// The value as written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::ClientCredentials => "client_credentials",
            Self::RefreshToken => "refresh_token",
            Self::AuthorizationCode => "authorization_code",
            Self::Other(other) => other,
        }
    }
}

impl Serialize for GrantType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for GrantType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Ok(match value.as_str() {
            "client_credentials" => Self::ClientCredentials,
            "refresh_token" => Self::RefreshToken,
            "authorization_code" => Self::AuthorizationCode,
            _ => Self::Other(value),
        })
    }
}

/// Body of `POST /oauth/token`. `Debug` hides the secret and the token.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRequest {
    /// Which grant is requested.
    pub grant_type: GrantType,
    /// The client id, when the client authenticates with form fields
    /// instead of HTTP Basic (RFC 6749 §2.3.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The client secret, with `client_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// `client_credentials` only: the short audience name; defaults to
    /// `"default"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// The requested scope, space-separated (RFC 6749 §3.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `refresh_token` only: the refresh token to trade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// `authorization_code` only: the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `authorization_code` only: the redirect URI of the authorization request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// `authorization_code` only: the PKCE verifier (RFC 7636).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_verifier: Option<String>,
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("grant_type", &self.grant_type)
            .field("client_id", &self.client_id)
            .field("client_secret", &redact_opt(self.client_secret.as_deref()))
            .field("audience", &self.audience)
            .field("scope", &self.scope)
            .field("refresh_token", &redact_opt(self.refresh_token.as_deref()))
            .field("code", &redact_opt(self.code.as_deref()))
            .field("redirect_uri", &self.redirect_uri)
            .field("code_verifier", &redact_opt(self.code_verifier.as_deref()))
            .finish()
    }
}

/// Response of `POST /oauth/token` (RFC 6749 §5.1). `Debug` hides the
/// tokens.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthTokenResponse {
    /// The signed access token.
    pub access_token: String,
    /// Always `"Bearer"`.
    pub token_type: TokenType,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The successor refresh token (`refresh_token` grant only); left out
    /// when absent, as for `client_credentials`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Seconds until `refresh_token` expires; left out with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_expires_in: Option<u64>,
    /// The granted scope, when it differs from the requested one
    /// (RFC 6749 §5.1); left out otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The ID token (`authorization_code` grant only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl fmt::Debug for OAuthTokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthTokenResponse")
            .field("access_token", &REDACTED)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &redact_opt(self.refresh_token.as_deref()))
            .field("refresh_expires_in", &self.refresh_expires_in)
            .field("scope", &self.scope)
            .field("id_token", &redact_opt(self.id_token.as_deref()))
            .finish()
    }
}

/// The `token_type_hint` of introspection and revocation requests.
///
/// Only a hint: the server looks the token up as every kind anyway, so an
/// unknown value is kept as [`TokenTypeHint::Other`], not rejected.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenTypeHint {
    /// `access_token`.
    AccessToken,
    /// `refresh_token`.
    RefreshToken,
    /// Any other value, as sent.
    Other(String),
}

impl TokenTypeHint {
    /// The value as written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::AccessToken => "access_token",
            Self::RefreshToken => "refresh_token",
            Self::Other(other) => other,
        }
    }
}

impl Serialize for TokenTypeHint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TokenTypeHint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Ok(match value.as_str() {
            "access_token" => Self::AccessToken,
            "refresh_token" => Self::RefreshToken,
            _ => Self::Other(value),
        })
    }
}

/// Body of `POST /oauth/introspect`. `Debug` hides the token and secret.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntrospectRequest {
    /// The access or refresh token to look at. Required, but `None` when
    /// absent rather than a deserialisation failure, so that the server
    /// authenticates the client first: a caller without credentials gets
    /// 401 `invalid_client` (docs/http-api.md), whatever its body holds. An empty or
    /// garbage token is a bad token, answered `{"active": false}`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = String))]
    pub token: Option<String>,
    /// What kind of token the caller thinks it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type_hint: Option<TokenTypeHint>,
    /// The calling client's id, when not using HTTP Basic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The calling client's secret, with `client_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl fmt::Debug for IntrospectRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectRequest")
            .field("token", &REDACTED)
            .field("token_type_hint", &self.token_type_hint)
            .field("client_id", &self.client_id)
            .field("client_secret", &redact_opt(self.client_secret.as_deref()))
            .finish()
    }
}

/// The `token_type` of an active token in an introspection response.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum IntrospectionTokenType {
    /// An access token: `"Bearer"`.
    #[serde(rename = "Bearer")]
    Bearer,
    /// A refresh token: `"refresh_token"`.
    #[serde(rename = "refresh_token")]
    RefreshToken,
}

/// Response of `POST /oauth/introspect` (RFC 7662 §2.2).
///
/// An inactive token is exactly `{"active": false}`: every other field is
/// left out when `None`, so nothing is revealed about a bad token.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntrospectionResponse {
    /// Whether the token is valid now: signed by us, unexpired, unrevoked,
    /// and its user still enabled.
    pub active: bool,
    /// The user id, or the client id for a client token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The user's username, when they have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The client the token was issued to (client tokens only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The roles the token carries (access tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// The scope, space-separated, when one was requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `"Bearer"` for access tokens, `"refresh_token"` for refresh tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<IntrospectionTokenType>,
    /// Expiry, in seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issue time, in seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Not-before time, in seconds since the Unix epoch (access tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// The issuer (access tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The audience (access tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
    /// The token id (access tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// The session the token belongs to (user tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

impl IntrospectionResponse {
    /// `{"active": false}`: the answer for any token that is not valid.
    pub fn inactive() -> Self {
        Self::default()
    }
}

/// Body of `POST /oauth/revoke` (RFC 7009). `Debug` hides the token and
/// secret.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeRequest {
    /// The access or refresh token to revoke. Required, but read as empty
    /// when absent, so that the caller is authenticated first (401
    /// `invalid_client` without credentials, whatever the body holds).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub token: String,
    /// What kind of token the caller thinks it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type_hint: Option<TokenTypeHint>,
    /// The calling client's id, when not using HTTP Basic or the token's
    /// own Bearer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The calling client's secret, with `client_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl fmt::Debug for RevokeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevokeRequest")
            .field("token", &REDACTED)
            .field("token_type_hint", &self.token_type_hint)
            .field("client_id", &self.client_id)
            .field("client_secret", &redact_opt(self.client_secret.as_deref()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use uuid::uuid;

    const SECRET: &str = "client-secret-value";
    const TOKEN: &str = "the-token-value";

    #[test]
    fn client_credentials_request_round_trips() {
        let text = json!({"grant_type": "client_credentials", "client_id": "svc",
                          "client_secret": SECRET, "audience": "api", "scope": "read write"});
        let request: TokenRequest = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(request.grant_type, GrantType::ClientCredentials);
        assert_eq!(serde_json::to_value(&request).unwrap(), text);
    }

    #[test]
    fn an_unsupported_grant_type_is_kept_not_rejected() {
        let request: TokenRequest =
            serde_json::from_value(json!({"grant_type": "password"})).unwrap();
        assert_eq!(request.grant_type, GrantType::Other("password".into()));
        assert_eq!(request.grant_type.as_str(), "password");
    }

    #[test]
    fn token_request_debug_hides_secret_and_refresh_token() {
        let request = TokenRequest {
            grant_type: GrantType::RefreshToken,
            client_id: Some("svc".into()),
            client_secret: Some(SECRET.into()),
            audience: None,
            scope: None,
            refresh_token: Some(TOKEN.into()),
            code: None,
            redirect_uri: None,
            code_verifier: None,
        };
        let debug = format!("{request:?}");
        assert!(!debug.contains(SECRET) && !debug.contains(TOKEN), "{debug}");
        assert!(debug.contains("svc"), "{debug}");
    }

    #[test]
    fn client_credentials_token_response_has_no_refresh_token_field() {
        let response = OAuthTokenResponse {
            access_token: TOKEN.into(),
            token_type: TokenType::Bearer,
            expires_in: 900,
            refresh_token: None,
            refresh_expires_in: None,
            scope: None,
            id_token: None,
        };
        let text = json!({"access_token": TOKEN, "token_type": "Bearer", "expires_in": 900});
        assert_eq!(serde_json::to_value(&response).unwrap(), text);
        assert_eq!(
            serde_json::from_value::<OAuthTokenResponse>(text).unwrap(),
            response
        );
        assert!(!format!("{response:?}").contains(TOKEN));
    }

    #[test]
    fn inactive_introspection_is_exactly_active_false() {
        let text = serde_json::to_string(&IntrospectionResponse::inactive()).unwrap();
        assert_eq!(text, r#"{"active":false}"#);
        let back: IntrospectionResponse = serde_json::from_str(r#"{"active": false}"#).unwrap();
        assert_eq!(back, IntrospectionResponse::inactive());
    }

    #[test]
    fn active_access_token_introspection_round_trips() {
        let text = json!({"active": true, "sub": "0193a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b",
                          "username": "alice", "roles": ["user"], "token_type": "Bearer",
                          "exp": 1_795_000_900, "iat": 1_795_000_000, "nbf": 1_795_000_000,
                          "iss": "https://auth.example.com", "aud": "api", "jti": "j1",
                          "sid": "0193a5b2-8000-7000-8000-000000000001"});
        let response: IntrospectionResponse = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(response.token_type, Some(IntrospectionTokenType::Bearer));
        assert_eq!(
            response.sid,
            Some(uuid!("0193a5b2-8000-7000-8000-000000000001"))
        );
        assert_eq!(serde_json::to_value(&response).unwrap(), text);
    }

    #[test]
    fn active_refresh_token_introspection_round_trips() {
        let text = json!({"active": true, "sub": "0193a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b",
                          "token_type": "refresh_token", "exp": 1_797_592_000,
                          "iat": 1_795_000_000, "sid": "0193a5b2-8000-7000-8000-000000000001"});
        let response: IntrospectionResponse = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(
            response.token_type,
            Some(IntrospectionTokenType::RefreshToken)
        );
        assert_eq!(serde_json::to_value(&response).unwrap(), text);
    }

    #[test]
    fn introspect_request_keeps_an_unknown_hint_and_debug_hides_token() {
        let request: IntrospectRequest =
            serde_json::from_value(json!({"token": TOKEN, "token_type_hint": "id_token",
                                          "client_secret": SECRET}))
            .unwrap();
        assert_eq!(
            request.token_type_hint,
            Some(TokenTypeHint::Other("id_token".into()))
        );
        let debug = format!("{request:?}");
        assert!(!debug.contains(TOKEN) && !debug.contains(SECRET), "{debug}");
    }

    #[test]
    fn revoke_request_round_trips_and_debug_hides_token() {
        let text = json!({"token": TOKEN, "token_type_hint": "refresh_token"});
        let request: RevokeRequest = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(request.token_type_hint, Some(TokenTypeHint::RefreshToken));
        assert_eq!(serde_json::to_value(&request).unwrap(), text);
        assert!(!format!("{request:?}").contains(TOKEN));
    }
}
