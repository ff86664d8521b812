//! `authgate serve` as an operator runs it: the real binary on a real port
//! and data directory, killed with SIGKILL and started again; and the `user`
//! and `config` commands working on the same stores, with or without a
//! server running.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use authgate_jwt::decode_unverified;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support;

/// Strong enough for the default password policy.
const PASSWORD: &str = "violet-harbor-quantum-47-lantern";

/// How often, and how long apart, to look for the start-up summary and ask
/// `/healthz` before giving up (30 s in all: a loaded machine is slow, and
/// a server that exits is noticed at once).
const READY_POLLS: u32 = 600;
const READY_POLL_INTERVAL: Duration = Duration::from_millis(50);

/// The configuration every run gets: the data directory and cheap argon2.
fn base_env(data_dir: &Path) -> Vec<(&'static str, String)> {
    let mut env = support::on_stores(data_dir).to_vec();
    env.push(("RUST_LOG", "warn".into()));
    env
}

/// Runs `authgate args…` to completion, with `stdin` piped in.
fn authgate(data_dir: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let base = base_env(data_dir);
    let mut vars = support::borrowed(&base);
    vars.extend_from_slice(env);
    support::run(args, stdin, &vars)
}

/// Runs `authgate args…` and expects success, returning its standard output.
fn authgate_ok(data_dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let out = authgate(data_dir, args, stdin, &[]);
    assert!(
        out.status.success(),
        "authgate {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A running `authgate serve`; killed when dropped.
struct Server {
    /// The process.
    child: Child,
    /// `http://127.0.0.1:PORT`.
    base_url: String,
    /// Everything it printed on standard output so far.
    stdout: Arc<Mutex<String>>,
    /// Everything it printed on standard error so far (for failure messages).
    stderr: Arc<Mutex<String>>,
    /// A client that never goes through a proxy.
    client: reqwest::Client,
}

impl Server {
    /// Starts `authgate serve` on a free port of 127.0.0.1 and waits until
    /// `/healthz` answers and the start-up summary has been printed.
    async fn start(data_dir: &Path) -> Self {
        Self::start_with(data_dir, &[], &[]).await
    }

    /// Like [`Server::start`], with more arguments to `serve` and more
    /// environment variables (later ones win).
    async fn start_with(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        // Port 0: the server binds a free port and says which on stdout.
        let base = base_env(data_dir);
        let mut vars = support::borrowed(&base);
        vars.extend_from_slice(env);
        vars.push(("AUTHGATE_SERVER__BIND", "127.0.0.1:0"));
        let serve: Vec<&str> = ["serve"].iter().chain(args).copied().collect();
        let mut child = support::command(&serve, &vars)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = drain(child.stdout.take().unwrap());
        let stderr = drain(child.stderr.take().unwrap());
        let mut server = Self {
            child,
            base_url: String::new(),
            stdout,
            stderr,
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
        };
        server.wait_until_ready().await;
        server
    }

    /// Waits for the start-up summary (it names the address bound), then
    /// for `/healthz` to answer there.
    async fn wait_until_ready(&mut self) {
        for _ in 0..READY_POLLS {
            if self.base_url.is_empty()
                && let Some(url) = self.stdout().lines().find_map(|line| {
                    line.strip_prefix("authgate listening on ")
                        .map(str::to_owned)
                })
            {
                self.base_url = url;
            }
            let healthy = !self.base_url.is_empty()
                && self
                    .client
                    .get(format!("{}/healthz", self.base_url))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == StatusCode::OK);
            if healthy {
                return;
            }
            if self.child.try_wait().unwrap().is_some() {
                break;
            }
            tokio::time::sleep(READY_POLL_INTERVAL).await;
        }
        panic!(
            "authgate serve did not become ready; stdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr.lock().unwrap()
        );
    }

    fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// SIGKILL: no graceful shutdown, no flushing.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base_url))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, path: &str, access: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base_url))
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
    }

    async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post(
            "/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    async fn login_ok(&self, email: &str, password: &str) -> Value {
        json_of(self.login(email, password).await, StatusCode::OK).await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Never leave a server behind, even when a test fails.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Collects what a pipe yields, on a thread, so the child never blocks on a full pipe.
fn drain(pipe: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&text);
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            let mut sink = sink.lock().unwrap();
            sink.push_str(&line);
            sink.push('\n');
        }
    });
    text
}

/// Checks the status and parses the JSON body, showing the body on failure.
async fn json_of(response: reqwest::Response, status: StatusCode) -> Value {
    let url = response.url().clone();
    let actual = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(actual, status, "{url}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// The `error` code of an error response with `status`.
async fn error_of(response: reqwest::Response, status: StatusCode) -> String {
    json_of(response, status).await["error"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn kid(token: &Value) -> String {
    decode_unverified::<Value>(token.as_str().unwrap())
        .unwrap()
        .header
        .kid
        .unwrap()
}

#[tokio::test]
async fn a_killed_server_starts_again_with_its_users_sessions_and_signing_key() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let first_words = server.stdout();
    let key_file = dir.path().join("master.key");
    assert!(
        first_words.contains(&format!("master key:  generated {}", key_file.display())),
        "{first_words}"
    );
    assert!(first_words.contains("back it up"), "{first_words}");
    assert!(first_words.contains("No users yet"), "{first_words}");
    assert!(
        first_words
            .contains("authgate user add --email you@example.com --role admin --password-stdin"),
        "{first_words}"
    );

    let body = json!({"email": "alice@example.com", "password": PASSWORD});
    json_of(
        server.post("/auth/register", &body).await,
        StatusCode::CREATED,
    )
    .await;
    let login = server.login_ok("alice@example.com", PASSWORD).await;
    server.kill();

    let server = Server::start(dir.path()).await;
    let second_words = server.stdout();
    assert!(
        second_words.contains(&format!("master key:  {}", key_file.display())),
        "{second_words}"
    );
    assert!(!second_words.contains("generated"), "{second_words}");
    assert!(!second_words.contains("No users yet"), "{second_words}");

    let me = json_of(
        server
            .get("/me", login["access_token"].as_str().unwrap())
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["email"], "alice@example.com");
    let body = json!({"refresh_token": login["refresh_token"]});
    let refreshed = json_of(server.post("/auth/refresh", &body).await, StatusCode::OK).await;
    let again = server.login_ok("alice@example.com", PASSWORD).await;
    assert_eq!(kid(&refreshed["access_token"]), kid(&login["access_token"]));
    assert_eq!(kid(&again["access_token"]), kid(&login["access_token"]));
}

#[tokio::test]
async fn the_first_admin_is_created_from_the_cli_and_logs_in_with_role_admin() {
    let dir = tempfile::tempdir().unwrap();
    // Before any server ever ran on this directory.
    let out = authgate_ok(
        dir.path(),
        &[
            "user",
            "add",
            "--email",
            "admin@example.com",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(out.contains("created admin@example.com"), "{out}");

    let server = Server::start(dir.path()).await;
    assert!(
        !server.stdout().contains("No users yet"),
        "{}",
        server.stdout()
    );
    let login = server.login_ok("admin@example.com", PASSWORD).await;
    assert_eq!(login["user"]["roles"], json!(["admin"]));
    // The trailing newline was not part of the password.
    let error = error_of(
        server
            .login("admin@example.com", &format!("{PASSWORD}\n"))
            .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(error, "invalid_credentials");
}

#[tokio::test]
async fn user_list_and_grant_work_on_the_stores_of_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let body = json!({"email": "bob@example.com", "password": PASSWORD, "username": "bob"});
    json_of(
        server.post("/auth/register", &body).await,
        StatusCode::CREATED,
    )
    .await;
    authgate_ok(
        dir.path(),
        &[
            "user",
            "add",
            "--email",
            "carol@example.com",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );

    let listed: Value =
        serde_json::from_str(&authgate_ok(dir.path(), &["user", "list", "--json"], None)).unwrap();
    let users = listed["users"].as_array().unwrap();
    let emails: Vec<&str> = users.iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["bob@example.com", "carol@example.com"]);
    for user in users {
        assert_eq!(user["roles"], json!(["user"]));
        assert_eq!(user["is_active"], true);
        assert!(user.get("password_hash").is_none(), "{user}");
    }

    let out = authgate_ok(dir.path(), &["user", "grant", "bob", "admin"], None);
    assert!(out.contains("roles=user,admin"), "{out}");
    let login = server.login_ok("bob@example.com", PASSWORD).await;
    assert_eq!(login["user"]["roles"], json!(["user", "admin"]));

    let out = authgate(dir.path(), &["user", "grant", "bob", "wizard"], None, &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role"));
}

#[tokio::test]
async fn user_disable_stops_logins_and_refreshes_and_enable_restores_logins() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let body = json!({"email": "dave@example.com", "password": PASSWORD});
    json_of(
        server.post("/auth/register", &body).await,
        StatusCode::CREATED,
    )
    .await;
    let login = server.login_ok("dave@example.com", PASSWORD).await;

    let out = authgate_ok(dir.path(), &["user", "disable", "dave@example.com"], None);
    assert!(out.contains("revoked 1 session(s)"), "{out}");
    let error = error_of(
        server.login("dave@example.com", PASSWORD).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(error, "account_disabled");
    let body = json!({"refresh_token": login["refresh_token"]});
    let error = error_of(
        server.post("/auth/refresh", &body).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(error, "invalid_grant");

    authgate_ok(dir.path(), &["user", "enable", "dave@example.com"], None);
    server.login_ok("dave@example.com", PASSWORD).await;
}

#[tokio::test]
async fn user_disable_while_serving_rejects_the_users_access_tokens_everywhere() {
    // docs/http-api.md: disabling revokes the user's sessions; a revoked access token is
    // `invalid_token` on every Bearer endpoint of every instance sharing the stores.
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let body = json!({"email": "erin@example.com", "password": PASSWORD});
    json_of(
        server.post("/auth/register", &body).await,
        StatusCode::CREATED,
    )
    .await;
    let login = server.login_ok("erin@example.com", PASSWORD).await;
    let access = login["access_token"].as_str().unwrap();
    // Used once first: the server holds the token in its verified-token
    // cache, as it would for a user who is active.
    for path in ["/me", "/auth/sessions"] {
        assert_eq!(
            server.get(path, access).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }

    authgate_ok(dir.path(), &["user", "disable", "erin@example.com"], None);
    // The command is another process: the server sees the change once its
    // copy of the records is a second old (docs/architecture.md). Wait for that, on
    // the real clock, with room for a loaded machine.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while server.get("/me", access).await.status() == StatusCode::OK {
        assert!(
            std::time::Instant::now() < deadline,
            "the disabled user's token is still accepted after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for path in ["/me", "/auth/sessions"] {
        let response = server.get(path, access).await;
        let challenge = response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(
            error_of(response, StatusCode::UNAUTHORIZED).await,
            "invalid_token",
            "{path}"
        );
        assert_eq!(
            challenge.as_deref(),
            Some(r#"Bearer realm="authgate", error="invalid_token""#),
            "{path}"
        );
    }
}

#[tokio::test]
async fn config_print_masks_the_master_key_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let key = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
    let env = [("AUTHGATE_STORAGE__MASTER_KEY", key)];
    for args in [&["config", "print"][..], &["config", "print", "--json"]] {
        let out = authgate(dir.path(), args, None, &env);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(!text.contains(key), "{text}");
        assert!(!text.contains(&key[..12]), "{text}");
        assert!(text.contains("********"), "{text}");
        assert!(text.contains(&dir.path().display().to_string()), "{text}");
        // What `serve` runs with, its stdout audit sink included.
        assert!(text.contains("\"stdout\""), "{text}");
    }
}

#[tokio::test]
async fn no_password_or_token_reaches_any_log_line_or_audit_sink() {
    let dir = tempfile::tempdir().unwrap();
    let audit_file = dir.path().join("audit.jsonl");
    let sinks = format!(r#"["database", "stdout", "file:{}"]"#, audit_file.display());
    let server = Server::start_with(
        dir.path(),
        &["--log-json"],
        &[("RUST_LOG", "trace"), ("AUTHGATE_AUDIT__SINKS", &sinks)],
    )
    .await;
    let password = "Known-Passw0rd-For-The-Log-Test";
    let email = "logcheck@example.com";
    let response = server
        .post(
            "/auth/register",
            &json!({"email": email, "password": password}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let wrong = "Wrong-Passw0rd-Also-Secret";
    assert_eq!(
        server.login(email, wrong).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let tokens = server.login_ok(email, password).await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(server.get("/me", &access).await.status(), StatusCode::OK);
    let refreshed = json_of(
        server
            .post("/auth/refresh", &json!({"refresh_token": refresh}))
            .await,
        StatusCode::OK,
    )
    .await;
    let access2 = refreshed["access_token"].as_str().unwrap().to_owned();
    let refresh2 = refreshed["refresh_token"].as_str().unwrap().to_owned();
    let logout = server
        .client
        .post(format!("{}/auth/logout", server.base_url))
        .bearer_auth(&access2)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::OK);
    // A request with a forged token and one with a password in a malformed body.
    server
        .get("/me", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
        .await;
    server
        .client
        .post(format!("{}/auth/login", server.base_url))
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"email": "{email}", "password": "{password}", "#
        ))
        .send()
        .await
        .unwrap();

    // The audit events reach stdout and the file (the sinks drain asynchronously).
    let mut file = String::new();
    for _ in 0..READY_POLLS {
        file = std::fs::read_to_string(&audit_file).unwrap_or_default();
        if file.contains("\"logout\"") && server.stdout().contains("\"logout\"") {
            break;
        }
        tokio::time::sleep(READY_POLL_INTERVAL).await;
    }
    let stdout = server.stdout();
    let stderr = server.stderr.lock().unwrap().clone();
    assert!(
        file.contains("login.succeeded"),
        "the file sink wrote events: {file}"
    );
    assert!(
        stdout.contains("login.failed"),
        "the stdout sink wrote events"
    );
    assert!(stderr.lines().count() > 10, "trace logging ran: {stderr}");
    assert!(
        stderr
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('{')),
        "--log-json writes JSON lines"
    );
    for (what, secret) in [
        ("password", password),
        ("wrong password", wrong),
        ("access token", access.as_str()),
        ("refresh token", refresh.as_str()),
        ("second access token", access2.as_str()),
        ("second refresh token", refresh2.as_str()),
    ] {
        for (sink, text) in [("log", &stderr), ("stdout", &stdout), ("audit file", &file)] {
            assert!(!text.contains(secret), "the {what} appears in the {sink}");
        }
    }
    // Request ids are on the request's log lines.
    assert!(stderr.contains("request_id"), "request ids in the logs");
}
