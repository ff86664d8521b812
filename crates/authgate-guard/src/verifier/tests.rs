use authgate_jwt::{Algorithm, Error as JwtError, KeySet, SigningKey, sign};
use serde_json::{Value, json};

use super::*;

const ISS: &str = "https://auth.example";
const NOW: i64 = 1_800_000_000;

fn key() -> SigningKey {
    SigningKey::generate(Algorithm::EdDSA).unwrap()
}

fn keyset(keys: &[&SigningKey]) -> KeySet {
    let mut set = KeySet::new();
    for key in keys {
        set.insert(key.verifying_key().clone()).unwrap();
    }
    set
}

fn config() -> VerifierConfig {
    VerifierConfig::new(ISS, "api").audience("authgate")
}

fn verifier(key: &SigningKey) -> Verifier {
    Verifier::new(config(), keyset(&[key])).unwrap()
}

/// Claims valid from `NOW` for 15 minutes; `jti` makes each token distinct.
fn claims(jti: &str) -> Value {
    json!({
        "iss": ISS, "sub": "0193a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b", "aud": "api",
        "exp": NOW + 900, "iat": NOW, "nbf": NOW, "jti": jti,
        "sid": "0193a5b2-8000-7000-8000-000000000001", "roles": ["user"],
    })
}

fn token(key: &SigningKey, claims: &Value) -> String {
    sign(key, Some("at+jwt"), claims).unwrap()
}

fn reason(result: Result<Principal, GuardError>) -> &'static str {
    result.unwrap_err().reason()
}

/// Unpadded base64url, for hand-made tokens.
fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

#[test]
fn a_valid_token_verifies() {
    let key = key();
    let principal = verifier(&key)
        .verify_token(&token(&key, &claims("t1")), NOW)
        .unwrap();
    assert_eq!(principal.subject(), "0193a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b");
    assert_eq!(principal.token_id(), "t1");
    assert!(principal.session_id().is_some());
    assert!(principal.has_role("user"));
}

#[test]
fn a_second_verification_of_the_same_token_is_served_from_the_cache() {
    let key = key();
    let verifier = verifier(&key);
    let token = token(&key, &claims("t1"));
    let first = verifier.verify_token(&token, NOW).unwrap();
    let second = verifier.verify_token(&token, NOW + 1).unwrap();
    let stats = verifier.stats();
    assert_eq!((stats.misses, stats.hits, stats.entries), (1, 1, 1));
    assert!(Arc::ptr_eq(&first.into_claims(), &second.into_claims()));
}

#[test]
fn a_cached_token_stops_verifying_at_exp_plus_leeway() {
    let key = key();
    let verifier = verifier(&key);
    let token = token(&key, &claims("t1"));
    verifier.verify_token(&token, NOW).unwrap();
    assert!(verifier.verify_token(&token, NOW + 900 + 59).is_ok());
    let expired = verifier.verify_token(&token, NOW + 900 + 60);
    assert_eq!(expired, Err(GuardError::InvalidToken(JwtError::Expired)));
    let stats = verifier.stats();
    assert_eq!((stats.misses, stats.hits, stats.entries), (1, 2, 0));
}

#[test]
fn the_cold_path_and_the_cache_agree_on_the_expiry_second() {
    let key = key();
    let verifier = verifier(&key);
    let token = token(&key, &claims("t1"));
    assert_eq!(reason(verifier.verify_token(&token, NOW + 960)), "expired");
    assert_eq!(verifier.stats().misses, 1);
}

#[test]
fn a_cache_hit_rechecks_nbf_when_the_clock_goes_back() {
    let key = key();
    let verifier = verifier(&key);
    let token = token(&key, &claims("t1"));
    verifier.verify_token(&token, NOW).unwrap();
    assert!(verifier.verify_token(&token, NOW - 60).is_ok());
    assert_eq!(
        reason(verifier.verify_token(&token, NOW - 61)),
        "not_yet_valid"
    );
    assert_eq!(verifier.stats().hits, 2);
}

#[test]
fn after_set_keys_without_the_signing_key_a_cached_token_is_rejected() {
    let (old, new) = (key(), key());
    let verifier = Verifier::new(config(), keyset(&[&old])).unwrap();
    let token = token(&old, &claims("t1"));
    verifier.verify_token(&token, NOW).unwrap();
    verifier.set_keys(keyset(&[&new]));
    assert_eq!(verifier.stats().entries, 0);
    assert_eq!(reason(verifier.verify_token(&token, NOW)), "unknown_kid");
}

#[test]
fn a_result_stored_under_the_old_keys_after_set_keys_is_not_served() {
    // A verification that loaded the old keys and stores its result after
    // set_keys cleared the cache: the epoch keeps it from being served.
    let (old, new) = (key(), key());
    let verifier = Verifier::new(config(), keyset(&[&old])).unwrap();
    let token = token(&old, &claims("t1"));
    let principal = verifier.verify_token(&token, NOW).unwrap();
    let old_epoch = verifier.state.load().epoch;
    verifier.set_keys(keyset(&[&new]));
    verifier.cache.insert(
        &token,
        Cached {
            principal,
            epoch: old_epoch,
        },
    );
    assert_eq!(reason(verifier.verify_token(&token, NOW)), "unknown_kid");
}

#[test]
fn adding_a_key_keeps_the_cache() {
    let (current, next) = (key(), key());
    let verifier = Verifier::new(config(), keyset(&[&current])).unwrap();
    let token = token(&current, &claims("t1"));
    verifier.verify_token(&token, NOW).unwrap();
    verifier.set_keys(keyset(&[&current, &next]));
    verifier.verify_token(&token, NOW).unwrap();
    assert_eq!(verifier.stats().hits, 1);
    verifier.set_keys(keyset(&[&current, &next]));
    verifier.verify_token(&token, NOW).unwrap();
    assert_eq!(verifier.stats().hits, 2);
}

#[test]
fn a_kid_rebound_to_another_key_clears_the_cache() {
    let current = key().with_kid("k1");
    let impostor = key().with_kid("k1");
    let verifier = Verifier::new(config(), keyset(&[&current])).unwrap();
    let token = token(&current, &claims("t1"));
    verifier.verify_token(&token, NOW).unwrap();
    verifier.set_keys(keyset(&[&impostor]));
    assert_eq!(reason(verifier.verify_token(&token, NOW)), "bad_signature");
}

#[test]
fn a_key_set_with_an_hmac_key_clears_the_cache_on_every_swap() {
    let hmac = SigningKey::generate(Algorithm::HS256)
        .unwrap()
        .with_kid("h1");
    let verifier = Verifier::new(config(), keyset(&[&hmac])).unwrap();
    let token = token(&hmac, &claims("t1"));
    verifier.verify_token(&token, NOW).unwrap();
    verifier.set_keys(keyset(&[&hmac]));
    assert_eq!(verifier.stats().entries, 0);
    verifier.verify_token(&token, NOW).unwrap();
    assert_eq!(verifier.stats().misses, 2);
}

#[test]
fn a_token_typed_jwt_is_refused() {
    let key = key();
    let token = sign(&key, Some("JWT"), &claims("t1")).unwrap();
    assert_eq!(
        reason(verifier(&key).verify_token(&token, NOW)),
        "wrong_type"
    );
}

#[test]
fn a_token_without_typ_is_refused() {
    let key = key();
    let token = sign(&key, None, &claims("t1")).unwrap();
    assert_eq!(
        reason(verifier(&key).verify_token(&token, NOW)),
        "wrong_type"
    );
}

#[test]
fn a_token_from_another_issuer_is_refused() {
    let key = key();
    let mut claims = claims("t1");
    claims["iss"] = json!("https://evil.example");
    let token = token(&key, &claims);
    assert_eq!(
        reason(verifier(&key).verify_token(&token, NOW)),
        "wrong_issuer"
    );
}

#[test]
fn a_token_for_another_audience_is_refused() {
    let key = key();
    let mut claims = claims("t1");
    claims["aud"] = json!(["billing", "reports"]);
    let token = token(&key, &claims);
    assert_eq!(
        reason(verifier(&key).verify_token(&token, NOW)),
        "wrong_audience"
    );
}

#[test]
fn a_token_for_the_second_accepted_audience_verifies() {
    let key = key();
    let verifier = verifier(&key);
    let mut one = claims("t1");
    one["aud"] = json!("authgate");
    assert!(verifier.verify_token(&token(&key, &one), NOW).is_ok());
    let mut many = claims("t2");
    many["aud"] = json!(["billing", "authgate"]);
    assert!(verifier.verify_token(&token(&key, &many), NOW).is_ok());
}

#[test]
fn alg_none_is_refused() {
    let key = key();
    let kid = key.kid().unwrap();
    let header = json!({"alg": "none", "typ": "at+jwt", "kid": kid}).to_string();
    let payload = claims("t1").to_string();
    let forged = format!("{}.{}.", b64(header.as_bytes()), b64(payload.as_bytes()));
    let result = verifier(&key).verify_token(&forged, NOW);
    assert_eq!(reason(result), "unsupported_algorithm");
}

#[test]
fn a_token_signed_by_an_unknown_key_is_refused() {
    let (trusted, stranger) = (key(), key());
    let token = token(&stranger, &claims("t1"));
    let result = verifier(&trusted).verify_token(&token, NOW);
    assert_eq!(reason(result), "unknown_kid");
}

#[test]
fn a_token_without_kid_is_refused() {
    let hmac = SigningKey::generate(Algorithm::HS256).unwrap();
    let verifier = Verifier::new(config(), keyset(&[&hmac.with_kid("h1")])).unwrap();
    let no_kid = SigningKey::generate(Algorithm::HS256).unwrap();
    let result = verifier.verify_token(&token(&no_kid, &claims("t1")), NOW);
    assert_eq!(reason(result), "missing_kid");
}

#[test]
fn an_expired_token_is_refused() {
    let key = key();
    let mut claims = claims("t1");
    claims["exp"] = json!(NOW - 61);
    let token = token(&key, &claims);
    assert_eq!(reason(verifier(&key).verify_token(&token, NOW)), "expired");
}

#[test]
fn a_token_without_jti_sub_or_iat_is_refused() {
    let key = key();
    let verifier = verifier(&key);
    for claim in ["jti", "sub", "iat"] {
        let mut claims = claims("t1");
        claims.as_object_mut().unwrap().remove(claim);
        let result = verifier.verify_token(&token(&key, &claims), NOW);
        assert_eq!(
            result,
            Err(GuardError::InvalidToken(JwtError::MissingClaim(
                claim.into()
            )))
        );
    }
}

#[test]
fn a_tampered_token_is_refused() {
    let key = key();
    let good = token(&key, &claims("t1"));
    let (signing_input, _) = good.rsplit_once('.').unwrap();
    let other = token(&key, &claims("t2"));
    let (_, other_signature) = other.rsplit_once('.').unwrap();
    let forged = format!("{signing_input}.{other_signature}");
    assert_eq!(
        reason(verifier(&key).verify_token(&forged, NOW)),
        "bad_signature"
    );
}

#[test]
fn failures_are_not_cached() {
    let key = key();
    let verifier = verifier(&key);
    let mut claims = claims("t1");
    claims["aud"] = json!("billing");
    let token = token(&key, &claims);
    assert!(verifier.verify_token(&token, NOW).is_err());
    assert!(verifier.verify_token(&token, NOW).is_err());
    let stats = verifier.stats();
    assert_eq!((stats.misses, stats.hits, stats.entries), (2, 0, 0));
}

#[test]
fn the_cache_never_grows_beyond_its_capacity() {
    let key = key();
    let verifier = Verifier::new(config().cache_capacity(40), keyset(&[&key])).unwrap();
    for n in 0..150 {
        let token = token(&key, &claims(&format!("t{n}")));
        verifier.verify_token(&token, NOW).unwrap();
        assert!(verifier.stats().entries <= 40);
    }
    assert_eq!(verifier.stats().misses, 150);
}

#[test]
fn a_capacity_of_zero_verifies_every_time_in_full() {
    let key = key();
    let verifier = Verifier::new(config().cache_capacity(0), keyset(&[&key])).unwrap();
    let token = token(&key, &claims("t1"));
    let first = verifier.verify_token(&token, NOW).unwrap();
    let second = verifier.verify_token(&token, NOW).unwrap();
    // Both verified and parsed anew (a cache hands out the same claims),
    // and both are the token's.
    assert_eq!(second.token_id(), "t1");
    assert!(!Arc::ptr_eq(&first.into_claims(), &second.into_claims()));
    let stats = verifier.stats();
    assert_eq!((stats.misses, stats.hits, stats.capacity), (2, 0, 0));
}

#[test]
fn an_oversized_token_is_refused_before_the_cache_is_asked() {
    let key = key();
    let verifier = verifier(&key);
    let huge = "a".repeat(8 * 1024 + 1);
    assert_eq!(reason(verifier.verify_token(&huge, NOW)), "too_large");
    assert_eq!(verifier.stats().misses, 0);
}

#[test]
fn authenticate_reads_the_bearer_header() {
    let key = key();
    let verifier = verifier(&key);
    let header = format!("bearer {}", token(&key, &claims("t1")));
    assert!(verifier.authenticate(Some(&header), NOW).is_ok());
    assert_eq!(
        verifier.authenticate(None, NOW),
        Err(GuardError::MissingCredentials)
    );
    assert_eq!(
        verifier.authenticate(Some("Basic YTpi"), NOW),
        Err(GuardError::UnsupportedScheme)
    );
}

#[test]
fn a_config_without_audience_is_refused_at_construction() {
    let mut config = config();
    config.audiences.clear();
    let result = Verifier::new(config, KeySet::new());
    assert!(matches!(result, Err(GuardError::InvalidConfig(_))));
}

#[test]
fn a_verifier_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Verifier>();
}

#[test]
fn debug_output_shows_no_cached_token() {
    let key = key();
    let verifier = verifier(&key);
    let token = token(&key, &claims("t1"));
    verifier.verify_token(&token, NOW).unwrap();
    let (_, signature) = token.rsplit_once('.').unwrap();
    assert!(!format!("{verifier:?}").contains(signature));
}
