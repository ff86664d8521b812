//! The unverified readers a client uses must never panic, and must agree
//! with each other about the same token.

#![no_main]

use authgate_jwt::{Claims, decode_unverified, expires_in, is_expired};
use libfuzzer_sys::fuzz_target;

/// The clock most inputs run at (2027-01-15), and the edges of time.
const CLOCKS: [i64; 4] = [1_800_000_000, 0, i64::MIN, i64::MAX];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let token = String::from_utf8_lossy(rest);
    let now = CLOCKS[usize::from(mode) & 3];

    let as_value = decode_unverified::<serde_json::Value>(&token);
    let as_claims = decode_unverified::<Claims>(&token);
    let left = expires_in(&token, now);
    let expired = is_expired(&token, now);

    match &left {
        Ok(Some(left)) => assert_eq!(expired, *left <= 0, "{token}"),
        Ok(None) => assert!(!expired, "{token}"),
        Err(_) => assert!(expired, "{token}"),
    }
    // A token whose header and claims decode has a readable expiry, and the
    // same one whichever way it is read.
    if let Ok(decoded) = &as_value {
        let left = left.as_ref().expect("decodable token has a readable expiry");
        match decoded.claims.get("exp").and_then(serde_json::Value::as_i64) {
            Some(exp) => assert_eq!(*left, Some(exp.saturating_sub(now)), "{token}"),
            None if decoded.claims.get("exp").is_none() => assert_eq!(*left, None, "{token}"),
            None => {}
        }
        assert!(as_claims.is_ok(), "{token}");
    }
    if let Ok(decoded) = &as_claims {
        let left = left.as_ref().expect("decodable token has a readable expiry");
        assert_eq!(decoded.claims.exp.map(|exp| exp.saturating_sub(now)), *left, "{token}");
    }
});
