//! Interoperability with another implementation, the `jsonwebtoken` crate:
//! for every algorithm both support, tokens and keys cross in both directions.

use std::time::{SystemTime, UNIX_EPOCH};

use authgate_jwt::{Algorithm, JwkSet, KeySet, SigningKey, VerifyingKey, sign, verify};
use jsonwebtoken as jwt;
use serde_json::Value;

use crate::support::{AUD, ISS, claims_at, signing_key, validation};

/// Every algorithm jsonwebtoken 11 and authgate-jwt both implement (not ES512).
const SHARED: [Algorithm; 12] = [
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// jsonwebtoken reads the system clock, so these tests use it too.
fn system_now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

fn their_alg(alg: Algorithm) -> jwt::Algorithm {
    alg.as_str().parse().unwrap()
}

fn is_hmac(alg: Algorithm) -> bool {
    alg.is_symmetric()
}

/// jsonwebtoken's validation, as strict as it goes: iss, aud, exp, nbf all required and checked.
fn their_validation(alg: Algorithm) -> jwt::Validation {
    let mut v = jwt::Validation::new(their_alg(alg));
    v.set_issuer(&[ISS]);
    v.set_audience(&[AUD]);
    v.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    v.validate_nbf = true;
    v
}

/// An HMAC secret of the hash's length.
fn secret(alg: Algorithm) -> Vec<u8> {
    let len = match alg {
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        _ => 32,
    };
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

/// Our signing key for `alg` (from [`secret`] for HMAC), with a kid.
fn our_key(alg: Algorithm) -> SigningKey {
    let key = if is_hmac(alg) {
        SigningKey::from_secret(alg, &secret(alg)).unwrap()
    } else {
        signing_key(alg)
    };
    key.with_kid(format!("ours-{alg}"))
}

/// jsonwebtoken's decoding key for our public key, read from our PEM export.
fn their_decoding_key_from_pem(alg: Algorithm, key: &SigningKey) -> jwt::DecodingKey {
    if is_hmac(alg) {
        return jwt::DecodingKey::from_secret(&secret(alg));
    }
    let pem = key.verifying_key().to_public_key_pem().unwrap();
    match alg {
        Algorithm::ES256 | Algorithm::ES384 => jwt::DecodingKey::from_ec_pem(pem.as_bytes()),
        Algorithm::EdDSA => jwt::DecodingKey::from_ed_pem(pem.as_bytes()),
        _ => jwt::DecodingKey::from_rsa_pem(pem.as_bytes()),
    }
    .unwrap()
}

/// jsonwebtoken's encoding key for our private key, read from our PKCS#8 PEM export.
fn their_encoding_key(alg: Algorithm, key: &SigningKey) -> jwt::EncodingKey {
    if is_hmac(alg) {
        return jwt::EncodingKey::from_secret(&key.to_secret_bytes().unwrap());
    }
    let pem = key.to_pkcs8_pem().unwrap();
    match alg {
        Algorithm::ES256 | Algorithm::ES384 => jwt::EncodingKey::from_ec_pem(pem.as_bytes()),
        Algorithm::EdDSA => jwt::EncodingKey::from_ed_pem(pem.as_bytes()),
        _ => jwt::EncodingKey::from_rsa_pem(pem.as_bytes()),
    }
    .unwrap()
}

/// A token jsonwebtoken signs for `alg` with `key`, naming `kid`.
fn their_token(alg: Algorithm, key: &jwt::EncodingKey, kid: &str, claims: &Value) -> String {
    let mut header = jwt::Header::new(their_alg(alg));
    header.kid = Some(kid.to_owned());
    jwt::encode(&header, claims, key).unwrap()
}

/// Checks that we read jsonwebtoken's token as the claims it was given.
fn assert_same_claims(ours: &Value, original: &Value) {
    assert_eq!(ours, original);
}

#[test]
fn tokens_we_sign_verify_in_jsonwebtoken_with_our_pem_public_key() {
    let now = system_now();
    for alg in SHARED {
        let key = our_key(alg);
        let claims = claims_at(now);
        let token = sign(&key, Some("JWT"), &claims).unwrap();
        let decoded = jwt::decode::<Value>(
            &token,
            &their_decoding_key_from_pem(alg, &key),
            &their_validation(alg),
        )
        .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(decoded.claims, claims, "{alg}");
        assert_eq!(decoded.header.alg, their_alg(alg));
        assert_eq!(decoded.header.kid, key.kid().map(str::to_owned));
        assert_eq!(decoded.header.typ.as_deref(), Some("JWT"));
    }
}

#[test]
fn tokens_we_sign_verify_in_jsonwebtoken_with_our_exported_jwk() {
    let now = system_now();
    for alg in SHARED.into_iter().filter(|a| !is_hmac(*a)) {
        let key = our_key(alg);
        let exported = serde_json::to_string(&key.verifying_key().to_jwk().unwrap()).unwrap();
        let their_jwk: jwt::jwk::Jwk = serde_json::from_str(&exported).unwrap();
        assert_eq!(their_jwk.common.key_id, key.kid().map(str::to_owned));
        let decoding = jwt::DecodingKey::from_jwk(&their_jwk).unwrap();

        let claims = claims_at(now);
        let token = sign(&key, Some("JWT"), &claims).unwrap();
        let decoded = jwt::decode::<Value>(&token, &decoding, &their_validation(alg))
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(decoded.claims, claims, "{alg}");
    }
}

#[test]
fn our_jwk_thumbprints_equal_jsonwebtokens() {
    for alg in SHARED.into_iter().filter(|a| !is_hmac(*a)) {
        let key = signing_key(alg);
        let exported = serde_json::to_string(&key.verifying_key().to_jwk().unwrap()).unwrap();
        let their_jwk: jwt::jwk::Jwk = serde_json::from_str(&exported).unwrap();
        let theirs = their_jwk
            .thumbprint(jwt::jwk::ThumbprintHash::SHA256)
            .unwrap();
        assert_eq!(key.verifying_key().thumbprint().unwrap(), theirs, "{alg}");
        // An asymmetric key's default kid is its thumbprint.
        assert_eq!(key.kid(), Some(theirs.as_str()), "{alg}");
    }
}

#[test]
fn tokens_jsonwebtoken_signs_with_our_pkcs8_export_verify_in_ours() {
    let now = system_now();
    for alg in SHARED {
        let key = our_key(alg);
        let claims = claims_at(now);
        let token = their_token(
            alg,
            &their_encoding_key(alg, &key),
            key.kid().unwrap(),
            &claims,
        );
        let verified: Value = verify(
            &token,
            key.verifying_key(),
            &validation().typ("JWT").require("sid"),
            now,
        )
        .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_same_claims(&verified, &claims);
        assert_eq!(verified["roles"][1], "billing");
    }
}

#[test]
fn tokens_jsonwebtoken_signs_for_another_audience_are_refused_by_ours() {
    let now = system_now();
    for alg in [Algorithm::HS256, Algorithm::ES256, Algorithm::EdDSA] {
        let key = our_key(alg);
        let mut claims = claims_at(now);
        claims["aud"] = "https://other.example".into();
        let token = their_token(
            alg,
            &their_encoding_key(alg, &key),
            key.kid().unwrap(),
            &claims,
        );
        let result = verify::<Value>(&token, key.verifying_key(), &validation(), now);
        assert_eq!(
            result.unwrap_err(),
            authgate_jwt::Error::InvalidAudience,
            "{alg}"
        );
    }
}

/// jsonwebtoken builds the JWK from its own encoding key; we import it through
/// `from_jwk` and through a JWKS, and verify the tokens it signs (a JWKS never
/// brings in shared secrets).
#[test]
fn jwks_jsonwebtoken_exports_import_into_ours_and_verify_its_tokens() {
    let now = system_now();
    let mut their_set = jwt::jwk::JwkSet { keys: Vec::new() };
    let mut tokens = Vec::new();
    for alg in SHARED {
        let encoding = their_encoding_key(alg, &our_key(alg));
        let mut their_jwk = jwt::jwk::Jwk::from_encoding_key(&encoding, their_alg(alg)).unwrap();
        let kid = format!("theirs-{alg}");
        their_jwk.common.key_id = Some(kid.clone());
        their_jwk.common.public_key_use = Some(jwt::jwk::PublicKeyUse::Signature);

        let json = serde_json::to_value(&their_jwk).unwrap();
        let ours = VerifyingKey::from_jwk(&serde_json::from_value(json).unwrap())
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(ours.algorithm(), alg);
        assert_eq!(ours.kid(), Some(kid.as_str()));

        let claims = claims_at(now);
        let token = their_token(alg, &encoding, &kid, &claims);
        let verified: Value =
            verify(&token, &ours, &validation(), now).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_same_claims(&verified, &claims);
        their_set.keys.push(their_jwk);
        tokens.push((alg, token, claims));
    }

    let document = serde_json::to_string(&their_set).unwrap();
    let set = KeySet::from_jwks(&serde_json::from_str::<JwkSet>(&document).unwrap()).unwrap();
    // Shared secrets are never imported from a JWKS (a public document), so
    // their tokens find no key; every asymmetric key is imported.
    let asymmetric = SHARED.iter().filter(|a| !a.is_symmetric()).count();
    assert_eq!(set.len(), asymmetric);
    for (alg, token, claims) in tokens {
        let result = verify::<Value>(&token, &set, &validation(), now);
        if alg.is_symmetric() {
            assert_eq!(
                result.unwrap_err(),
                authgate_jwt::Error::UnknownKey,
                "{alg}"
            );
        } else {
            assert_same_claims(&result.unwrap_or_else(|e| panic!("{alg}: {e}")), &claims);
        }
    }
}

#[test]
fn our_published_jwks_is_read_by_jsonwebtoken_without_the_hmac_keys() {
    let mut set = KeySet::new();
    for alg in SHARED {
        set.insert(our_key(alg).verifying_key().clone()).unwrap();
    }
    let document = serde_json::to_string(&set.to_jwks()).unwrap();
    let theirs: jwt::jwk::JwkSet = serde_json::from_str(&document).unwrap();
    assert_eq!(theirs.keys.len(), SHARED.len() - 3);
    for alg in SHARED {
        let found = theirs.find(&format!("ours-{alg}"));
        assert_eq!(found.is_some(), !is_hmac(alg), "{alg}");
        if let Some(jwk) = found {
            assert_eq!(
                jwk.common.key_algorithm,
                Some(alg.as_str().parse().unwrap())
            );
            assert!(jwt::DecodingKey::from_jwk(jwk).is_ok(), "{alg}");
        }
    }
}
