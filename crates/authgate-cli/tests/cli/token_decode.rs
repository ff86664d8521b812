//! `authgate token decode` through the real binary, as a user runs it.

use std::process::Output;
use std::time::{SystemTime, UNIX_EPOCH};

use authgate_jwt::{Algorithm, SigningKey, sign};
use serde_json::{Value, json};

use crate::support;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn authgate(args: &[&str], stdin: Option<&str>) -> Output {
    support::run(args, stdin, &[])
}

fn token(exp_offset: i64) -> String {
    let key = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let iat = now();
    sign(
        &key,
        Some("at+jwt"),
        &json!({"sub": "alice", "iat": iat, "exp": iat + exp_offset}),
    )
    .unwrap()
}

#[test]
fn a_fresh_token_shows_its_claims_and_time_left() {
    // 12 minutes and 40 seconds: still "12m" even if the test runs slowly.
    let out = authgate(&["token", "decode", &token(12 * 60 + 40)], None);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("NOT VERIFIED"), "{text}");
    assert!(text.contains("\"sub\": \"alice\""), "{text}");
    assert!(text.contains("\"typ\": \"at+jwt\""), "{text}");
    assert!(text.contains("Status: valid for 12m"), "{text}");
}

#[test]
fn an_expired_token_says_how_long_ago() {
    let out = authgate(&["token", "decode", &token(-3 * 3600 - 60)], None);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Status: expired 3h 1m ago"), "{text}");
}

#[test]
fn json_output_is_one_document_and_reads_the_token_from_stdin() {
    let out = authgate(
        &["token", "decode", "--json", "-"],
        Some(&format!("{}\n", token(600))),
    );
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["claims"]["sub"], "alice");
    assert_eq!(doc["verified"], false);
    assert_eq!(doc["status"]["expired"], false);
    let left = doc["status"]["expires_in"].as_i64().unwrap();
    assert!((590..=600).contains(&left), "{left}");
}

#[test]
fn garbage_fails_with_a_clear_error_and_no_output() {
    let out = authgate(&["token", "decode", "not-a-token"], None);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("not a decodable JWT"), "{err}");
}
