//! Claim validation after the signature: `Expired`, `NotYetValid`,
//! `IssuedInFuture`, `InvalidIssuer`, `InvalidAudience`, `InvalidType`,
//! `MissingClaim`; and the unverified peek functions `is_expired`/`expires_in`.

use authgate_jwt::{Error, Validation, decode_unverified, expires_in, is_expired, verify};
use serde_json::{Value, json};

use crate::support::{AUD, ISS, NOW, claims_at, hs256_key, hs256_raw, validation};

/// A correctly signed token with `typ` (if any) over `claims`.
fn token(typ: Option<&str>, claims: &Value) -> String {
    let header = match typ {
        Some(typ) => json!({"alg": "HS256", "typ": typ}),
        None => json!({"alg": "HS256"}),
    };
    hs256_raw(&header.to_string(), &claims.to_string())
}

fn check_with(claims: &Value, validation: &Validation) -> Result<Value, Error> {
    verify(&token(None, claims), &hs256_key(), validation, NOW)
}

fn check(claims: &Value) -> Result<Value, Error> {
    check_with(claims, &validation())
}

fn with(name: &str, value: Value) -> Value {
    let mut claims = claims_at(NOW);
    claims[name] = value;
    claims
}

fn without(name: &str) -> Value {
    let mut claims = claims_at(NOW);
    claims.as_object_mut().unwrap().remove(name);
    claims
}

#[test]
fn exp_beyond_the_leeway_in_the_past_is_expired() {
    assert_eq!(
        check(&with("exp", (NOW - 61).into())).unwrap_err(),
        Error::Expired
    );
    assert_eq!(
        check(&with("exp", (NOW - 86_400).into())).unwrap_err(),
        Error::Expired
    );
}

#[test]
fn exp_in_the_past_but_within_the_leeway_is_ok() {
    assert!(check(&with("exp", (NOW - 30).into())).is_ok());
    assert!(check(&with("exp", (NOW - 59).into())).is_ok());
}

#[test]
fn exp_exactly_at_the_end_of_the_leeway_is_expired() {
    assert_eq!(
        check(&with("exp", (NOW - 60).into())).unwrap_err(),
        Error::Expired
    );
    let strict = validation().leeway(0);
    assert_eq!(
        check_with(&with("exp", NOW.into()), &strict).unwrap_err(),
        Error::Expired
    );
    assert!(check_with(&with("exp", (NOW + 1).into()), &strict).is_ok());
}

#[test]
fn fractional_exp_is_floored() {
    let strict = validation().leeway(0);
    assert_eq!(
        check_with(&with("exp", json!(NOW as f64 + 0.9)), &strict).unwrap_err(),
        Error::Expired
    );
    assert!(check_with(&with("exp", json!(NOW as f64 + 1.5)), &strict).is_ok());
}

#[test]
fn nbf_beyond_the_leeway_in_the_future_is_not_yet_valid() {
    assert_eq!(
        check(&with("nbf", (NOW + 61).into())).unwrap_err(),
        Error::NotYetValid
    );
    assert!(check(&with("nbf", (NOW + 60).into())).is_ok());
}

#[test]
fn nbf_is_ignored_when_its_check_is_turned_off() {
    let mut lax = validation();
    lax.validate_nbf = false;
    assert!(check_with(&with("nbf", (NOW + 3600).into()), &lax).is_ok());
}

#[test]
fn iat_beyond_the_leeway_in_the_future_is_issued_in_future() {
    assert_eq!(
        check(&with("iat", (NOW + 61).into())).unwrap_err(),
        Error::IssuedInFuture
    );
    assert!(check(&with("iat", (NOW + 60).into())).is_ok());
    let mut lax = validation();
    lax.validate_iat = false;
    assert!(check_with(&with("iat", (NOW + 3600).into()), &lax).is_ok());
}

#[test]
fn a_wrong_issuer_is_invalid_issuer() {
    for iss in [
        "https://evil.example",
        "https://auth.example/",
        "HTTPS://AUTH.EXAMPLE",
        "",
    ] {
        assert_eq!(
            check(&with("iss", iss.into())).unwrap_err(),
            Error::InvalidIssuer,
            "{iss}"
        );
    }
}

#[test]
fn a_missing_issuer_is_a_missing_claim_when_an_issuer_is_expected() {
    assert_eq!(
        check(&without("iss")).unwrap_err(),
        Error::MissingClaim("iss".into())
    );
}

#[test]
fn an_escaped_issuer_equal_to_the_expected_one_is_accepted() {
    let payload = claims_at(NOW)
        .to_string()
        .replace(ISS, r"https:\/\/auth.example");
    assert!(payload.contains(r"\/"));
    let token = hs256_raw(r#"{"alg":"HS256"}"#, &payload);
    assert!(verify::<Value>(&token, &hs256_key(), &validation(), NOW).is_ok());
}

#[test]
fn a_wrong_audience_is_invalid_audience() {
    assert_eq!(
        check(&with("aud", "https://other.example".into())).unwrap_err(),
        Error::InvalidAudience
    );
}

#[test]
fn an_audience_array_without_ours_is_invalid_audience() {
    let aud = json!(["https://other.example", "https://third.example"]);
    assert_eq!(
        check(&with("aud", aud)).unwrap_err(),
        Error::InvalidAudience
    );
    assert_eq!(
        check(&with("aud", json!([]))).unwrap_err(),
        Error::InvalidAudience
    );
}

#[test]
fn an_audience_array_with_ours_is_accepted() {
    let claims: Value = check(&with("aud", json!(["https://other.example", AUD]))).unwrap();
    assert_eq!(claims["aud"][1], AUD);
}

#[test]
fn any_of_several_expected_audiences_is_accepted() {
    let two = validation().audience("https://second.example");
    assert!(check_with(&with("aud", "https://second.example".into()), &two).is_ok());
    assert!(check_with(&claims_at(NOW), &two).is_ok());
}

#[test]
fn a_token_with_an_audience_is_refused_by_a_validation_without_one() {
    let no_audience = Validation::new().issuer(ISS);
    assert_eq!(
        check_with(&claims_at(NOW), &no_audience).unwrap_err(),
        Error::InvalidAudience
    );
    assert!(check_with(&without("aud"), &no_audience).is_ok());
}

#[test]
fn a_missing_audience_is_a_missing_claim_when_one_is_expected() {
    assert_eq!(
        check(&without("aud")).unwrap_err(),
        Error::MissingClaim("aud".into())
    );
}

#[test]
fn insecure_ignore_audience_accepts_any_audience() {
    let tool = validation().insecure_ignore_audience();
    assert!(check_with(&with("aud", "https://other.example".into()), &tool).is_ok());
}

#[test]
fn a_token_of_another_type_is_invalid_type() {
    let access = validation().typ("at+jwt");
    let jwt = token(Some("JWT"), &claims_at(NOW));
    assert_eq!(
        verify::<Value>(&jwt, &hs256_key(), &access, NOW).unwrap_err(),
        Error::InvalidType
    );
}

#[test]
fn a_token_without_typ_is_invalid_type_when_a_type_is_expected() {
    let access = validation().typ("at+jwt");
    let untyped = token(None, &claims_at(NOW));
    assert_eq!(
        verify::<Value>(&untyped, &hs256_key(), &access, NOW).unwrap_err(),
        Error::InvalidType
    );
}

#[test]
fn typ_is_compared_case_insensitively_with_an_optional_application_prefix() {
    let access = validation().typ("at+jwt");
    for typ in [
        "at+jwt",
        "AT+JWT",
        "application/at+jwt",
        "Application/At+Jwt",
    ] {
        let typed = token(Some(typ), &claims_at(NOW));
        assert!(
            verify::<Value>(&typed, &hs256_key(), &access, NOW).is_ok(),
            "{typ}"
        );
    }
    for typ in ["jwt", "application/jwt", "at+jwt ", "xapplication/at+jwt"] {
        let typed = token(Some(typ), &claims_at(NOW));
        let result = verify::<Value>(&typed, &hs256_key(), &access, NOW);
        assert_eq!(result.unwrap_err(), Error::InvalidType, "{typ}");
    }
}

#[test]
fn a_token_without_exp_is_refused_by_default() {
    assert_eq!(
        check(&without("exp")).unwrap_err(),
        Error::MissingClaim("exp".into())
    );
    let mut never_expires = validation();
    never_expires.required_claims = Vec::new();
    assert!(check_with(&without("exp"), &never_expires).is_ok());
}

#[test]
fn a_required_custom_claim_must_be_present() {
    let needs_sid = validation().require("sid");
    assert_eq!(
        check_with(&without("sid"), &needs_sid).unwrap_err(),
        Error::MissingClaim("sid".into())
    );
    let claims = check_with(&claims_at(NOW), &needs_sid).unwrap();
    assert_eq!(claims["sid"], "sess-42");
}

#[test]
fn verified_claims_come_back_exactly_as_signed() {
    assert_eq!(check(&claims_at(NOW)).unwrap(), claims_at(NOW));
}

#[test]
fn a_token_without_exp_never_counts_as_expired() {
    let token = token(None, &without("exp"));
    assert_eq!(expires_in(&token, NOW), Ok(None));
    assert!(!is_expired(&token, NOW));
    assert!(!is_expired(&token, i64::MAX));
}

#[test]
fn expires_in_counts_the_seconds_left_and_is_expired_agrees() {
    let token = token(None, &claims_at(NOW));
    assert_eq!(expires_in(&token, NOW), Ok(Some(900)));
    assert_eq!(expires_in(&token, NOW + 1000), Ok(Some(-100)));
    assert!(!is_expired(&token, NOW + 899));
    assert!(
        is_expired(&token, NOW + 900),
        "a token is expired at its exp"
    );
    assert!(is_expired(&token, NOW + 901));
}

#[test]
fn expires_in_saturates_instead_of_overflowing() {
    let token = token(None, &with("exp", i64::MIN.into()));
    assert_eq!(expires_in(&token, i64::MAX), Ok(Some(i64::MIN)));
    assert!(is_expired(&token, i64::MAX));
}

#[test]
fn a_malformed_token_counts_as_expired() {
    for garbage in ["", "garbage", "a.b", "a.b.c.d", "!!!.!!!.!!!"] {
        assert!(is_expired(garbage, NOW), "{garbage}");
        assert!(expires_in(garbage, NOW).is_err(), "{garbage}");
    }
    let string_exp = token(None, &with("exp", "9999999999".into()));
    assert!(is_expired(&string_exp, NOW));
    assert!(matches!(
        expires_in(&string_exp, NOW),
        Err(Error::Malformed(_))
    ));
    assert!(is_expired(&"a".repeat(9 * 1024), NOW));
}

/// `verify` and `decode_unverified` refuse claims with trailing bytes after the
/// JSON object, so `expires_in` must too: a client would otherwise keep a
/// token every server refuses, instead of fetching a new one.
#[test]
fn claims_with_trailing_garbage_count_as_malformed_and_expired() {
    let payload = format!("{} trailing", claims_at(NOW));
    let token = hs256_raw(r#"{"alg":"HS256"}"#, &payload);
    assert!(matches!(
        decode_unverified::<Value>(&token),
        Err(Error::Malformed(_))
    ));
    assert!(
        matches!(expires_in(&token, NOW), Err(Error::Malformed(_))),
        "{:?}",
        expires_in(&token, NOW)
    );
    assert!(is_expired(&token, NOW));
}

#[test]
fn decode_unverified_reads_header_and_claims_without_checking_the_signature() {
    let signed = token(Some("at+jwt"), &claims_at(NOW));
    let (input, _) = signed.rsplit_once('.').unwrap();
    let unsigned = format!("{input}.{}", crate::support::b64([0u8; 32]));
    let peeked = decode_unverified::<Value>(&unsigned).unwrap();
    assert_eq!(peeked.header.alg, "HS256");
    assert_eq!(peeked.header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(peeked.header.kid, None);
    assert_eq!(peeked.claims["sub"], "user-4711");
    assert_eq!(
        verify::<Value>(&unsigned, &hs256_key(), &validation(), NOW).unwrap_err(),
        Error::InvalidSignature
    );
}
