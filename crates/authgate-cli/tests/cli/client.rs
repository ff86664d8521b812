//! `authgate client add` through the real binary, on the stores directly.

use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use authgate_core::SystemClock;
use serde_json::Value;

use crate::support;

fn client_add(dir: &Path, args: &[&str]) -> Output {
    let args: Vec<&str> = ["client", "add"].iter().chain(args).copied().collect();
    let data_dir = dir.display().to_string();
    support::run(&args, None, &[("AUTHGATE_STORAGE__DATA_DIR", &data_dir)])
}

#[tokio::test]
async fn client_add_prints_a_secret_once_that_authenticates_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let out = client_add(dir.path(), &["billing", "--role", "user", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = printed["client_id"].as_str().unwrap();
    let secret = printed["client_secret"].as_str().unwrap();
    assert_eq!(secret.len(), 43, "256 random bits, base64url");

    let settings = authgate_server::Settings::load(
        None,
        [(
            "AUTHGATE_STORAGE__DATA_DIR".to_owned(),
            dir.path().display().to_string(),
        )],
    )
    .unwrap();
    let (state, _) = authgate_server::build_service(&settings, Arc::new(SystemClock))
        .await
        .unwrap();
    let client = state.auth.authenticate_client(id, secret).await.unwrap();
    assert_eq!(client.name, "billing");
    assert_eq!(client.roles, ["user"]);
    assert!(state.auth.authenticate_client(id, "wrong").await.is_err());
    let (store, _) = authgate_server::open_store(&settings).await.unwrap();
    let stored = store.client(id).await.unwrap().unwrap();
    assert!(!format!("{stored:?}").contains(secret));
}

#[test]
fn client_add_refuses_unknown_roles_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = client_add(dir.path(), &["billing", "--role", "root"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown role"), "{err}");
    assert!(out.stdout.is_empty(), "no secret printed");
}

fn client_cmd(dir: &Path, args: &[&str]) -> Output {
    let data_dir = dir.display().to_string();
    support::run(args, None, &[("AUTHGATE_STORAGE__DATA_DIR", &data_dir)])
}

#[tokio::test]
async fn client_disable_refuses_its_secret_and_enable_restores_it_both_audited() {
    let dir = tempfile::tempdir().unwrap();
    let out = client_add(dir.path(), &["billing", "--json"]);
    assert!(out.status.success());
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = printed["client_id"].as_str().unwrap().to_owned();
    let secret = printed["client_secret"].as_str().unwrap().to_owned();

    let out = client_cmd(dir.path(), &["client", "disable", &id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.starts_with(&format!("disabled {id}")), "{said}");

    let settings = authgate_server::Settings::load(
        None,
        [(
            "AUTHGATE_STORAGE__DATA_DIR".to_owned(),
            dir.path().display().to_string(),
        )],
    )
    .unwrap();
    {
        let (state, _) = authgate_server::build_service(&settings, Arc::new(SystemClock))
            .await
            .unwrap();
        assert!(
            state.auth.authenticate_client(&id, &secret).await.is_err(),
            "a disabled client's right secret is refused"
        );
    }

    let out = client_cmd(dir.path(), &["client", "enable", &id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (state, _) = authgate_server::build_service(&settings, Arc::new(SystemClock))
        .await
        .unwrap();
    assert!(state.auth.authenticate_client(&id, &secret).await.is_ok());
    let (store, _) = authgate_server::open_store(&settings).await.unwrap();
    let kinds: Vec<String> = store
        .events(&authgate_core::AuditFilter {
            limit: 10,
            ..authgate_core::AuditFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind.to_string())
        .collect();
    assert_eq!(
        kinds[..2],
        ["client.enabled", "client.disabled"],
        "{kinds:?}"
    );
}

#[test]
fn client_disable_of_an_unknown_id_fails_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = client_cmd(dir.path(), &["client", "disable", "svc_nobody"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no service client"), "{err}");
}
