//! Header and key rejections: `UnsupportedAlgorithm`, `CriticalHeader`,
//! `AlgorithmMismatch` (including the classic RSA/HMAC confusion),
//! `MissingKeyId`, `UnknownKey` and `InvalidSignature`.

use authgate_jwt::{Algorithm, Error, KeySet, SigningKey, sign, verify};
use serde_json::Value;

use crate::support::{
    NOW, b64, claims_at, hs256_key, hs256_raw, other_signing_key, signing_key, validation,
};

fn check(token: &str, keys: &dyn authgate_jwt::KeyResolver) -> Result<Value, Error> {
    verify(token, keys, &validation(), NOW)
}

fn payload() -> String {
    claims_at(NOW).to_string()
}

#[test]
fn alg_none_with_an_empty_signature_is_unsupported() {
    for alg in ["none", "None", "NONE", "nOnE"] {
        let token = format!(
            "{}.{}.",
            b64(format!(r#"{{"alg":"{alg}"}}"#)),
            b64(payload())
        );
        assert_eq!(
            check(&token, &hs256_key()).unwrap_err(),
            Error::UnsupportedAlgorithm,
            "{alg}"
        );
    }
}

#[test]
fn alg_none_is_unsupported_even_with_a_valid_signature_attached() {
    let valid = hs256_raw(r#"{"alg":"HS256"}"#, &payload());
    let signature = valid.rsplit_once('.').unwrap().1;
    let token = format!(
        "{}.{}.{signature}",
        b64(r#"{"alg":"none"}"#),
        b64(payload())
    );
    assert_eq!(
        check(&token, &hs256_key()).unwrap_err(),
        Error::UnsupportedAlgorithm
    );
}

#[test]
fn unknown_or_miscased_algorithms_are_unsupported() {
    for alg in ["HS999", "hs256", "ES256K", "Ed25519", "RSA-OAEP", ""] {
        let token = hs256_raw(&format!(r#"{{"alg":"{alg}"}}"#), &payload());
        assert_eq!(
            check(&token, &hs256_key()).unwrap_err(),
            Error::UnsupportedAlgorithm,
            "{alg}"
        );
    }
}

#[test]
fn a_crit_header_is_refused_even_when_correctly_signed() {
    for crit in [r#"["exp"]"#, r#"["b64"]"#, "[]"] {
        let token = hs256_raw(
            &format!(r#"{{"alg":"HS256","b64":false,"crit":{crit}}}"#),
            &payload(),
        );
        assert_eq!(
            check(&token, &hs256_key()).unwrap_err(),
            Error::CriticalHeader,
            "{crit}"
        );
    }
}

/// RFC 7515 §4.1.11: `crit`, when present, is a non-empty array of names.
/// `"crit": null` is neither absent nor an array; it must not slip through.
#[test]
fn a_crit_header_set_to_null_is_refused() {
    let token = hs256_raw(r#"{"alg":"HS256","crit":null}"#, &payload());
    let result = check(&token, &hs256_key());
    assert!(
        matches!(result, Err(Error::CriticalHeader | Error::Malformed(_))),
        "{result:?}"
    );
}

/// The classic confusion: an HS256 token whose HMAC key is the RSA public key
/// PEM, which any verifier that lets the token pick the algorithm would accept.
#[test]
fn an_hs256_token_keyed_with_the_rsa_public_key_pem_is_refused_by_the_rs256_key() {
    let rsa = signing_key(Algorithm::RS256);
    let public = rsa.verifying_key();
    let pem = public.to_public_key_pem().unwrap();
    for secret in [pem.as_bytes().to_vec(), public.to_public_key_der().unwrap()] {
        let forger = SigningKey::from_secret(Algorithm::HS256, &secret)
            .unwrap()
            .with_kid(rsa.kid().unwrap());
        let token = sign(&forger, None, &claims_at(NOW)).unwrap();
        // The forgery is sound HS256 under the PEM bytes: only pinning the key's algorithm stops it.
        assert!(check(&token, forger.verifying_key()).is_ok());
        assert_eq!(check(&token, public).unwrap_err(), Error::AlgorithmMismatch);

        let mut set = KeySet::new();
        set.insert(public.clone()).unwrap();
        assert_eq!(check(&token, &set).unwrap_err(), Error::AlgorithmMismatch);
    }
}

#[test]
fn an_rs256_key_set_refuses_an_hs256_token_naming_its_kid() {
    let rsa = signing_key(Algorithm::RS256);
    let mut set = KeySet::new();
    set.insert(rsa.verifying_key().clone()).unwrap();
    let kid = rsa.kid().unwrap();
    let token = hs256_raw(&format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#), &payload());
    assert_eq!(check(&token, &set).unwrap_err(), Error::AlgorithmMismatch);
}

#[test]
fn a_key_refuses_tokens_of_every_other_algorithm_of_its_family() {
    let rsa = signing_key(Algorithm::RS256);
    for other in [Algorithm::RS384, Algorithm::RS512, Algorithm::PS256] {
        let token = sign(&signing_key(other), None, &claims_at(NOW)).unwrap();
        // Same RSA key material, other algorithm: refused before the signature is looked at.
        let key = rsa
            .verifying_key()
            .clone()
            .with_kid(signing_key(other).kid().unwrap());
        assert_eq!(
            check(&token, &key).unwrap_err(),
            Error::AlgorithmMismatch,
            "{other}"
        );
    }
    let es384 = SigningKey::generate(Algorithm::ES384).unwrap();
    let token = sign(&es384, None, &claims_at(NOW)).unwrap();
    let es256 = SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .with_kid(es384.kid().unwrap());
    assert_eq!(
        check(&token, es256.verifying_key()).unwrap_err(),
        Error::AlgorithmMismatch
    );
}

#[test]
fn a_key_set_refuses_a_token_without_kid() {
    let mut set = KeySet::new();
    set.insert(hs256_key().with_kid("k1")).unwrap();
    let token = hs256_raw(r#"{"alg":"HS256"}"#, &payload());
    assert_eq!(check(&token, &set).unwrap_err(), Error::MissingKeyId);
    // The same bytes with the kid verify, so nothing else was wrong.
    let token = hs256_raw(r#"{"alg":"HS256","kid":"k1"}"#, &payload());
    assert!(check(&token, &set).is_ok());
}

#[test]
fn a_key_set_refuses_a_token_naming_an_unknown_kid() {
    let mut set = KeySet::new();
    set.insert(hs256_key().with_kid("k1")).unwrap();
    for kid in ["k2", "K1", "k1 ", ""] {
        let token = hs256_raw(&format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#), &payload());
        assert_eq!(
            check(&token, &set).unwrap_err(),
            Error::UnknownKey,
            "{kid:?}"
        );
    }
}

#[test]
fn a_removed_key_is_unknown() {
    let mut set = KeySet::new();
    set.insert(hs256_key().with_kid("k1")).unwrap();
    let token = hs256_raw(r#"{"alg":"HS256","kid":"k1"}"#, &payload());
    assert!(check(&token, &set).is_ok());
    assert!(set.remove("k1").is_some());
    assert_eq!(check(&token, &set).unwrap_err(), Error::UnknownKey);
}

#[test]
fn a_lone_key_with_a_kid_refuses_a_token_naming_another_kid() {
    let key = hs256_key().with_kid("k1");
    let token = hs256_raw(r#"{"alg":"HS256","kid":"k2"}"#, &payload());
    assert_eq!(check(&token, &key).unwrap_err(), Error::UnknownKey);
}

#[test]
fn a_lone_key_accepts_tokens_without_kid_and_a_lone_key_without_kid_accepts_any_kid() {
    let without_kid = hs256_raw(r#"{"alg":"HS256"}"#, &payload());
    assert!(check(&without_kid, &hs256_key().with_kid("k1")).is_ok());
    let with_kid = hs256_raw(r#"{"alg":"HS256","kid":"anything"}"#, &payload());
    assert!(check(&with_kid, &hs256_key()).is_ok());
}

#[test]
fn a_token_signed_by_another_key_of_the_same_algorithm_is_an_invalid_signature() {
    for alg in [
        Algorithm::HS256,
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ] {
        let signer = signing_key(alg).with_kid("shared");
        let other = other_signing_key(alg).with_kid("shared");
        let token = sign(&signer, None, &claims_at(NOW)).unwrap();
        assert!(check(&token, signer.verifying_key()).is_ok(), "{alg}");
        assert_eq!(
            check(&token, other.verifying_key()).unwrap_err(),
            Error::InvalidSignature,
            "{alg}"
        );
    }
}

#[test]
fn signatures_of_the_wrong_length_are_invalid_or_malformed_never_accepted() {
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    let token = sign(&key, None, &claims_at(NOW)).unwrap();
    let (input, signature) = token.rsplit_once('.').unwrap();
    let signature = crate::support::unb64(signature);
    assert_eq!(
        signature.len(),
        64,
        "ES256 signatures are the fixed r||s form"
    );
    for len in [0, 1, 32, 63] {
        let forged = format!("{input}.{}", b64(&signature[..len]));
        assert_eq!(
            check(&forged, key.verifying_key()).unwrap_err(),
            Error::InvalidSignature,
            "{len}"
        );
    }
    let mut longer = signature.clone();
    longer.push(0);
    let forged = format!("{input}.{}", b64(&longer));
    assert_eq!(
        check(&forged, key.verifying_key()).unwrap_err(),
        Error::InvalidSignature
    );
    // A signature far longer than any key's is refused, whichever way.
    let huge = format!("{input}.{}", b64(vec![0u8; 2048]));
    let result = check(&huge, key.verifying_key());
    assert!(
        matches!(result, Err(Error::InvalidSignature | Error::Malformed(_))),
        "{result:?}"
    );
}

#[test]
fn changing_the_claims_after_signing_is_an_invalid_signature() {
    let key = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let token = sign(&key, Some("at+jwt"), &claims_at(NOW)).unwrap();
    let mut parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value = claims_at(NOW);
    claims["roles"] = serde_json::json!(["admin", "billing", "root"]);
    let tampered = b64(claims.to_string());
    parts[1] = &tampered;
    assert_eq!(
        check(&parts.join("."), key.verifying_key()).unwrap_err(),
        Error::InvalidSignature
    );
}
