//! `TooLarge` and `Malformed`: the structure, encoding and JSON a token must
//! have. Tokens here are correctly signed wherever the check under test comes
//! after the signature, so a refusal cannot be a signature failure in disguise.

use authgate_jwt::{
    Algorithm, DEFAULT_MAX_TOKEN_LEN, Error, SigningKey, decode_unverified, expires_in, sign,
    verify,
};
use serde_json::Value;

use crate::support::{
    NOW, b64, claims_at, hs256_key, hs256_raw, hs256_sign_input, validation, with_trailing_noise,
};

const HEADER: &str = r#"{"alg":"HS256","typ":"at+jwt"}"#;

fn check(token: &str) -> Result<Value, Error> {
    verify(token, &hs256_key(), &validation(), NOW)
}

fn assert_malformed(token: &str) {
    let result = check(token);
    assert!(
        matches!(result, Err(Error::Malformed(_))),
        "{result:?} for {token}"
    );
}

/// A correctly signed, valid token: the baseline every case here departs from.
fn valid() -> String {
    hs256_raw(HEADER, &claims_at(NOW).to_string())
}

#[test]
fn the_baseline_token_verifies() {
    assert!(check(&valid()).is_ok());
}

#[test]
fn a_9_kib_garbage_string_is_too_large_before_any_decoding() {
    let garbage = "!".repeat(9 * 1024);
    assert_eq!(check(&garbage).unwrap_err(), Error::TooLarge);
    assert_eq!(
        decode_unverified::<Value>(&garbage).unwrap_err(),
        Error::TooLarge
    );
    assert_eq!(expires_in(&garbage, NOW).unwrap_err(), Error::TooLarge);
}

#[test]
fn garbage_of_exactly_the_maximum_length_is_decoded_and_found_malformed() {
    assert_malformed(&"!".repeat(DEFAULT_MAX_TOKEN_LEN));
}

#[test]
fn the_size_cap_follows_the_validation_setting() {
    let token = valid();
    let mut tight = validation();
    tight.max_token_len = token.len() - 1;
    let result = verify::<Value>(&token, &hs256_key(), &tight, NOW);
    assert_eq!(result.unwrap_err(), Error::TooLarge);
    let mut exact = validation();
    exact.max_token_len = token.len();
    assert!(verify::<Value>(&token, &hs256_key(), &exact, NOW).is_ok());
}

#[test]
fn tokens_with_fewer_than_three_parts_are_malformed() {
    let token = valid();
    let (input, _) = token.rsplit_once('.').unwrap();
    assert_malformed(input);
    assert_malformed(input.split_once('.').unwrap().0);
    assert_malformed("");
    assert_malformed(".");
}

#[test]
fn tokens_with_four_parts_are_malformed() {
    let token = valid();
    let signature = token.rsplit_once('.').unwrap().1;
    assert_malformed(&format!("{token}.{signature}"));
    assert_malformed(&format!("{token}."));
    assert_malformed("...");
    // Even when the signature covers all of header.payload.extra.
    let (header, rest) = token.split_once('.').unwrap();
    let payload = rest.split_once('.').unwrap().0;
    assert_malformed(&hs256_sign_input(&format!("{header}.{payload}.{payload}")));
}

#[test]
fn a_five_part_jwe_is_malformed() {
    // A JWE compact serialisation: header.encrypted_key.iv.ciphertext.tag.
    let jwe_header = b64(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#);
    assert_malformed(&format!(
        "{jwe_header}.{}.{}.{}.{}",
        b64([1; 256]),
        b64([2; 12]),
        b64("secret"),
        b64([3; 16])
    ));
}

#[test]
fn padded_base64_in_any_part_is_malformed() {
    // 25 bytes: its base64url needs "==" to be padded.
    let header = b64(r#"{"alg":"HS256","kid":"k"}"#);
    let payload = b64(claims_at(NOW).to_string());
    assert_ne!(
        header.len() % 4,
        0,
        "the header needs padding to test padding"
    );
    let pad = |part: &str| format!("{part}{}", "=".repeat((4 - part.len() % 4) % 4));

    assert_malformed(&hs256_sign_input(&format!("{}.{payload}", pad(&header))));
    let valid = valid();
    let signature = valid.rsplit_once('.').unwrap().1;
    assert_eq!(
        signature.len() % 4,
        3,
        "an HS256 signature is 43 characters"
    );
    assert_malformed(&format!("{header}.{payload}.{}", pad(signature)));

    // The payload is covered by the signature, so sign the padded text itself.
    let mut claims = claims_at(NOW);
    for filler in ["", "x", "xx", "xxx"] {
        claims["pad"] = filler.into();
        let payload = b64(claims.to_string());
        if !payload.len().is_multiple_of(4) {
            assert_malformed(&hs256_sign_input(&format!("{header}.{}", pad(&payload))));
            return;
        }
    }
    panic!("no filler gave a payload that needs padding");
}

/// A part whose length is 3 mod 4 ends in a character carrying 4 data bits
/// and 2 bits that must be zero; one whose length is 2 mod 4 ends in one
/// carrying 2 data bits and 4 that must be zero. A decoder that ignores them
/// accepts several spellings of one token; only the canonical one may verify.
#[test]
fn non_canonical_trailing_bits_in_a_three_character_tail_are_malformed() {
    let token = valid();
    let signature = token.rsplit_once('.').unwrap().1;
    assert_eq!(
        signature.len() % 4,
        3,
        "an HS256 signature is 43 characters"
    );
    for noise in 1..4 {
        assert_malformed(&with_trailing_noise(&token, noise));
    }
}

#[test]
fn non_canonical_trailing_bits_in_a_two_character_tail_are_malformed() {
    let header = b64(HEADER);
    let mut claims = claims_at(NOW);
    for filler in ["", "x", "xx"] {
        claims["pad"] = filler.into();
        let payload = b64(claims.to_string());
        if payload.len() % 4 == 2 {
            assert!(check(&hs256_sign_input(&format!("{header}.{payload}"))).is_ok());
            for noise in 1..16 {
                // Signed as respelled, so only the decoder can refuse it.
                let respelled = with_trailing_noise(&payload, noise);
                let token = hs256_sign_input(&format!("{header}.{respelled}"));
                let result = check(&token);
                assert!(
                    matches!(result, Err(Error::Malformed(_))),
                    "noise {noise}: {result:?}"
                );
            }
            return;
        }
    }
    panic!("no filler gave a payload with a two-character tail");
}

/// An Ed25519 signature is 64 bytes: 86 characters, a two-character tail.
/// Respelling it must not give a second token that verifies (a replay cache
/// keyed on the token string would count it as new).
#[test]
fn an_eddsa_token_has_exactly_one_spelling() {
    let key = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let token = sign(&key, None, &claims_at(NOW)).unwrap();
    assert_eq!(token.rsplit_once('.').unwrap().1.len(), 86);
    assert!(verify::<Value>(&token, key.verifying_key(), &validation(), NOW).is_ok());
    let accepted: Vec<u8> = (1..16)
        .filter(|noise| {
            let respelled = with_trailing_noise(&token, *noise);
            verify::<Value>(&respelled, key.verifying_key(), &validation(), NOW).is_ok()
        })
        .collect();
    assert_eq!(
        accepted,
        Vec::<u8>::new(),
        "respellings with these trailing bits verified"
    );
}

#[test]
fn standard_alphabet_characters_are_malformed() {
    // Find claims whose base64url spelling contains '-' or '_', sign them in
    // the standard alphabet ('+', '/'), and check only the url-safe one verifies.
    let mut claims = claims_at(NOW);
    for filler in ["?", "??", "???", "~", "~~", "~~~", ">>>", "???>"] {
        claims["note"] = filler.into();
        let payload = b64(claims.to_string());
        if payload.contains(['-', '_']) {
            let standard = payload.replace('-', "+").replace('_', "/");
            let header = b64(HEADER);
            assert!(check(&hs256_sign_input(&format!("{header}.{payload}"))).is_ok());
            assert_malformed(&hs256_sign_input(&format!("{header}.{standard}")));
            return;
        }
    }
    panic!("no filler put '-' or '_' into the payload");
}

#[test]
fn a_header_that_is_not_json_is_malformed() {
    assert_malformed(&hs256_raw("alg=HS256", &claims_at(NOW).to_string()));
    assert_malformed(&hs256_raw(r#"{"alg":"HS256""#, &claims_at(NOW).to_string()));
    assert_malformed(&hs256_raw(
        r#"{"alg":"HS256"} trailing"#,
        &claims_at(NOW).to_string(),
    ));
}

#[test]
fn a_header_that_is_a_json_array_is_malformed() {
    // RFC 7515 §4: the JOSE header is a JSON object. A serde struct will also
    // read an array positionally, so this needs its own check.
    assert_malformed(&hs256_raw(r#"["HS256"]"#, &claims_at(NOW).to_string()));
    assert_malformed(&hs256_raw(
        r#"["HS256","at+jwt"]"#,
        &claims_at(NOW).to_string(),
    ));
}

#[test]
fn a_header_whose_alg_is_not_a_string_is_malformed() {
    assert_malformed(&hs256_raw(r#"{"alg":null}"#, &claims_at(NOW).to_string()));
    assert_malformed(&hs256_raw(
        r#"{"alg":["HS256"]}"#,
        &claims_at(NOW).to_string(),
    ));
    assert_malformed(&hs256_raw(r#"{"typ":"JWT"}"#, &claims_at(NOW).to_string()));
}

#[test]
fn claims_that_are_not_a_json_object_are_malformed() {
    for payload in ["[1,2]", r#""claims""#, "42", "null", "", "not json"] {
        assert_malformed(&hs256_raw(HEADER, payload));
    }
}

/// The structure is checked before the time claims, so a payload of two
/// objects is malformed, not "expired" because of what the first one says.
#[test]
fn claims_followed_by_a_second_object_are_malformed_not_expired() {
    assert_malformed(&hs256_raw(HEADER, r#"{"exp":1}{"exp":2}"#));
}

#[test]
fn claims_followed_by_trailing_garbage_are_malformed() {
    let payload = format!("{} trailing", claims_at(NOW));
    assert_malformed(&hs256_raw(HEADER, &payload));
}

#[test]
fn exp_as_a_string_is_malformed_not_accepted_and_not_ignored() {
    let mut claims = claims_at(NOW);
    claims["exp"] = "9999999999".into();
    assert_malformed(&hs256_raw(HEADER, &claims.to_string()));
    // Not even when exp is not required: a wrong-typed exp is never "absent".
    let mut lax = validation();
    lax.required_claims = Vec::new();
    let result = verify::<Value>(
        &hs256_raw(HEADER, &claims.to_string()),
        &hs256_key(),
        &lax,
        NOW,
    );
    assert!(matches!(result, Err(Error::Malformed(_))), "{result:?}");
}

#[test]
fn registered_time_claims_of_the_wrong_type_are_malformed() {
    for (name, value) in [
        ("nbf", Value::Bool(true)),
        ("iat", "1800000000".into()),
        ("exp", Value::Null),
        ("exp", serde_json::json!({"$date": 1})),
        ("exp", serde_json::json!([1_800_000_900])),
        ("exp", serde_json::json!(1e300)),
    ] {
        let mut claims = claims_at(NOW);
        claims[name] = value;
        assert_malformed(&hs256_raw(HEADER, &claims.to_string()));
    }
}

#[test]
fn other_registered_claims_of_the_wrong_type_are_malformed() {
    for (name, value) in [
        ("iss", serde_json::json!(["https://auth.example"])),
        ("aud", serde_json::json!(7)),
        ("aud", serde_json::json!([7])),
        ("sub", serde_json::json!(4711)),
        ("jti", serde_json::json!({"id": 1})),
    ] {
        let mut claims = claims_at(NOW);
        claims[name] = value;
        assert_malformed(&hs256_raw(HEADER, &claims.to_string()));
    }
}

#[test]
fn a_duplicate_exp_is_malformed_whichever_copy_comes_first() {
    let body = r#""iss":"https://auth.example","aud":"https://api.example""#;
    for exps in [r#""exp":1,"exp":9999999999"#, r#""exp":9999999999,"exp":1"#] {
        assert_malformed(&hs256_raw(HEADER, &format!("{{{body},{exps}}}")));
    }
    assert_malformed(&hs256_raw(
        HEADER,
        r#"{"iss":"https://auth.example","aud":"https://api.example","aud":"https://other.example","exp":9999999999}"#,
    ));
}

#[test]
fn a_duplicate_is_malformed_however_the_name_is_spelt_and_however_many_claims() {
    let body = r#""iss":"https://auth.example","aud":"https://api.example","exp":9999999999"#;
    // One copy escaped: the same name once decoded.
    assert_malformed(&hs256_raw(
        HEADER,
        &format!(r#"{{{body},"sid":"a","s\u0069d":"b"}}"#),
    ));
    assert_malformed(&hs256_raw(
        HEADER,
        &format!(r#"{{{body},"s\u0069d":"a","sid":"b"}}"#),
    ));
    // Past the first sixteen names, and between an early and a late one.
    let many: String = (0..40).map(|i| format!(r#","c{i}":{i}"#)).collect();
    for dup in [
        r#","c39":0"#,
        r#","c3":0"#,
        r#","iss":"https://auth.example""#,
    ] {
        assert_malformed(&hs256_raw(HEADER, &format!("{{{body}{many}{dup}}}")));
    }
    // The same forty distinct names are fine.
    let claims = check(&hs256_raw(HEADER, &format!("{{{body}{many}}}"))).unwrap();
    assert_eq!(
        (claims["c0"].clone(), claims["c39"].clone()),
        (0.into(), 39.into())
    );
}
