//! Key formats: which JWKs a JWKS import keeps, skips or fails on, and
//! round trips through PKCS#8 PEM/DER, SubjectPublicKeyInfo PEM/DER and JWK.

use authgate_jwt::{Algorithm, Error, Jwk, KeySet, SigningKey, VerifyingKey, sign, verify};
use serde_json::{Value, json};

use crate::support::{NOW, b64, claims_at, jwk, jwks, signing_key, validation};

/// Every asymmetric algorithm.
const ASYMMETRIC: [Algorithm; 10] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::ES512,
    Algorithm::EdDSA,
];

#[test]
fn from_jwks_skips_keys_it_cannot_use_and_keeps_the_rest() {
    let eddsa = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let es256 = SigningKey::generate(Algorithm::ES256).unwrap();
    let mut encryption = es256.verifying_key().to_jwk().unwrap();
    encryption.use_ = Some("enc".into());
    encryption.kid = Some("enc-key".into());
    let document = jwks(json!([
        serde_json::to_value(encryption).unwrap(),
        {"kty": "AKP", "alg": "ML-DSA-44", "kid": "post-quantum", "pub": "AAAA"},
        {"kty": "OKP", "crv": "Ed448", "kid": "ed448", "x": b64([1; 57])},
        {"kty": "EC", "crv": "secp256k1", "kid": "k1", "x": b64([1; 32]), "y": b64([2; 32])},
        {"kty": "OKP", "crv": "X25519", "use": "enc", "kid": "x25519", "x": b64([1; 32])},
        serde_json::to_value(eddsa.verifying_key().to_jwk().unwrap()).unwrap(),
    ]));
    let set = KeySet::from_jwks(&document).unwrap();
    assert_eq!(set.len(), 1);
    assert!(set.get(eddsa.kid().unwrap()).is_some());
    assert!(set.get("enc-key").is_none());

    let token = sign(&eddsa, None, &claims_at(NOW)).unwrap();
    assert!(verify::<Value>(&token, &set, &validation(), NOW).is_ok());
}

#[test]
fn from_jwks_errors_on_a_malformed_key_of_a_supported_type() {
    let good = SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .verifying_key()
        .to_jwk()
        .unwrap();
    let broken = [
        json!({"kty": "EC", "crv": "P-256", "kid": "short-x", "x": b64([1; 31]), "y": good.y}),
        json!({"kty": "EC", "crv": "P-256", "kid": "off-curve", "x": b64([1; 32]), "y": b64([2; 32])}),
        json!({"kty": "EC", "crv": "P-256", "kid": "padded", "x": format!("{}=", good.x.clone().unwrap()), "y": good.y}),
        json!({"kty": "OKP", "crv": "Ed25519", "kid": "short-ed", "x": b64([1; 31])}),
        json!({"kty": "RSA", "alg": "RS256", "kid": "no-e", "n": b64([0xc1; 256])}),
        json!({"kty": "EC", "crv": "P-256", "alg": "ES384", "kid": "wrong-curve", "x": good.x, "y": good.y}),
    ];
    for key in broken {
        let document = jwks(json!([serde_json::to_value(&good).unwrap(), key]));
        let result = KeySet::from_jwks(&document);
        assert!(
            matches!(result, Err(Error::InvalidKey(_))),
            "{key}: {:?}",
            result.map(|s| s.len())
        );
    }
}

#[test]
fn jwk_import_honours_use_and_key_ops() {
    let public = SigningKey::generate(Algorithm::EdDSA)
        .unwrap()
        .verifying_key()
        .to_jwk()
        .unwrap();
    let encryption = Jwk {
        use_: Some("enc".into()),
        ..public.clone()
    };
    assert!(matches!(
        VerifyingKey::from_jwk(&encryption),
        Err(Error::KeyUsage(_))
    ));
    let sign_only = Jwk {
        key_ops: Some(vec!["sign".into()]),
        ..public.clone()
    };
    assert!(matches!(
        VerifyingKey::from_jwk(&sign_only),
        Err(Error::KeyUsage(_))
    ));
    let verify_ok = Jwk {
        key_ops: Some(vec!["sign".into(), "verify".into()]),
        ..public
    };
    assert!(VerifyingKey::from_jwk(&verify_ok).is_ok());
}

#[test]
fn rsa_and_oct_jwks_must_name_their_alg_but_curves_imply_it() {
    let rsa = signing_key(Algorithm::PS384)
        .verifying_key()
        .to_jwk()
        .unwrap();
    assert!(matches!(
        VerifyingKey::from_jwk(&Jwk { alg: None, ..rsa }),
        Err(Error::InvalidKey(_))
    ));
    let oct = jwk(json!({"kty": "oct", "k": b64([5; 64])}));
    assert!(matches!(
        VerifyingKey::from_jwk(&oct),
        Err(Error::InvalidKey(_))
    ));
    for alg in [
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::EdDSA,
    ] {
        let public = SigningKey::generate(alg)
            .unwrap()
            .verifying_key()
            .to_jwk()
            .unwrap();
        assert_eq!(
            VerifyingKey::from_jwk(&Jwk {
                alg: None,
                ..public
            })
            .unwrap()
            .algorithm(),
            alg
        );
    }
}

#[test]
fn a_key_set_only_holds_keys_with_a_kid_and_replaces_by_kid() {
    let mut set = KeySet::new();
    let hmac = VerifyingKey::from_secret(Algorithm::HS256, &[1; 32]).unwrap();
    assert_eq!(set.insert(hmac.clone()), Err(Error::MissingKeyId));
    set.insert(hmac.clone().with_kid("a")).unwrap();
    set.insert(
        VerifyingKey::from_secret(Algorithm::HS384, &[1; 48])
            .unwrap()
            .with_kid("a"),
    )
    .unwrap();
    assert_eq!(set.len(), 1);
    assert_eq!(set.get("a").unwrap().algorithm(), Algorithm::HS384);
}

#[test]
fn private_keys_round_trip_through_pkcs8_pem_and_der() {
    for alg in ASYMMETRIC {
        let key = signing_key(alg);
        let pem = key.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{alg}");
        let from_pem =
            SigningKey::from_pkcs8_pem(alg, &pem).unwrap_or_else(|e| panic!("{alg}: {e}"));
        let from_der = SigningKey::from_pkcs8_der(alg, &key.to_pkcs8_der().unwrap()).unwrap();
        for copy in [from_pem, from_der] {
            assert_eq!(copy.kid(), key.kid(), "{alg}");
            assert_eq!(
                copy.verifying_key().to_jwk().unwrap(),
                key.verifying_key().to_jwk().unwrap()
            );
            let token = sign(&copy, None, &claims_at(NOW)).unwrap();
            assert!(
                verify::<Value>(&token, key.verifying_key(), &validation(), NOW).is_ok(),
                "{alg}"
            );
        }
    }
}

#[test]
fn public_keys_round_trip_through_pem_der_and_jwk() {
    for alg in ASYMMETRIC {
        let key = signing_key(alg);
        let token = sign(&key, None, &claims_at(NOW)).unwrap();
        let pem = key.verifying_key().to_public_key_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{alg}");
        let copies = [
            VerifyingKey::from_public_key_pem(alg, &pem).unwrap_or_else(|e| panic!("{alg}: {e}")),
            VerifyingKey::from_public_key_der(
                alg,
                &key.verifying_key().to_public_key_der().unwrap(),
            )
            .unwrap(),
            VerifyingKey::from_jwk(&key.verifying_key().to_jwk().unwrap()).unwrap(),
        ];
        for copy in copies {
            assert_eq!(copy.algorithm(), alg);
            assert_eq!(
                copy.thumbprint().unwrap(),
                key.verifying_key().thumbprint().unwrap(),
                "{alg}"
            );
            assert!(
                verify::<Value>(&token, &copy, &validation(), NOW).is_ok(),
                "{alg}"
            );
        }
        let exported = key.verifying_key().to_jwk().unwrap();
        assert_eq!(exported.use_.as_deref(), Some("sig"));
        assert_eq!(exported.alg.as_deref(), Some(alg.as_str()));
        assert_eq!(exported.kid.as_deref(), key.kid());
        assert_eq!(exported.k, None);
    }
}

#[test]
fn keys_of_another_type_or_curve_than_the_algorithm_are_refused() {
    let p384 = SigningKey::generate(Algorithm::ES384).unwrap();
    let ed = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let p384_der = p384.to_pkcs8_der().unwrap();
    assert!(matches!(
        SigningKey::from_pkcs8_der(Algorithm::ES256, &p384_der),
        Err(Error::InvalidKey(_))
    ));
    assert!(matches!(
        SigningKey::from_pkcs8_der(Algorithm::RS256, &p384_der),
        Err(Error::InvalidKey(_))
    ));
    assert!(matches!(
        SigningKey::from_pkcs8_der(Algorithm::EdDSA, &p384_der),
        Err(Error::InvalidKey(_))
    ));
    assert!(matches!(
        SigningKey::from_pkcs8_der(Algorithm::HS256, &p384_der),
        Err(Error::KeyUsage(_))
    ));

    let p384_public = p384.verifying_key().to_public_key_pem().unwrap();
    assert!(matches!(
        VerifyingKey::from_public_key_pem(Algorithm::ES256, &p384_public),
        Err(Error::InvalidKey(_))
    ));
    let ed_public = ed.verifying_key().to_public_key_pem().unwrap();
    assert!(matches!(
        VerifyingKey::from_public_key_pem(Algorithm::ES256, &ed_public),
        Err(Error::InvalidKey(_))
    ));
    assert!(matches!(
        VerifyingKey::from_public_key_pem(Algorithm::RS256, &ed_public),
        Err(Error::InvalidKey(_))
    ));
}

#[test]
fn a_pem_block_of_the_wrong_kind_is_refused() {
    let key = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let public = key.verifying_key().to_public_key_pem().unwrap();
    let private = key.to_pkcs8_pem().unwrap();
    assert!(matches!(
        SigningKey::from_pkcs8_pem(Algorithm::EdDSA, &public),
        Err(Error::InvalidKey(_))
    ));
    assert!(matches!(
        VerifyingKey::from_public_key_pem(Algorithm::EdDSA, &private),
        Err(Error::InvalidKey(_))
    ));
    assert!(matches!(
        SigningKey::from_pkcs8_pem(Algorithm::EdDSA, "not pem"),
        Err(Error::InvalidKey(_))
    ));
    let truncated = &public[..public.len() / 2];
    assert!(VerifyingKey::from_public_key_pem(Algorithm::EdDSA, truncated).is_err());
}
