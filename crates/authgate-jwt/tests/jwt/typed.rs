//! Claims read into typed structs: the crate's ready-made [`Claims`] and a
//! service's own type, through `verify` and `decode_unverified`. The other
//! modules verify into `serde_json::Value`, so that a failure here points at
//! the typed path alone.

use authgate_jwt::{Audience, Claims, Error, decode_unverified, verify};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::support::{AUD, ISS, NOW, claims_at, hs256_key, hs256_raw, validation};

fn token(claims: &Value) -> String {
    hs256_raw(r#"{"alg":"HS256","typ":"at+jwt"}"#, &claims.to_string())
}

/// What a resource server typically declares: optional registered claims, its own claims.
#[derive(Debug, Deserialize, PartialEq)]
struct AccessClaims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Audience>,
    exp: Option<i64>,
    jti: Option<String>,
    sid: String,
    roles: Vec<String>,
}

/// The strictest shape: every field required, no `Option`.
#[derive(Debug, Deserialize, PartialEq)]
struct Required {
    sub: String,
    exp: i64,
    tenant: String,
}

fn assert_every_claim(claims: &Claims) {
    assert_eq!(claims.iss.as_deref(), Some(ISS));
    assert_eq!(claims.sub.as_deref(), Some("user-4711"));
    assert_eq!(claims.aud, Some(Audience::One(AUD.into())));
    assert_eq!(claims.exp, Some(NOW + 900));
    assert_eq!(claims.nbf, Some(NOW));
    assert_eq!(claims.iat, Some(NOW));
    assert_eq!(claims.jti.as_deref(), Some("01JAX3K9Z7Q5V2M4N6P8R0T2W4"));
    assert_eq!(claims.extra["sid"], "sess-42");
    assert_eq!(claims.extra["roles"], json!(["admin", "billing"]));
    assert_eq!(
        claims.extra.len(),
        2,
        "registered claims are not duplicated into extra"
    );
}

#[test]
fn verify_into_the_ready_made_claims_struct_returns_every_claim() {
    let claims: Claims = verify(&token(&claims_at(NOW)), &hs256_key(), &validation(), NOW).unwrap();
    assert_every_claim(&claims);
}

#[test]
fn decode_unverified_into_the_ready_made_claims_struct_returns_every_claim() {
    let unverified = decode_unverified::<Claims>(&token(&claims_at(NOW))).unwrap();
    assert_eq!(unverified.header.typ.as_deref(), Some("at+jwt"));
    assert_every_claim(&unverified.claims);
}

#[test]
fn verify_into_a_service_struct_with_optional_registered_claims() {
    let mut claims = claims_at(NOW);
    claims["aud"] = json!(["https://other.example", AUD]);
    let typed: AccessClaims = verify(&token(&claims), &hs256_key(), &validation(), NOW).unwrap();
    assert_eq!(
        typed,
        AccessClaims {
            iss: Some(ISS.into()),
            sub: Some("user-4711".into()),
            aud: Some(Audience::Many(vec![
                "https://other.example".into(),
                AUD.into()
            ])),
            exp: Some(NOW + 900),
            jti: Some("01JAX3K9Z7Q5V2M4N6P8R0T2W4".into()),
            sid: "sess-42".into(),
            roles: vec!["admin".into(), "billing".into()],
        }
    );
}

#[test]
fn verify_into_a_struct_of_required_fields() {
    let mut claims = claims_at(NOW);
    claims["tenant"] = "acme".into();
    let typed: Required = verify(&token(&claims), &hs256_key(), &validation(), NOW).unwrap();
    assert_eq!(
        typed,
        Required {
            sub: "user-4711".into(),
            exp: NOW + 900,
            tenant: "acme".into()
        }
    );
}

#[test]
fn claims_missing_a_field_the_type_requires_are_malformed_after_validation_passes() {
    let result = verify::<Required>(&token(&claims_at(NOW)), &hs256_key(), &validation(), NOW);
    assert!(matches!(result, Err(Error::Malformed(_))), "{result:?}");
    // Validation still names what is wrong with the token itself first.
    let result = verify::<Required>(
        &token(&claims_at(NOW)),
        &hs256_key(),
        &validation(),
        NOW + 3600,
    );
    assert_eq!(result.unwrap_err(), Error::Expired);
}
