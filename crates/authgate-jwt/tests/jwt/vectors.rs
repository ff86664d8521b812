//! Published test vectors: RFC 7515 Appendix A.1–A.3, RFC 8037 Appendix A,
//! RFC 7638 §3.1. Every value below is copied byte for byte from the RFCs.

use authgate_jwt::{Error, SigningKey, Validation, VerifyingKey, decode_unverified, verify};
use serde_json::{Value, json};

use crate::support::{b64, flip_signature_bit, jwk, unb64};

/// The payload of RFC 7515 A.1–A.3: `{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}`.
const RFC7515_PAYLOAD: &str = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
/// The `exp` of that payload.
const RFC7515_EXP: i64 = 1_300_819_380;

/// RFC 7515 A.1.1: the HMAC key as a JWK.
const A1_K: &str =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
/// RFC 7515 A.1.1: header `{"typ":"JWT",\r\n "alg":"HS256"}`.
const A1_HEADER: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9";
const A1_SIGNATURE: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// RFC 7515 A.2.1: the RSA public key.
const A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
/// RFC 7515 A.2.1: header `{"alg":"RS256"}`.
const A2_HEADER: &str = "eyJhbGciOiJSUzI1NiJ9";
const A2_SIGNATURE: &str = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

/// RFC 7515 A.3.1: the P-256 public key.
const A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
/// RFC 7515 A.3.1: header `{"alg":"ES256"}`.
const A3_HEADER: &str = "eyJhbGciOiJFUzI1NiJ9";
const A3_SIGNATURE: &str =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

/// RFC 8037 A.1: the Ed25519 private seed `d` and public key `x`.
const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
/// RFC 8037 A.3: the JWK thumbprint of the A.2 public key.
const RFC8037_THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
/// RFC 8037 A.4: `{"alg":"EdDSA"}` over the payload "Example of Ed25519 signing".
const A4_SIGNING_INPUT: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
const A4_SIGNATURE: &str =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

/// RFC 7638 §3.1: the example RSA key and its thumbprint.
const RFC7638_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
const RFC7638_THUMBPRINT: &str = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

/// A moment before the RFC 7515 tokens expire.
const BEFORE_EXP: i64 = RFC7515_EXP - 3600;

fn token(header: &str, signature: &str) -> String {
    format!("{header}.{RFC7515_PAYLOAD}.{signature}")
}

fn a1_key() -> VerifyingKey {
    // The RFC's JWK has no "alg"; our import refuses oct keys without one, by design.
    VerifyingKey::from_jwk(&jwk(json!({"kty": "oct", "alg": "HS256", "k": A1_K}))).unwrap()
}

fn a2_key() -> VerifyingKey {
    VerifyingKey::from_jwk(&jwk(
        json!({"kty": "RSA", "alg": "RS256", "n": A2_N, "e": "AQAB"}),
    ))
    .unwrap()
}

fn a3_key() -> VerifyingKey {
    VerifyingKey::from_jwk(&jwk(
        json!({"kty": "EC", "crv": "P-256", "x": A3_X, "y": A3_Y}),
    ))
    .unwrap()
}

fn rfc8037_public_key() -> VerifyingKey {
    VerifyingKey::from_jwk(&jwk(
        json!({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X}),
    ))
    .unwrap()
}

fn rfc8037_pkcs8() -> Vec<u8> {
    let mut der = crate::support::ED25519_PKCS8_V1_PREFIX.to_vec();
    der.extend_from_slice(&unb64(RFC8037_D));
    der
}

/// Checks the claims every RFC 7515 example carries.
fn assert_rfc7515_claims(claims: &Value) {
    assert_eq!(claims["iss"], "joe");
    assert_eq!(claims["exp"], RFC7515_EXP);
    assert_eq!(claims["http://example.com/is_root"], Value::Bool(true));
}

#[test]
fn hs256_token_from_rfc7515_a1_verifies() {
    let token = token(A1_HEADER, A1_SIGNATURE);
    let claims: Value =
        verify(&token, &a1_key(), &Validation::new().typ("JWT"), BEFORE_EXP).unwrap();
    assert_rfc7515_claims(&claims);
}

#[test]
fn hs256_token_from_rfc7515_a1_verifies_with_the_key_given_as_raw_secret() {
    let key = VerifyingKey::from_secret(authgate_jwt::Algorithm::HS256, &unb64(A1_K)).unwrap();
    let claims: Value = verify(
        &token(A1_HEADER, A1_SIGNATURE),
        &key,
        &Validation::new(),
        BEFORE_EXP,
    )
    .unwrap();
    assert_rfc7515_claims(&claims);
}

#[test]
fn hs256_token_from_rfc7515_a1_has_the_published_header() {
    let unverified = decode_unverified::<Value>(&token(A1_HEADER, A1_SIGNATURE)).unwrap();
    assert_eq!(unverified.header.alg, "HS256");
    assert_eq!(unverified.header.typ.as_deref(), Some("JWT"));
    assert_eq!(unverified.claims["iss"], "joe");
}

#[test]
fn hs256_token_from_rfc7515_a1_is_expired_after_its_exp() {
    let result = verify::<Value>(
        &token(A1_HEADER, A1_SIGNATURE),
        &a1_key(),
        &Validation::new(),
        RFC7515_EXP + 61,
    );
    assert_eq!(result.unwrap_err(), Error::Expired);
}

#[test]
fn rs256_token_from_rfc7515_a2_verifies() {
    let claims: Value = verify(
        &token(A2_HEADER, A2_SIGNATURE),
        &a2_key(),
        &Validation::new(),
        BEFORE_EXP,
    )
    .unwrap();
    assert_rfc7515_claims(&claims);
}

#[test]
fn es256_token_from_rfc7515_a3_verifies() {
    let claims: Value = verify(
        &token(A3_HEADER, A3_SIGNATURE),
        &a3_key(),
        &Validation::new(),
        BEFORE_EXP,
    )
    .unwrap();
    assert_rfc7515_claims(&claims);
}

#[test]
fn rfc7515_tokens_with_one_signature_bit_flipped_are_invalid_signatures() {
    let cases = [
        (token(A1_HEADER, A1_SIGNATURE), a1_key()),
        (token(A2_HEADER, A2_SIGNATURE), a2_key()),
        (token(A3_HEADER, A3_SIGNATURE), a3_key()),
    ];
    for (token, key) in cases {
        for index in [0, 17, 31] {
            let forged = flip_signature_bit(&token, index, 0x01);
            let result = verify::<Value>(&forged, &key, &Validation::new(), BEFORE_EXP);
            assert_eq!(result.unwrap_err(), Error::InvalidSignature, "{forged}");
        }
    }
}

#[test]
fn rfc7515_tokens_do_not_verify_under_each_others_keys() {
    // The A.2 token under the A.3 key: the header says RS256, the key is ES256.
    let result = verify::<Value>(
        &token(A2_HEADER, A2_SIGNATURE),
        &a3_key(),
        &Validation::new(),
        BEFORE_EXP,
    );
    assert_eq!(result.unwrap_err(), Error::AlgorithmMismatch);
    let result = verify::<Value>(
        &token(A1_HEADER, A1_SIGNATURE),
        &a2_key(),
        &Validation::new(),
        BEFORE_EXP,
    );
    assert_eq!(result.unwrap_err(), Error::AlgorithmMismatch);
}

#[test]
fn ed25519_key_from_the_rfc8037_a1_seed_has_the_published_public_key() {
    let key = SigningKey::from_pkcs8_der(authgate_jwt::Algorithm::EdDSA, &rfc8037_pkcs8()).unwrap();
    let public = key.verifying_key().to_jwk().unwrap();
    assert_eq!(public.kty, "OKP");
    assert_eq!(public.crv.as_deref(), Some("Ed25519"));
    assert_eq!(public.x.as_deref(), Some(RFC8037_X));
}

#[test]
fn ed25519_key_from_rfc8037_gets_the_rfc8037_a3_thumbprint_as_kid() {
    let key = SigningKey::from_pkcs8_der(authgate_jwt::Algorithm::EdDSA, &rfc8037_pkcs8()).unwrap();
    assert_eq!(key.kid(), Some(RFC8037_THUMBPRINT));
    assert_eq!(
        rfc8037_public_key().thumbprint().unwrap(),
        RFC8037_THUMBPRINT
    );
    let public = jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X}));
    assert_eq!(public.thumbprint().unwrap(), RFC8037_THUMBPRINT);
}

/// The A.4 payload is not JSON, so `verify` cannot return it; but claims are
/// parsed only after the signature verifies. `Malformed` for the RFC's bytes
/// against `InvalidSignature` for the same token with one signature bit
/// flipped shows that the RFC's signature passed the Ed25519 check.
#[test]
fn rfc8037_a4_signature_passes_the_signature_check_and_fails_only_as_a_non_json_payload() {
    let key = rfc8037_public_key();
    let compact = format!("{A4_SIGNING_INPUT}.{A4_SIGNATURE}");
    let result = verify::<Value>(&compact, &key, &Validation::new(), 0);
    assert!(matches!(result, Err(Error::Malformed(_))), "{result:?}");

    for index in [0, 31, 63] {
        let forged = flip_signature_bit(&compact, index, 0x80);
        let result = verify::<Value>(&forged, &key, &Validation::new(), 0);
        assert_eq!(result.unwrap_err(), Error::InvalidSignature);
    }
    let other = SigningKey::generate(authgate_jwt::Algorithm::EdDSA).unwrap();
    let result = verify::<Value>(&compact, other.verifying_key(), &Validation::new(), 0);
    assert_eq!(result.unwrap_err(), Error::InvalidSignature);
}

/// `sign` writes JSON claims and a `kid`, so it cannot produce the A.4 bytes.
/// Ed25519 is deterministic, so instead: the reference signer (jsonwebtoken)
/// given the RFC seed reproduces A.4 exactly, and our signer given the same
/// seed writes, over its own signing input, the very bytes the reference does.
#[test]
fn ed25519_signatures_from_the_rfc8037_key_match_the_reference_signer_that_reproduces_a4() {
    let pkcs8 = rfc8037_pkcs8();
    let reference = jsonwebtoken::EncodingKey::from_ed_der(&pkcs8);
    let reference_sign = |input: &str| {
        jsonwebtoken::crypto::sign(input.as_bytes(), &reference, jsonwebtoken::Algorithm::EdDSA)
            .unwrap()
    };
    assert_eq!(reference_sign(A4_SIGNING_INPUT), A4_SIGNATURE);
    assert_eq!(
        A4_SIGNING_INPUT,
        format!(
            "{}.{}",
            b64(r#"{"alg":"EdDSA"}"#),
            b64("Example of Ed25519 signing")
        )
    );

    let key = SigningKey::from_pkcs8_der(authgate_jwt::Algorithm::EdDSA, &pkcs8).unwrap();
    let claims = json!({"sub": "Example of Ed25519 signing", "exp": 2_000_000_000});
    let ours = authgate_jwt::sign(&key, Some("JWT"), &claims).unwrap();
    assert_eq!(
        ours,
        authgate_jwt::sign(&key, Some("JWT"), &claims).unwrap(),
        "Ed25519 is deterministic"
    );
    let (input, signature) = ours.rsplit_once('.').unwrap();
    assert_eq!(signature, reference_sign(input));

    let verified: Value = verify(
        &ours,
        &rfc8037_public_key(),
        &Validation::new(),
        1_900_000_000,
    )
    .unwrap();
    assert_eq!(verified["sub"], "Example of Ed25519 signing");
}

#[test]
fn rsa_key_thumbprint_from_rfc7638_section_3_1_matches() {
    let key = jwk(
        json!({"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}),
    );
    assert_eq!(key.thumbprint().unwrap(), RFC7638_THUMBPRINT);
    let verifying = VerifyingKey::from_jwk(&key).unwrap();
    assert_eq!(verifying.thumbprint().unwrap(), RFC7638_THUMBPRINT);
    assert_eq!(verifying.kid(), Some("2011-04-29"));
}
