//! The claims of authgate access tokens (RFC 9068 profile).

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The claims of an access token, as docs/http-api.md's "Access tokens" lists them.
///
/// Times are whole seconds since the Unix epoch; a time written as a
/// string or a fraction is rejected. Optional claims are left out when
/// `None`. Checking them (issuer, audience, expiry) is the verifier's job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The issuer: the server's configured `tokens.issuer`.
    pub iss: String,
    /// The subject: the user id (a UUID), or the client id for a client
    /// token.
    pub sub: String,
    /// The audience(s) the token is for.
    pub aud: Audience,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: i64,
    /// Issue time, in seconds since the Unix epoch.
    pub iat: i64,
    /// Not-before time, in seconds since the Unix epoch.
    pub nbf: i64,
    /// A unique token id, so a single token can be revoked.
    pub jti: String,
    /// The session the token belongs to, so logging out revokes it; client
    /// tokens have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
    /// The subject's roles when the token was issued. Read as empty when
    /// absent, which grants nothing.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The service client the token was issued to (client tokens only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The granted scope, space-separated, when one was requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// The `aud` claim: one audience or several.
///
/// RFC 7519 §4.1.3 lets `aud` be a string or an array of strings; both are
/// read. A single audience is written as a string, several as an array.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Audience(Vec<String>);

impl Audience {
    /// An audience of one.
    pub fn new(audience: impl Into<String>) -> Self {
        Self(vec![audience.into()])
    }

    /// Whether `audience` is one of the audiences.
    pub fn contains(&self, audience: &str) -> bool {
        self.0.iter().any(|value| value == audience)
    }

    /// The audiences, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// The audiences as a slice.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

impl From<String> for Audience {
    fn from(audience: String) -> Self {
        Self(vec![audience])
    }
}

impl From<&str> for Audience {
    fn from(audience: &str) -> Self {
        Self::new(audience)
    }
}

impl From<Vec<String>> for Audience {
    fn from(audiences: Vec<String>) -> Self {
        Self(audiences)
    }
}

impl Serialize for Audience {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => serializer.serialize_str(one),
            many => {
                let mut seq = serializer.serialize_seq(Some(many.len()))?;
                for audience in many {
                    seq.serialize_element(audience)?;
                }
                seq.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AudienceVisitor)
    }
}

/// Reads `aud` from a string or an array of strings.
struct AudienceVisitor;

impl<'de> Visitor<'de> for AudienceVisitor {
    type Value = Audience;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Audience, E> {
        Ok(Audience::new(value))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Audience, E> {
        Ok(Audience::from(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Audience, A::Error> {
        let mut audiences = Vec::with_capacity(seq.size_hint().unwrap_or(1).min(16));
        while let Some(audience) = seq.next_element::<String>()? {
            audiences.push(audience);
        }
        Ok(Audience(audiences))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use uuid::uuid;

    fn user_claims_json() -> Value {
        json!({"iss": "https://auth.example.com", "sub": "0193a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b",
               "aud": "authgate", "exp": 1_795_000_900, "iat": 1_795_000_000,
               "nbf": 1_795_000_000, "jti": "0193a5b2-9000-7000-8000-00000000000a",
               "sid": "0193a5b2-8000-7000-8000-000000000001", "roles": ["user"]})
    }

    #[test]
    fn user_access_claims_round_trip() {
        let claims: AccessClaims = serde_json::from_value(user_claims_json()).unwrap();
        assert_eq!(claims.aud, Audience::new("authgate"));
        assert_eq!(
            claims.sid,
            Some(uuid!("0193a5b2-8000-7000-8000-000000000001"))
        );
        assert_eq!(claims.exp, 1_795_000_900);
        assert_eq!(serde_json::to_value(&claims).unwrap(), user_claims_json());
    }

    #[test]
    fn client_access_claims_have_no_sid_field() {
        let text = json!({"iss": "https://auth.example.com", "sub": "svc_billing",
                          "aud": "api", "exp": 20, "iat": 10, "nbf": 10, "jti": "j",
                          "roles": [], "client_id": "svc_billing", "scope": "read"});
        let claims: AccessClaims = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(claims.sid, None);
        assert_eq!(claims.client_id.as_deref(), Some("svc_billing"));
        assert_eq!(serde_json::to_value(&claims).unwrap(), text);
    }

    #[test]
    fn aud_as_an_array_is_read_and_written_back_as_an_array() {
        let mut text = user_claims_json();
        text["aud"] = json!(["api", "authgate"]);
        let claims: AccessClaims = serde_json::from_value(text.clone()).unwrap();
        assert!(claims.aud.contains("api") && claims.aud.contains("authgate"));
        assert!(!claims.aud.contains("other"));
        assert_eq!(serde_json::to_value(&claims).unwrap(), text);
    }

    #[test]
    fn aud_as_an_array_of_one_is_written_as_a_string() {
        let audience: Audience = serde_json::from_value(json!(["api"])).unwrap();
        assert_eq!(serde_json::to_value(&audience).unwrap(), json!("api"));
    }

    #[test]
    fn aud_that_is_neither_string_nor_array_of_strings_is_rejected() {
        assert!(serde_json::from_value::<Audience>(json!(42)).is_err());
        assert!(serde_json::from_value::<Audience>(json!([1, 2])).is_err());
        assert!(serde_json::from_value::<Audience>(json!({"aud": "api"})).is_err());
    }

    #[test]
    fn an_exp_given_as_a_string_is_rejected() {
        let mut text = user_claims_json();
        text["exp"] = json!("1795000900");
        assert!(serde_json::from_value::<AccessClaims>(text).is_err());
    }

    #[test]
    fn an_exp_given_as_a_fraction_is_rejected() {
        let text = user_claims_json()
            .to_string()
            .replace("1795000900", "1795000900.5");
        assert!(serde_json::from_str::<AccessClaims>(&text).is_err());
    }

    #[test]
    fn claims_without_a_jti_are_rejected() {
        let mut text = user_claims_json();
        text.as_object_mut().unwrap().remove("jti");
        assert!(serde_json::from_value::<AccessClaims>(text).is_err());
    }

    #[test]
    fn claims_with_unknown_extra_claims_are_accepted() {
        let mut text = user_claims_json();
        text["azp"] = json!("spa");
        assert!(serde_json::from_value::<AccessClaims>(text).is_ok());
    }
}
