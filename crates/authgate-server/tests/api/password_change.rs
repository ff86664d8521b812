//! `POST /auth/password/change`: the new password by the registration rule,
//! the other sessions ended (this one kept), the audit record without a
//! secret, and a wrong current password counted as a failed login.

use authgate_proto::PasswordChangedResponse;
use authgate_testkit::reqwest::{StatusCode, header};
use authgate_testkit::{PASSWORD, TestApp, assert_error, expect_json, spawn_app};
use serde_json::{Value, json};

const NEW_PASSWORD: &str = "copper-meadow-orbit-92-saffron";

async fn change(
    app: &TestApp,
    access: &str,
    current: &str,
    new: &str,
) -> authgate_testkit::reqwest::Response {
    app.client
        .post(app.url("/auth/password/change"))
        .bearer_auth(access)
        .json(&json!({"current_password": current, "new_password": new}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_change_ends_the_other_sessions_keeps_this_one_and_swaps_the_password() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let other = app.login_ok(&alice.email, PASSWORD).await;
    let response = change(&app, &alice.access, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(
        response.headers().get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    let body: PasswordChangedResponse = expect_json(response, StatusCode::OK).await;
    assert_eq!(body.sessions_ended, 1);
    assert_eq!(body.message, "Password changed.");

    assert_eq!(app.me(&alice.access).await.status(), StatusCode::OK);
    assert_error(
        app.me(&other.access_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    assert_error(
        app.refresh(&other.refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
    )
    .await;
    assert_error(
        app.login(&alice.email, PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    app.login_ok(&alice.email, NEW_PASSWORD).await;
}

#[tokio::test]
async fn the_change_is_audited_without_any_secret() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let response = change(&app, &alice.access, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let events = app
        .state
        .auth
        .audit_events(&authgate_core::AuditFilter {
            user_id: Some(alice.user.id),
            kind: Some("password.change".into()),
            limit: 5,
            ..authgate_core::AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor_id, Some(alice.user.id.to_string()));
    let text = serde_json::to_string(&events).unwrap();
    for secret in [PASSWORD, NEW_PASSWORD, "$argon2"] {
        assert!(!text.contains(secret), "{text}");
    }
}

#[tokio::test]
async fn a_weak_or_missing_new_password_is_refused_by_name_and_changes_nothing() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let other = app.login_ok(&alice.email, PASSWORD).await;
    for weak in ["short", "password1234", &alice.email] {
        let error = assert_error(
            change(&app, &alice.access, PASSWORD, weak).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        )
        .await;
        assert!(
            error.description.starts_with("new_password:"),
            "{weak}: {}",
            error.description
        );
    }
    let missing = app
        .client
        .post(app.url("/auth/password/change"))
        .bearer_auth(&alice.access)
        .json(&json!({"current_password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(missing, StatusCode::BAD_REQUEST, "invalid_request").await;
    assert_eq!(app.me(&other.access_token).await.status(), StatusCode::OK);
    app.login_ok(&alice.email, PASSWORD).await;
}

#[tokio::test]
async fn a_wrong_current_password_is_401_and_counts_as_a_failed_login() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    for _ in 0..5 {
        assert_error(
            change(&app, &alice.access, "not-the-password-9", NEW_PASSWORD).await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    // Five failures delay the account, for logins and changes alike.
    assert_error(
        app.login(&alice.email, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
    let limited = change(&app, &alice.access, PASSWORD, NEW_PASSWORD).await;
    assert!(limited.headers().contains_key(header::RETRY_AFTER));
    assert_error(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let failures = app
        .state
        .auth
        .audit_events(&authgate_core::AuditFilter {
            user_id: Some(alice.user.id),
            kind: Some("login.failed".into()),
            limit: 10,
            ..authgate_core::AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(failures.len(), 5);
    assert_eq!(
        failures[0].details["during"],
        Value::from("password.change")
    );
    // Nothing changed.
    app.advance(std::time::Duration::from_secs(2));
    app.login_ok(&alice.email, PASSWORD).await;
}

#[tokio::test]
async fn without_a_valid_token_the_change_is_401_invalid_token() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/auth/password/change"))
        .json(&json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::UNAUTHORIZED, "invalid_token").await;
}
