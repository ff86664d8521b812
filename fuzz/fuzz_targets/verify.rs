//! `verify` must refuse any input it cannot prove valid, and never panic.
//!
//! The first input byte picks the mode, the clock and the leeway; the rest is
//! either a whole token (bit 0 clear) or, since the fuzzer cannot forge
//! signatures, claims text that the harness signs with the HS256 key (bit 0
//! set), so the claim reading and validation behind the signature check are
//! fuzzed too. Every token goes to a lone HS256 key and to an EdDSA key set,
//! each with a strict validation, and is read into two claim types.

#![no_main]

use std::sync::LazyLock;

use authgate_jwt::{
    Algorithm, Claims, JwkSet, KeySet, SigningKey, Validation, VerifyingKey, sign, verify,
};
use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;

/// The shared secret of the fixed HS256 key (also in `seeds.py`).
const SECRET: &[u8] = b"authgate-fuzz-hs256-secret-0123456789";
/// A fixed Ed25519 public key: RFC 8037 appendix A.2, under two kids.
const JWKS: &str = r#"{"keys":[
    {"kty":"OKP","crv":"Ed25519","alg":"EdDSA","use":"sig","kid":"ed-1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
    {"kty":"OKP","crv":"Ed25519","kid":"ed-2","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
/// The clock most inputs run at (2027-01-15), and the edges of time.
const CLOCKS: [i64; 4] = [1_800_000_000, 0, i64::MIN, i64::MAX];

/// Keys built once: parsing them on every input would slow the fuzzer down.
struct Keys {
    hs256: SigningKey,
    ed_set: KeySet,
}

static KEYS: LazyLock<Keys> = LazyLock::new(|| {
    let jwks: JwkSet = serde_json::from_str(JWKS).expect("fixed JWKS parses");
    Keys {
        hs256: SigningKey::from_secret(Algorithm::HS256, SECRET)
            .expect("fixed secret is long enough")
            .with_kid("hs-1"),
        ed_set: KeySet::from_jwks(&jwks).expect("fixed JWKS loads"),
    }
});

fn validation(leeway: i64) -> Validation {
    Validation::new()
        .issuer("https://auth.example.com")
        .audience("https://api.example.com")
        .typ("at+jwt")
        .require("sub")
        .leeway(leeway)
}

fn check(token: &str, key: &VerifyingKey, validation: &Validation, now: i64) {
    let keys = &*KEYS;
    let as_claims = verify::<Claims>(token, key, validation, now);
    let as_value = verify::<serde_json::Value>(token, key, validation, now);
    // Whether a token is valid must not depend on the type it is read into,
    // as long as both types accept every JSON object.
    assert_eq!(as_claims.is_ok(), as_value.is_ok(), "{token}");
    let _ = verify::<Claims>(token, &keys.ed_set, validation, now);
    let _ = verify::<serde_json::Value>(token, &keys.ed_set, validation, now);
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let now = CLOCKS[usize::from(mode >> 1) & 3];
    let leeway = if mode & 8 == 0 { 60 } else { i64::MAX };
    let validation = validation(leeway);
    let keys = &*KEYS;

    let token = if mode & 1 == 0 {
        text.into_owned()
    } else {
        let Ok(raw) = serde_json::from_str::<Box<RawValue>>(&text) else {
            return;
        };
        let typ = if mode & 16 == 0 { "at+jwt" } else { "application/AT+JWT" };
        match sign(&keys.hs256, Some(typ), &raw) {
            Ok(token) => token,
            Err(_) => return,
        }
    };
    check(&token, keys.hs256.verifying_key(), &validation, now);
});
