//! `authgate login`, `whoami`, `logout` and `token decode` of the stored
//! token: the real binary against a real server (in process, testkit).

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use authgate_server::config::HumanDuration;
use authgate_testkit::{PASSWORD, TestApp, spawn_app, spawn_app_with};
use serde_json::Value;

use crate::support;

/// Runs `authgate args…` with `stdin` piped in and the credentials in `dir`,
/// on a blocking thread so the in-process server keeps serving.
async fn authgate(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    authgate_env(dir, args, stdin, &[]).await
}

/// Like [`authgate`], with `env` set in the child's environment.
async fn authgate_env(
    dir: &Path,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let stdin = stdin.map(str::to_owned);
    let mut vars = vec![
        (
            "AUTHGATE_CREDENTIALS_DIR".to_owned(),
            dir.display().to_string(),
        ),
        ("RUST_LOG".to_owned(), "warn".to_owned()),
    ];
    vars.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        support::run(&args, stdin.as_deref(), &vars)
    })
    .await
    .unwrap()
}

/// Like [`authgate`], expecting success; returns standard output.
async fn authgate_ok(dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
    authgate_ok_env(dir, args, stdin, &[]).await
}

/// Like [`authgate_env`], expecting success; returns standard output.
async fn authgate_ok_env(
    dir: &Path,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> String {
    let out = authgate_env(dir, args, stdin, env).await;
    assert!(
        out.status.success(),
        "authgate {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Registers a user and logs the binary in as them; returns the email.
async fn logged_in(app: &TestApp, dir: &Path) -> String {
    logged_in_env(app, dir, &[]).await
}

/// Like [`logged_in`], with `env` set for the binary.
async fn logged_in_env(app: &TestApp, dir: &Path, env: &[(&str, &str)]) -> String {
    let user = app.new_user().await;
    let out = authgate_ok_env(
        dir,
        &[
            "login",
            "--server",
            &app.base_url,
            "--user",
            &user.email,
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
        env,
    )
    .await;
    assert!(out.contains(&format!("as {}", user.email)), "{out}");
    user.email
}

/// The only credentials file in `dir`, parsed.
fn stored(dir: &Path) -> (PathBuf, Value) {
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    (files[0].clone(), serde_json::from_str(&text).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_keeps_the_session_in_a_file_only_its_owner_can_read() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let email = logged_in(&app, dir.path()).await;
    let (path, file) = stored(dir.path());
    assert_eq!(file["server"], app.base_url.as_str());
    assert_eq!(file["user"]["email"], email.as_str());
    assert!(file["refresh_token"].is_string());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(PASSWORD), "the password is never stored");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_shows_the_logged_in_user_from_the_server() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let email = logged_in(&app, dir.path()).await;
    let text = authgate_ok(dir.path(), &["whoami"], None).await;
    assert!(text.starts_with(&email), "{text}");
    assert!(text.contains("roles:   user"), "{text}");
    let json = authgate_ok(
        dir.path(),
        &["whoami", "--json", "--server", &app.base_url],
        None,
    )
    .await;
    let me: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(me["email"], email.as_str());
    assert!(me["session"]["id"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_refreshes_a_nearly_expired_token_and_saves_the_rotated_refresh_token() {
    // Tokens that live 30 s are always inside the 60 s refresh margin.
    let app =
        spawn_app_with(|s| s.tokens.access_ttl = HumanDuration(Duration::from_secs(30))).await;
    let dir = tempfile::tempdir().unwrap();
    logged_in(&app, dir.path()).await;
    let (_, before) = stored(dir.path());
    authgate_ok(dir.path(), &["whoami"], None).await;
    let (_, after) = stored(dir.path());
    assert_ne!(after["refresh_token"], before["refresh_token"]);
    assert_ne!(after["access_token"], before["access_token"]);
    // The saved refresh token is the live one: the next run refreshes with it.
    authgate_ok(dir.path(), &["whoami"], None).await;
    let (_, third) = stored(dir.path());
    assert_ne!(third["refresh_token"], after["refresh_token"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_the_session_on_the_server_and_deletes_the_file() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    logged_in(&app, dir.path()).await;
    let (_, file) = stored(dir.path());
    let out = authgate_ok(dir.path(), &["logout"], None).await;
    assert!(out.contains("Logged out of"), "{out}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let refresh = file["refresh_token"].as_str().unwrap();
    assert_eq!(app.refresh(refresh).await.status(), 401);
    let access = file["access_token"].as_str().unwrap();
    assert_eq!(app.me(access).await.status(), 401);

    let out = authgate(dir.path(), &["whoami"], None).await;
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("not logged in"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_revoked_elsewhere_makes_whoami_ask_for_a_new_login() {
    let app =
        spawn_app_with(|s| s.tokens.access_ttl = HumanDuration(Duration::from_secs(30))).await;
    let dir = tempfile::tempdir().unwrap();
    logged_in(&app, dir.path()).await;
    let (_, file) = stored(dir.path());
    let access = file["access_token"].as_str().unwrap();
    let all = serde_json::json!({"all": true});
    assert_eq!(app.logout(access, Some(&all)).await.status(), 200);
    let out = authgate(dir.path(), &["whoami"], None).await;
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("has ended; log in again"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credentials_file_other_users_may_read_is_refused_with_the_reason() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    logged_in(&app, dir.path()).await;
    let (path, _) = stored(dir.path());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    for args in [
        &["whoami"][..],
        &["whoami", "--server", &app.base_url],
        &["logout"],
    ] {
        let out = authgate(dir.path(), args, None).await;
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains("has mode 644"), "{args:?}: {err}");
        assert!(err.contains("chmod 600"), "{args:?}: {err}");
    }
    assert!(
        path.exists(),
        "a refused file is left for the user to inspect"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_says_why_and_stores_nothing() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let dir = tempfile::tempdir().unwrap();
    let out = authgate(
        dir.path(),
        &[
            "login",
            "--server",
            &app.base_url,
            "--user",
            &user.email,
            "--password-stdin",
        ],
        Some("not-the-password\n"),
    )
    .await;
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("invalid_credentials"), "{err}");
    assert!(!dir.path().exists() || std::fs::read_dir(dir.path()).unwrap().count() == 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_server_elsewhere_is_refused_before_the_password_is_read() {
    let dir = tempfile::tempdir().unwrap();
    // TEST-NET-1: nothing answers there. No --user: asking for it first
    // would fail on the empty standard input with another message.
    let out = authgate(
        dir.path(),
        &["login", "--server", "http://192.0.2.1:8080"],
        None,
    )
    .await;
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("refusing plain http"), "{err}");
    assert!(err.contains("--insecure-http"), "{err}");
    assert!(!err.contains("Email or username"), "{err}");
    assert!(!dir.path().exists() || std::fs::read_dir(dir.path()).unwrap().count() == 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_on_this_machine_is_reached_without_the_configured_proxy() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    // A proxy that is not there: had the password or the tokens gone
    // through it, neither command could have succeeded.
    let dead_proxy = "http://127.0.0.1:9";
    let env = [("HTTP_PROXY", dead_proxy), ("ALL_PROXY", dead_proxy)];
    let email = logged_in_env(&app, dir.path(), &env).await;
    let out = authgate_ok_env(dir.path(), &["whoami"], None, &env).await;
    assert!(out.contains(&email), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_decode_without_a_token_decodes_the_stored_one() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    logged_in(&app, dir.path()).await;
    let (_, file) = stored(dir.path());
    let out = authgate_ok(dir.path(), &["token", "decode", "--json"], None).await;
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["claims"]["sub"], file["user"]["id"]);
    assert_eq!(doc["status"]["expired"], false);
    assert_eq!(doc["verified"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_two_servers_the_server_must_be_named_and_the_flag_dir_is_used() {
    let first = spawn_app().await;
    let second = spawn_app().await;
    let env_dir = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().to_str().unwrap();
    for app in [&first, &second] {
        let user = app.new_user().await;
        authgate_ok(
            env_dir.path(),
            &[
                "login",
                "--server",
                &app.base_url,
                "--user",
                &user.email,
                "--password-stdin",
                "--credentials-dir",
                dir_arg,
            ],
            Some(&format!("{PASSWORD}\n")),
        )
        .await;
    }
    assert_eq!(std::fs::read_dir(env_dir.path()).unwrap().count(), 0);
    let out = authgate(
        env_dir.path(),
        &["whoami", "--credentials-dir", dir_arg],
        None,
    )
    .await;
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("pick one with --server"), "{err}");
    let text = authgate_ok(
        env_dir.path(),
        &[
            "whoami",
            "--credentials-dir",
            dir_arg,
            "--server",
            &format!("{}/", second.base_url),
        ],
        None,
    )
    .await;
    assert!(text.contains(&second.base_url), "{text}");
}
