//! `GET /metrics`: after a scripted flow, the Prometheus text holds every
//! series issue 7 lists, and never a secret. The recorder is shared by the
//! servers of this test binary, so the checks are on series and labels
//! (and on counts that only grow), not on exact totals.

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

#[tokio::test]
async fn the_scrape_holds_every_series_after_a_scripted_flow() {
    let app = spawn_app().await;
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
    for series in [
        r#"authgate_logins_total{outcome="success"}"#,
        r#"authgate_logins_total{outcome="invalid_credentials"}"#,
        r#"authgate_registrations_total{outcome="success"}"#,
        r#"authgate_refreshes_total{outcome="success"}"#,
        r#"authgate_refreshes_total{outcome="invalid_grant"}"#,
        "authgate_refresh_reuse_detected_total",
        r#"authgate_revocations_total{kind="session"}"#,
        r#"authgate_token_verifications_total{outcome="ok",reason="none"}"#,
        r#"authgate_token_verifications_total{outcome="rejected",reason="revoked"}"#,
        r#"authgate_token_verifications_total{outcome="rejected",reason="malformed"}"#,
        "authgate_password_hash_queue_depth",
        r#"authgate_audit_sink_failures{sink="database"}"#,
        r#"authgate_audit_dropped{sink="database"}"#,
    ] {
        assert!(sample(&text, series).is_some(), "{series} in\n{text}");
    }
    assert!(sample(&text, r#"authgate_logins_total{outcome="success"}"#).unwrap() >= 2.0);
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
