//! `authgate keys list|rotate|jwks` through the real binary, on the stores directly.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::support;

fn authgate(dir: &Path, args: &[&str]) -> Output {
    support::run_ok(args, None, &support::borrowed(&support::on_stores(dir)))
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn keys_rotate_retires_the_active_key_and_jwks_publishes_all_live_ones() {
    let dir = tempfile::tempdir().unwrap();
    let listed = json(&authgate(dir.path(), &["keys", "list", "--json"]));
    let keys = listed["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["state"], "active");
    let first = keys[0]["kid"].as_str().unwrap().to_owned();
    assert!(
        !listed.to_string().contains("private"),
        "no key material in listings"
    );

    let rotated = json(&authgate(dir.path(), &["keys", "rotate", "--json"]));
    let states: Vec<(String, String)> = rotated["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kid"].as_str().unwrap().to_owned(),
                k["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(states[0], (first.clone(), "retired".to_owned()));
    assert_eq!(states.iter().filter(|(_, s)| s == "active").count(), 1);
    assert_eq!(states.iter().filter(|(_, s)| s == "next").count(), 1);

    let jwks = json(&authgate(dir.path(), &["keys", "jwks"]));
    let published: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(
        published.len(),
        3,
        "retired, active and next are all published"
    );
    assert!(published.contains(&first.as_str()));
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.get("d").is_none()),
        "never private members"
    );
}
