//! The `oidc-rp` binary at start-up: it refuses a provider it cannot trust
//! before it listens, saying why. (The whole sign-in runs against a real
//! authgate in tests/browser/tests/oidc.test.mjs, with this binary.)

// Test helpers too may stop the test on a broken fixture.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::thread;

/// Runs `oidc-rp` against `issuer` until it exits (each case here makes it
/// exit before it would listen).
fn run_against(issuer: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oidc-rp"))
        .args([
            "--issuer",
            issuer,
            "--client-id",
            "example",
            "--listen",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", "off")
        .output()
        .expect("oidc-rp runs")
}

/// Serves one HTTP answer with `body` as JSON on 127.0.0.1 and returns the
/// base URL.
fn serve_once(body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        conn.write_all(answer.as_bytes()).unwrap();
    });
    base
}

#[test]
fn an_unreachable_issuer_stops_it_naming_the_discovery_url() {
    // A port that was free a moment ago: nothing answers there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let issuer = format!("http://127.0.0.1:{port}");
    let out = run_against(&issuer);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "reading {issuer}/.well-known/openid-configuration"
        )),
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening"));
}

#[test]
fn a_discovery_document_naming_another_issuer_is_refused() {
    // The mix-up defence: the document must name the issuer it was read from.
    let body = serde_json::json!({
        "issuer": "https://evil.example",
        "authorization_endpoint": "https://evil.example/oauth/authorize",
        "token_endpoint": "https://evil.example/oauth/token",
        "end_session_endpoint": "https://evil.example/oauth/logout",
        "jwks_uri": "https://evil.example/.well-known/jwks.json",
        "code_challenge_methods_supported": ["S256"],
    })
    .to_string();
    let issuer = serve_once(body);
    let out = run_against(&issuer);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "names the issuer https://evil.example, not {issuer}"
        )),
        "{stderr}"
    );
}
