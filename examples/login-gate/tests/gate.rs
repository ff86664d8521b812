//! login-gate driven through stdin/stdout against a real server (in process).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::{Command, Stdio};

use authgate_testkit::{PASSWORD, spawn_app};

/// Runs login-gate against `server` with `script` as its input; returns
/// everything it printed.
async fn run_gate(server: &str, script: String) -> String {
    let server = server.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_login-gate"))
            .args(["--server", &server])
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .env_remove("ALL_PROXY")
            .env_remove("all_proxy")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    })
    .await
    .unwrap()
}

/// The screens in `output`, split at their titles.
fn screens(output: &str) -> Vec<&str> {
    output.split("=== authgate login-gate: ").skip(1).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_is_behind_the_login_and_shows_claims_badge_and_audit() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let script = format!(
        "go /dashboard\nlogin {}\n{PASSWORD}\nrefresh\nlogout\ngo /dashboard\nquit\n",
        user.email
    );
    let output = run_gate(&app.base_url, script).await;
    let screens = screens(&output);
    let titles: Vec<_> = screens.iter().map(|s| s.lines().next().unwrap()).collect();
    assert_eq!(
        titles,
        [
            "Login ===",     // start: the dashboard needs a login
            "Login ===",     // go /dashboard while logged out
            "Dashboard ===", // after login
            "Dashboard ===", // after refresh
            "Login ===",     // after logout
            "Login ===",     // go /dashboard while logged out again
        ],
        "{output}"
    );
    assert!(output.contains("(/dashboard needs a login: showing /login)"));

    let after_login = screens[2];
    assert!(
        after_login.contains(&format!("Signed in as {}", user.email)),
        "{after_login}"
    );
    assert!(
        after_login.contains("Access token: [VALID] expires in 1"),
        "{after_login}"
    );
    assert!(
        after_login.contains(&format!("sub  \"{}\"", user.user.id)),
        "{after_login}"
    );
    assert!(after_login.contains("roles [\"user\"]"), "{after_login}");
    assert!(after_login.contains("login.succeeded"), "{after_login}");

    let after_refresh = screens[3];
    let trail = after_refresh.split("audit records:").nth(1).unwrap();
    let first = trail.lines().nth(1).unwrap();
    assert!(first.contains("token.refreshed"), "{after_refresh}");
    assert!(trail.contains("login.succeeded"), "{after_refresh}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_stays_on_the_login_screen_and_the_failure_is_audited() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let script = format!(
        "login {0}\nwrong-password\nlogin {0}\n{PASSWORD}\nquit\n",
        user.email
    );
    let output = run_gate(&app.base_url, script).await;
    assert!(output.contains("! login failed"), "{output}");
    let screens = screens(&output);
    let dashboard = screens.last().unwrap();
    assert!(dashboard.starts_with("Dashboard"), "{output}");
    let trail = dashboard.split("audit records:").nth(1).unwrap();
    let kinds: Vec<_> = trail
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert_eq!(
        kinds[..2],
        ["login.succeeded", "login.failed"],
        "{dashboard}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_at_most_five_audit_records() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let script = format!(
        "login {}\n{PASSWORD}\nrefresh\nrefresh\nrefresh\nrefresh\nrefresh\nquit\n",
        user.email
    );
    let output = run_gate(&app.base_url, script).await;
    let last = *screens(&output).last().unwrap();
    let trail = last.split("audit records:\n").nth(1).unwrap();
    let rows = trail.lines().take_while(|l| l.starts_with("  ")).count();
    assert_eq!(rows, 5, "{last}");
    assert!(
        !trail.contains("login.succeeded"),
        "the oldest fell off: {last}"
    );
}
