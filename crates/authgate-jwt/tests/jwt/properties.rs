//! Properties: no mutation of a valid token verifies, and no input makes the
//! verify or peek paths panic. Case counts are modest so the suite stays fast;
//! single-bit flips and truncations are also swept exhaustively.

use std::sync::LazyLock;

use authgate_jwt::{
    Algorithm, Claims, DEFAULT_LEEWAY, KeySet, SigningKey, VerifyingKey, decode_unverified,
    expires_in, is_expired, sign, verify,
};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;

use crate::support::{NOW, b64, claims_at, ed25519_from_seed, hs256_key, hs256_raw, validation};

/// A valid token and the key that verifies it.
struct Fixture {
    token: String,
    key: VerifyingKey,
}

fn fixture(key: SigningKey) -> Fixture {
    let token = sign(&key, Some("at+jwt"), &claims_at(NOW)).unwrap();
    Fixture {
        token,
        key: key.verifying_key().clone(),
    }
}

static HS256: LazyLock<Fixture> = LazyLock::new(|| {
    fixture(SigningKey::from_secret(Algorithm::HS256, crate::support::SECRET).unwrap())
});
static EDDSA: LazyLock<Fixture> = LazyLock::new(|| fixture(ed25519_from_seed(&[42; 32])));

/// A key set holding both fixture keys (the HS256 one under kid `k1`), for the arbitrary-input properties.
static KEY_SET: LazyLock<KeySet> = LazyLock::new(|| {
    let mut set = KeySet::new();
    set.insert(hs256_key().with_kid("k1")).unwrap();
    set.insert(EDDSA.key.clone()).unwrap();
    set
});

/// Verifies `bytes` (lossily as UTF-8) against `fixture` and insists it is refused.
fn assert_refused(fixture: &Fixture, bytes: &[u8]) -> Result<(), TestCaseError> {
    let mutated = String::from_utf8_lossy(bytes);
    prop_assert_ne!(mutated.as_ref(), fixture.token.as_str());
    let result = verify::<Value>(&mutated, &fixture.key, &validation(), NOW);
    prop_assert!(result.is_err(), "mutant verified: {}", mutated);
    Ok(())
}

fn flipped(token: &str, index: usize, bit: u8) -> Vec<u8> {
    let mut bytes = token.as_bytes().to_vec();
    bytes[index] ^= 1 << bit;
    bytes
}

fn inserted(token: &str, index: usize, byte: u8) -> Vec<u8> {
    let mut bytes = token.as_bytes().to_vec();
    bytes.insert(index, byte);
    bytes
}

/// What `is_expired` must say, derived from `expires_in` as documented.
fn expected_is_expired(token: &str, now: i64) -> bool {
    match expires_in(token, now) {
        Ok(Some(left)) => left <= 0,
        Ok(None) => false,
        Err(_) => true,
    }
}

/// Runs every public entry point on `input`: none may panic, none may verify.
fn assert_total(input: &str) -> Result<(), TestCaseError> {
    prop_assert!(verify::<Value>(input, &*KEY_SET, &validation(), NOW).is_err());
    prop_assert!(verify::<Value>(input, &HS256.key, &validation(), NOW).is_err());
    prop_assert!(verify::<Value>(input, &EDDSA.key, &validation(), NOW).is_err());
    let _ = decode_unverified::<Value>(input);
    let _ = decode_unverified::<Claims>(input);
    prop_assert_eq!(is_expired(input, NOW), expected_is_expired(input, NOW));
    prop_assert_eq!(
        is_expired(input, i64::MIN),
        expected_is_expired(input, i64::MIN)
    );
    prop_assert_eq!(
        is_expired(input, i64::MAX),
        expected_is_expired(input, i64::MAX)
    );
    Ok(())
}

/// JSON-ish text: often valid objects with registered claims of every type, sometimes not JSON at all.
fn json_ish() -> impl Strategy<Value = String> {
    let value = r#"(-?[0-9]{1,20}(\.[0-9]{1,3})?(e[0-9]{1,3})?|"[A-Za-z0-9+/=:.]{0,12}"|true|false|null|\[("[a-z:/.]{0,8}",?){0,3}\]|\{\})"#;
    let member = format!(r#""(exp|nbf|iat|iss|aud|sub|jti|sid|alg|kid|typ|crit)":{value}"#);
    prop_oneof![
        proptest::string::string_regex(&format!(r"\{{({member},){{0,6}}({member})?\}}")).unwrap(),
        proptest::string::string_regex(r#"[\[\]{}",:0-9a-z ]{0,40}"#).unwrap(),
        any::<String>(),
    ]
}

#[test]
fn the_property_fixtures_verify_unmutated() {
    for fixture in [&*HS256, &*EDDSA] {
        let claims: Value = verify(&fixture.token, &fixture.key, &validation(), NOW).unwrap();
        assert_eq!(claims["sub"], "user-4711");
    }
}

#[test]
fn flipping_each_bit_of_every_byte_never_verifies() {
    for fixture in [&*HS256, &*EDDSA] {
        for index in 0..fixture.token.len() {
            for bit in 0..8 {
                assert_refused(fixture, &flipped(&fixture.token, index, bit)).unwrap();
            }
        }
    }
}

#[test]
fn truncating_at_every_position_never_verifies() {
    for fixture in [&*HS256, &*EDDSA] {
        for len in 0..fixture.token.len() {
            assert_refused(fixture, &fixture.token.as_bytes()[..len]).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn flipping_any_bit_of_an_hs256_token_never_verifies(index in any::<Index>(), bit in 0u8..8) {
        let token = &HS256.token;
        assert_refused(&HS256, &flipped(token, index.index(token.len()), bit))?;
    }

    #[test]
    fn flipping_any_bit_of_an_eddsa_token_never_verifies(index in any::<Index>(), bit in 0u8..8) {
        let token = &EDDSA.token;
        assert_refused(&EDDSA, &flipped(token, index.index(token.len()), bit))?;
    }

    #[test]
    fn truncating_an_hs256_token_anywhere_never_verifies(index in any::<Index>()) {
        let token = &HS256.token;
        assert_refused(&HS256, &token.as_bytes()[..index.index(token.len())])?;
    }

    #[test]
    fn truncating_an_eddsa_token_anywhere_never_verifies(index in any::<Index>()) {
        let token = &EDDSA.token;
        assert_refused(&EDDSA, &token.as_bytes()[..index.index(token.len())])?;
    }

    #[test]
    fn inserting_any_byte_anywhere_in_an_hs256_token_never_verifies(index in any::<Index>(), byte in any::<u8>()) {
        let token = &HS256.token;
        assert_refused(&HS256, &inserted(token, index.index(token.len() + 1), byte))?;
    }

    #[test]
    fn inserting_any_byte_anywhere_in_an_eddsa_token_never_verifies(index in any::<Index>(), byte in any::<u8>()) {
        let token = &EDDSA.token;
        assert_refused(&EDDSA, &inserted(token, index.index(token.len() + 1), byte))?;
    }

    #[test]
    fn arbitrary_strings_never_panic_and_never_verify(input in any::<String>()) {
        assert_total(&input)?;
    }

    #[test]
    fn arbitrary_base64url_three_part_strings_never_panic_and_never_verify(
        input in r"[A-Za-z0-9_-]{0,60}\.[A-Za-z0-9_-]{0,200}\.[A-Za-z0-9_-]{0,90}"
    ) {
        assert_total(&input)?;
    }

    #[test]
    fn canonically_encoded_json_ish_parts_never_panic_and_never_verify(
        header in json_ish(), payload in json_ish(), signature in proptest::collection::vec(any::<u8>(), 0..80)
    ) {
        assert_total(&format!("{}.{}.{}", b64(header), b64(payload), b64(signature)))?;
    }

    /// Correctly signed but arbitrary claims reach claim validation; whatever
    /// it decides, a token it accepts has an unexpired `exp` the peek functions agree on.
    #[test]
    fn correctly_signed_arbitrary_claims_never_panic_and_agree_with_the_peek_functions(payload in json_ish()) {
        let token = hs256_raw(r#"{"alg":"HS256","kid":"k1"}"#, &payload);
        let verified = verify::<Value>(&token, &*KEY_SET, &authgate_jwt::Validation::new(), NOW);
        let _ = decode_unverified::<Claims>(&token);
        prop_assert_eq!(is_expired(&token, NOW), expected_is_expired(&token, NOW));
        if verified.is_ok() {
            let left = expires_in(&token, NOW);
            prop_assert!(matches!(left, Ok(Some(l)) if l > -DEFAULT_LEEWAY), "{:?} for {}", left, payload);
            prop_assert!(decode_unverified::<Value>(&token).is_ok());
        }
    }
}
