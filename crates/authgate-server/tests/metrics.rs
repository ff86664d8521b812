//! `GET /metrics`: after a scripted flow, the Prometheus text holds every
//! series issue 7 lists, each grown by exactly what the flow did, and never
//! a secret.
//!
//! The Prometheus recorder is one per process, shared by every server in
//! it: this is a test binary of its own so that the only requests counted
//! are this file's, and only one test here makes any (the other reads a
//! series labelled with its own key id).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use authgate_testkit::reqwest::{StatusCode, header};
use authgate_testkit::{TestApp, assert_error, spawn_app};

async fn scrape(app: &TestApp) -> String {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    response.text().await.unwrap()
}

/// The value of the sample whose line starts with `series` (name and labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// The key-age series of this server's signing key.
fn key_age_series(app: &TestApp) -> String {
    let kid = app.state.keys.ring().signing.kid().unwrap().to_owned();
    format!(r#"authgate_active_key_age_seconds{{kid="{kid}"}}"#)
}

/// How much `series` grew from `before` to `after` (a series not yet
/// created counts as 0).
fn grew(before: &str, after: &str, series: &str) -> f64 {
    sample(after, series).unwrap_or(0.0) - sample(before, series).unwrap_or(0.0)
}

#[tokio::test]
async fn the_scrape_counts_exactly_what_a_scripted_flow_did() {
    let app = spawn_app().await;
    let before = scrape(&app).await;
    let alice = app.new_user().await;
    assert_error(
        app.login(&alice.email, "wrong-password-1").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let next = app.refresh_ok(&alice.refresh).await;
    app.advance(std::time::Duration::from_secs(11));
    app.refresh(&alice.refresh).await; // reuse: the session is revoked
    assert_eq!(
        app.me(&next.access_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.me("garbage").await;
    let bob = app.new_user().await;
    assert_eq!(app.me(&bob.access).await.status(), StatusCode::OK);
    app.logout(&bob.access, None).await;

    let text = scrape(&app).await;
    for (series, expected) in [
        (r#"authgate_logins_total{outcome="success"}"#, 2.0),
        (
            r#"authgate_logins_total{outcome="invalid_credentials"}"#,
            1.0,
        ),
        (r#"authgate_registrations_total{outcome="success"}"#, 2.0),
        (r#"authgate_refreshes_total{outcome="success"}"#, 1.0),
        (r#"authgate_refreshes_total{outcome="invalid_grant"}"#, 1.0),
        ("authgate_refresh_reuse_detected_total", 1.0),
        (r#"authgate_revocations_total{kind="session"}"#, 2.0),
        (
            r#"authgate_token_verifications_total{outcome="ok",reason="none"}"#,
            2.0,
        ),
        (
            r#"authgate_token_verifications_total{outcome="rejected",reason="revoked"}"#,
            1.0,
        ),
        (
            r#"authgate_token_verifications_total{outcome="rejected",reason="malformed"}"#,
            1.0,
        ),
    ] {
        assert_eq!(
            grew(&before, &text, series),
            expected,
            "{series} in\n{text}"
        );
    }
    for series in [
        "authgate_password_hash_queue_depth",
        r#"authgate_audit_sink_failures{sink="database"}"#,
        r#"authgate_audit_dropped{sink="database"}"#,
    ] {
        assert_eq!(sample(&text, series), Some(0.0), "{series} in\n{text}");
    }
    assert!(sample(&text, &key_age_series(&app)).is_some(), "{text}");
    // Latency by route pattern (never the raw path) and status.
    assert!(
        text.lines().any(
            |l| l.starts_with("authgate_http_request_duration_seconds_bucket")
                && l.contains(r#"route="/auth/login""#)
                && l.contains(r#"status="200""#)
        ),
        "{text}"
    );
    assert!(!text.contains(&bob.user.id.to_string()), "no ids as labels");
    for secret in [&alice.password, &alice.access, &alice.refresh, &bob.access] {
        assert!(!text.contains(secret.as_str()));
    }
}

#[tokio::test]
async fn the_active_key_age_follows_the_clock() {
    let app = spawn_app().await;
    let series = key_age_series(&app);
    let before = sample(&scrape(&app).await, &series).unwrap();
    app.advance(std::time::Duration::from_secs(3600));
    let after = sample(&scrape(&app).await, &series).unwrap();
    assert!((after - before - 3600.0).abs() < 5.0, "{before} → {after}");
}
