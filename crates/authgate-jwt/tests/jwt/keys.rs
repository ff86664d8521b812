//! Keys that must be refused or kept secret: weak RSA keys, short HMAC
//! secrets, shared secrets never published and never printed.

use authgate_jwt::{Algorithm, Error, JwkSet, KeySet, SigningKey, VerifyingKey};
use serde_json::json;

use crate::support::{b64, jwk, jwks, signing_key, unb64};

/// A 1024-bit modulus: 128 bytes, top bit set, odd.
fn modulus_1024() -> Vec<u8> {
    let mut n: Vec<u8> = (0..128u32).map(|i| (i * 37 + 11) as u8).collect();
    n[0] |= 0x80;
    n[127] |= 1;
    n
}

/// One DER tag-length-value.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = vec![tag];
    match len {
        0..0x80 => out.push(len as u8),
        0x80..0x100 => out.extend([0x81, len as u8]),
        _ => out.extend([0x82, (len >> 8) as u8, len as u8]),
    }
    out.extend_from_slice(content);
    out
}

/// A SubjectPublicKeyInfo for the RSA key (`n`, `e`), written independently of the crate.
fn rsa_spki(n: &[u8], e: &[u8]) -> Vec<u8> {
    let integer = |magnitude: &[u8]| {
        let mut bytes = Vec::new();
        if magnitude[0] & 0x80 != 0 {
            bytes.push(0);
        }
        bytes.extend_from_slice(magnitude);
        der(0x02, &bytes)
    };
    let rsa_public_key = der(0x30, &[integer(n), integer(e)].concat());
    let rsa_encryption = der(
        0x06,
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
    );
    let algorithm = der(0x30, &[rsa_encryption, vec![0x05, 0x00]].concat());
    let bits = der(0x03, &[vec![0], rsa_public_key].concat());
    der(0x30, &[algorithm, bits].concat())
}

#[test]
fn the_test_spki_writer_agrees_with_the_crate_on_a_2048_bit_key() {
    let key = signing_key(Algorithm::RS256);
    let public = key.verifying_key().to_jwk().unwrap();
    let spki = rsa_spki(
        &unb64(public.n.as_deref().unwrap()),
        &unb64(public.e.as_deref().unwrap()),
    );
    assert_eq!(spki, key.verifying_key().to_public_key_der().unwrap());
    assert!(VerifyingKey::from_public_key_der(Algorithm::RS256, &spki).is_ok());
}

#[test]
fn an_rsa_jwk_of_1024_bits_is_refused() {
    let weak =
        json!({"kty": "RSA", "alg": "RS256", "kid": "weak", "n": b64(modulus_1024()), "e": "AQAB"});
    assert!(matches!(
        VerifyingKey::from_jwk(&jwk(weak.clone())),
        Err(Error::InvalidKey(_))
    ));
    assert!(matches!(
        KeySet::from_jwks(&jwks(json!([weak]))),
        Err(Error::InvalidKey(_))
    ));
}

/// RFC 7518 §6.3.1.1 forbids leading zeros in `n`; zero-padding a 1024-bit
/// modulus to 256 bytes must not make it pass for a 2048-bit key.
#[test]
fn an_rsa_jwk_of_1024_bits_zero_padded_to_256_bytes_is_refused() {
    let mut n = vec![0u8; 128];
    n.extend(modulus_1024());
    let weak = json!({"kty": "RSA", "alg": "RS256", "n": b64(n), "e": "AQAB"});
    let result = VerifyingKey::from_jwk(&jwk(weak));
    assert!(matches!(result, Err(Error::InvalidKey(_))), "{result:?}");
}

#[test]
fn an_rsa_public_key_pem_of_1024_bits_is_refused() {
    let spki = rsa_spki(&modulus_1024(), &[1, 0, 1]);
    for alg in [Algorithm::RS256, Algorithm::PS512] {
        let result = VerifyingKey::from_public_key_der(alg, &spki);
        assert!(matches!(result, Err(Error::InvalidKey(_))), "{result:?}");
    }
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        standard_b64(&spki)
    );
    assert!(matches!(
        VerifyingKey::from_public_key_pem(Algorithm::RS256, &pem),
        Err(Error::InvalidKey(_))
    ));
}

fn standard_b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn rsa_keys_can_only_be_generated_at_2048_bits_or_more() {
    for bits in [512, 1024, 2047, 2049] {
        assert!(
            matches!(
                SigningKey::generate_rsa(Algorithm::RS256, bits),
                Err(Error::InvalidKey(_))
            ),
            "{bits}"
        );
    }
    assert!(matches!(
        SigningKey::generate_rsa(Algorithm::ES256, 2048),
        Err(Error::KeyUsage(_))
    ));
}

#[test]
fn hmac_secrets_shorter_than_the_hash_are_refused() {
    for (alg, min) in [
        (Algorithm::HS256, 32),
        (Algorithm::HS384, 48),
        (Algorithm::HS512, 64),
    ] {
        let short = vec![7u8; min - 1];
        let enough = vec![7u8; min];
        assert!(
            matches!(
                SigningKey::from_secret(alg, &short),
                Err(Error::InvalidKey(_))
            ),
            "{alg}"
        );
        assert!(
            matches!(
                VerifyingKey::from_secret(alg, &short),
                Err(Error::InvalidKey(_))
            ),
            "{alg}"
        );
        let oct = jwk(json!({"kty": "oct", "alg": alg.as_str(), "k": b64(&short)}));
        assert!(
            matches!(VerifyingKey::from_jwk(&oct), Err(Error::InvalidKey(_))),
            "{alg}"
        );
        assert!(SigningKey::from_secret(alg, &enough).is_ok(), "{alg}");
        assert!(VerifyingKey::from_secret(alg, &enough).is_ok(), "{alg}");
    }
    assert!(SigningKey::from_secret(Algorithm::HS256, b"").is_err());
}

#[test]
fn secrets_are_only_for_hmac_algorithms() {
    assert!(matches!(
        SigningKey::from_secret(Algorithm::RS256, &[1; 64]),
        Err(Error::KeyUsage(_))
    ));
    assert!(matches!(
        VerifyingKey::from_secret(Algorithm::EdDSA, &[1; 64]),
        Err(Error::KeyUsage(_))
    ));
}

#[test]
fn hmac_keys_never_appear_in_a_published_jwks() {
    let mut set = KeySet::new();
    set.insert(
        VerifyingKey::from_secret(Algorithm::HS256, &[9; 32])
            .unwrap()
            .with_kid("hmac"),
    )
    .unwrap();
    let eddsa = SigningKey::generate(Algorithm::EdDSA).unwrap();
    set.insert(eddsa.verifying_key().clone()).unwrap();
    assert_eq!(set.len(), 2);

    let published = set.to_jwks();
    assert_eq!(published.keys.len(), 1);
    assert_eq!(published.keys[0].kid.as_deref(), eddsa.kid());
    let document = serde_json::to_string(&published).unwrap();
    assert!(!document.contains("\"k\""), "{document}");
    assert!(!document.contains("oct"), "{document}");
    assert!(!document.contains("hmac"), "{document}");
}

#[test]
fn an_hmac_key_cannot_be_exported_as_a_public_key() {
    let signing = SigningKey::from_secret(Algorithm::HS512, &[3; 64]).unwrap();
    let key = signing.verifying_key();
    assert!(matches!(key.to_jwk(), Err(Error::KeyUsage(_))));
    assert!(matches!(key.thumbprint(), Err(Error::KeyUsage(_))));
    assert!(matches!(key.to_public_key_pem(), Err(Error::KeyUsage(_))));
    assert!(matches!(signing.to_pkcs8_pem(), Err(Error::KeyUsage(_))));
    assert_eq!(
        signing.kid(),
        None,
        "a thumbprint kid would let anyone test guesses of the secret"
    );
    assert_eq!(signing.to_secret_bytes().unwrap().as_slice(), &[3; 64][..]);
}

#[test]
fn debug_output_never_contains_an_hmac_secret() {
    let secret = b"super-secret-hmac-key-0123456789abcdef";
    let encoded = b64(secret);
    let signing = SigningKey::from_secret(Algorithm::HS256, secret)
        .unwrap()
        .with_kid("k1");
    let verifying = VerifyingKey::from_secret(Algorithm::HS256, secret)
        .unwrap()
        .with_kid("k1");
    let oct = jwk(json!({"kty": "oct", "alg": "HS256", "kid": "k1", "k": encoded}));
    let mut set = KeySet::new();
    set.insert(VerifyingKey::from_jwk(&oct).unwrap()).unwrap();
    let printed = [
        format!("{signing:?}"),
        format!("{signing:#?}"),
        format!("{verifying:?}"),
        format!("{oct:?}"),
        format!("{oct:#?}"),
        format!(
            "{:?}",
            JwkSet {
                keys: vec![oct.clone()]
            }
        ),
        format!("{set:?}"),
    ];
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let decimal = format!("{:?}", &secret[..4])
        .trim_end_matches(']')
        .to_owned();
    for text in printed {
        assert!(
            text.contains("k1"),
            "the Debug output should still identify the key: {text}"
        );
        for needle in [
            "super-secret",
            encoded.as_str(),
            &encoded[..12],
            hex.as_str(),
            decimal.as_str(),
        ] {
            assert!(!text.contains(needle), "{needle:?} leaked in {text}");
        }
    }
}
