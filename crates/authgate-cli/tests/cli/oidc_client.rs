//! `authgate oidc-client add|list|delete` through the real binary, on the
//! stores directly.

use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use authgate_core::SystemClock;
use serde_json::Value;

use crate::support;

fn oidc_client(dir: &Path, args: &[&str]) -> Output {
    let args: Vec<&str> = ["oidc-client"].iter().chain(args).copied().collect();
    let data_dir = dir.display().to_string();
    support::run(
        &args,
        None,
        &[
            ("AUTHGATE_STORAGE__DATA_DIR", &data_dir),
            ("AUTHGATE_OIDC__ENABLED", "true"),
        ],
    )
}

#[tokio::test]
async fn oidc_client_add_prints_a_secret_once_then_lists_and_deletes_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let out = oidc_client(
        dir.path(),
        &[
            "add",
            "Team Wiki",
            "--redirect-uri",
            "https://wiki.example/cb",
            "--scope",
            "email",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = printed["client_id"].as_str().unwrap().to_owned();
    let secret = printed["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 43);
    assert_eq!(printed["scopes"], serde_json::json!(["openid", "email"]));

    let settings = authgate_server::Settings::load(
        None,
        [
            (
                "AUTHGATE_STORAGE__DATA_DIR".to_owned(),
                dir.path().display().to_string(),
            ),
            ("AUTHGATE_OIDC__ENABLED".to_owned(), "true".to_owned()),
        ],
    )
    .unwrap();
    let (state, _) = authgate_server::build_service(&settings, Arc::new(SystemClock))
        .await
        .unwrap();
    let client = state
        .auth
        .authenticate_oidc_client(&id, Some(&secret))
        .await
        .unwrap();
    assert_eq!(client.name, "Team Wiki");
    assert!(
        state
            .auth
            .authenticate_oidc_client(&id, Some("wrong"))
            .await
            .is_err()
    );
    drop(state);

    let listed = oidc_client(dir.path(), &["list", "--json"]);
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed["clients"][0]["client_id"], id.as_str());
    assert!(!listed.to_string().contains(&secret));

    assert!(oidc_client(dir.path(), &["delete", &id]).status.success());
    let again = oidc_client(dir.path(), &["delete", &id]);
    assert!(!again.status.success(), "already gone");
}

#[test]
fn oidc_client_add_refuses_a_plain_http_redirect_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = oidc_client(
        dir.path(),
        &["add", "Wiki", "--redirect-uri", "http://wiki.example/cb"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("redirect_uris"), "{err}");
    assert!(out.stdout.is_empty(), "no secret printed");
}
