//! Headers recognised byte for byte (the ones `sign` writes) and headers
//! parsed: both paths must reach the same verdict on every token.

use authgate_jwt::{Algorithm, Error, KeyResolver, KeySet, sign, verify};
use serde_json::Value;

use crate::support::{NOW, b64, claims_at, hs256_key, hs256_raw, signing_key, validation};

fn part(token: &str, i: usize) -> &str {
    token.split('.').nth(i).unwrap()
}

#[test]
fn headers_sign_writes_are_known_to_the_verifying_key_with_their_typ() {
    for alg in [Algorithm::HS256, Algorithm::ES256, Algorithm::EdDSA] {
        let key = signing_key(alg);
        for typ in [None, Some("JWT"), Some("at+jwt")] {
            let token = sign(&key, typ, &claims_at(NOW)).unwrap();
            let header = part(&token, 0).as_bytes();
            assert_eq!(
                key.verifying_key().header_typ(header),
                Some(typ),
                "{alg:?} {typ:?}"
            );
            let (found, found_typ) = key.verifying_key().resolve_known_header(header).unwrap();
            assert_eq!((found.kid(), found_typ), (key.kid(), typ));
        }
        // A typ sign can write but the key does not precompute: parsed, not known.
        let token = sign(&key, Some("dpop+jwt"), &claims_at(NOW)).unwrap();
        assert_eq!(
            key.verifying_key().header_typ(part(&token, 0).as_bytes()),
            None
        );
    }
}

#[test]
fn a_key_set_knows_each_keys_headers_and_no_others() {
    let (a, b, stranger) = (
        signing_key(Algorithm::EdDSA),
        signing_key(Algorithm::ES256),
        signing_key(Algorithm::EdDSA),
    );
    let mut set = KeySet::new();
    set.insert(a.verifying_key().clone()).unwrap();
    set.insert(b.verifying_key().clone()).unwrap();
    for key in [&a, &b] {
        let token = sign(key, Some("at+jwt"), &claims_at(NOW)).unwrap();
        let (found, _) = set
            .resolve_known_header(part(&token, 0).as_bytes())
            .unwrap();
        assert_eq!(found.kid(), key.kid());
        assert!(verify::<Value>(&token, &set, &validation(), NOW).is_ok());
    }
    let token = sign(&stranger, Some("at+jwt"), &claims_at(NOW)).unwrap();
    assert!(
        set.resolve_known_header(part(&token, 0).as_bytes())
            .is_none()
    );
    assert!(matches!(
        verify::<Value>(&token, &set, &validation(), NOW),
        Err(Error::UnknownKey)
    ));
}

#[test]
fn the_same_header_spelt_otherwise_is_parsed_and_reaches_the_same_verdicts() {
    let key = hs256_key();
    let known = r#"{"alg":"HS256","typ":"at+jwt"}"#;
    let reordered = r#"{"typ":"at+jwt","alg":"HS256"}"#;
    let spaced = r#"{"alg": "HS256", "typ": "at+jwt"}"#;
    assert!(key.header_typ(b64(known).as_bytes()).is_some());
    for header in [reordered, spaced] {
        assert!(key.header_typ(b64(header).as_bytes()).is_none(), "{header}");
    }
    let jwt_validation = validation().typ("JWT");
    for (claims, expect_ok) in [(claims_at(NOW), true), (claims_at(NOW - 3600), false)] {
        let verdicts: Vec<String> = [known, reordered, spaced]
            .iter()
            .map(|header| {
                let token = hs256_raw(header, &claims.to_string());
                let at = verify::<Value>(&token, &key, &validation().typ("at+jwt"), NOW);
                let jwt = verify::<Value>(&token, &key, &jwt_validation, NOW);
                format!("{:?} / {:?}", at.map(|c| c["sub"].clone()), jwt.map(|_| ()))
            })
            .collect();
        assert!(verdicts.iter().all(|v| *v == verdicts[0]), "{verdicts:?}");
        assert_eq!(verdicts[0].starts_with("Ok("), expect_ok, "{verdicts:?}");
        assert!(verdicts[0].ends_with("Err(InvalidType)"), "{verdicts:?}");
    }
}

#[test]
fn a_known_header_with_a_crit_member_added_is_parsed_and_refused() {
    let key = hs256_key();
    let token = hs256_raw(
        r#"{"alg":"HS256","typ":"at+jwt","crit":["exp"]}"#,
        &claims_at(NOW).to_string(),
    );
    assert!(key.header_typ(part(&token, 0).as_bytes()).is_none());
    assert!(matches!(
        verify::<Value>(&token, &key, &validation(), NOW),
        Err(Error::CriticalHeader)
    ));
}
