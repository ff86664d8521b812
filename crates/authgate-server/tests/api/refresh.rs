//! Refresh-token rotation: the grace window that spares racing tabs, theft
//! detection outside it, and the tokens that never refresh.

use std::collections::BTreeSet;
use std::time::Duration;

use authgate_proto::MeResponse;
use authgate_testkit::reqwest::StatusCode;
use authgate_testkit::{
    PASSWORD, TestApp, assert_error, assert_invalid_token, assert_no_store, expect_json, spawn_app,
};
use serde_json::{Value, json};

/// One second past the default reuse grace window (10 s).
const PAST_GRACE: Duration = Duration::from_secs(11);

async fn assert_invalid_grant(app: &TestApp, refresh_token: &str) {
    assert_error(
        app.refresh(refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn a_rotated_refresh_token_presented_after_the_grace_window_revokes_the_session() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let next = app.refresh_ok(&alice.refresh).await;

    app.advance(PAST_GRACE);
    assert_invalid_grant(&app, &alice.refresh).await;

    // Theft is assumed: the current refresh token and every access token die too.
    assert_invalid_grant(&app, &next.refresh_token).await;
    assert_invalid_token(app.me(&next.access_token).await).await;
    assert_invalid_token(app.me(&alice.access).await).await;
    assert_invalid_token(app.sessions(&alice.access).await).await;
    // The user can still log in afresh.
    app.login_ok(&alice.email, PASSWORD).await;
}

#[tokio::test]
async fn inside_the_grace_window_the_parent_gets_the_same_successor_again() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let first = app.refresh_ok(&alice.refresh).await;

    app.advance(Duration::from_secs(9));
    let response = app.refresh(&alice.refresh).await;
    assert_no_store(response.headers());
    let second: Value = expect_json(response, StatusCode::OK).await;
    assert_eq!(
        second["refresh_token"],
        first.refresh_token.as_str(),
        "no new branch"
    );
    let second_access = second["access_token"].as_str().unwrap();
    expect_json::<MeResponse>(app.me(second_access).await, StatusCode::OK).await;

    // The successor is the session's one current token and goes on working.
    let third = app.refresh_ok(&first.refresh_token).await;
    app.refresh_ok(&third.refresh_token).await;
}

#[tokio::test]
async fn an_older_generation_inside_the_grace_window_revokes_the_session() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let child = app.refresh_ok(&alice.refresh).await;
    let grandchild = app.refresh_ok(&child.refresh_token).await;

    // Within the window, but the login's token is a grandparent now: no grace.
    app.advance(Duration::from_secs(1));
    assert_invalid_grant(&app, &alice.refresh).await;
    assert_invalid_grant(&app, &grandchild.refresh_token).await;
    assert_invalid_token(app.me(&grandchild.access_token).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_refreshes_with_one_token_all_get_the_one_same_successor() {
    let app = spawn_app().await;
    let alice = app.new_user().await;

    let mut racers = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let request = app
            .client
            .post(app.url("/auth/refresh"))
            .json(&json!({"refresh_token": alice.refresh}));
        racers.spawn(async move {
            let response = request.send().await.expect("every refresh is answered");
            let status = response.status();
            (status, response.text().await.expect("a body"))
        });
    }
    let answers = racers.join_all().await;
    assert_eq!(answers.len(), 20);

    let failures: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status != StatusCode::OK)
        .collect();
    assert!(failures.is_empty(), "racing refreshes failed: {failures:?}");
    let successors: BTreeSet<String> = answers
        .iter()
        .map(|(_, body)| {
            let body: Value = serde_json::from_str(body).unwrap();
            body["refresh_token"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(successors.len(), 1, "exactly one successor: {successors:?}");
    let successor = successors.into_iter().next().unwrap();
    assert_ne!(successor, alice.refresh);

    // The winner's successor is the live token of the session.
    app.advance(PAST_GRACE);
    let next = app.refresh_ok(&successor).await;
    expect_json::<MeResponse>(app.me(&next.access_token).await, StatusCode::OK).await;
}

#[tokio::test]
async fn an_unknown_refresh_token_is_invalid_grant() {
    let app = spawn_app().await;
    app.new_user().await;
    let long = "x".repeat(600);
    for token in [
        "",
        "not-a-token",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        &long,
    ] {
        assert_invalid_grant(&app, token).await;
    }
}

#[tokio::test]
async fn the_refresh_token_of_a_logged_out_session_is_invalid_grant() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    app.logout(&alice.access, None).await;
    assert_invalid_grant(&app, &alice.refresh).await;
}

#[tokio::test]
async fn a_refresh_token_past_the_session_lifetime_is_invalid_grant() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let next = app.refresh_ok(&alice.refresh).await;

    // Refreshing never extends the session: 30 days after login it is over.
    app.advance(Duration::from_secs(30 * 86_400 - 60));
    let last = app.refresh_ok(&next.refresh_token).await;
    assert_eq!(last.refresh_expires_in, 60);
    app.advance(Duration::from_secs(61));
    assert_invalid_grant(&app, &last.refresh_token).await;
}

#[tokio::test]
async fn a_refresh_keeps_the_user_and_answers_in_the_login_shape_without_user() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let response = app.refresh(&alice.refresh).await;
    let body: Value = expect_json(response, StatusCode::OK).await;
    let keys: BTreeSet<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "access_token",
            "token_type",
            "expires_in",
            "refresh_token",
            "refresh_expires_in"
        ])
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let me: MeResponse = expect_json(
        app.me(body["access_token"].as_str().unwrap()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me.user.id, alice.user.id);
}

#[tokio::test]
async fn the_successor_kept_for_the_grace_window_is_sealed_in_the_current_format() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let next = app.refresh_ok(&alice.refresh).await;

    let store = app.store().await;
    let parent = store
        .refresh_token(&authgate_core::TokenHash::of(&alice.refresh))
        .await
        .unwrap()
        .unwrap();
    let sealed = parent.successor_sealed.expect("kept for the grace window");
    assert!(
        sealed.starts_with(b"ag2:"),
        "sealed under the successors' own subkey (v2), not the master key itself"
    );
    let plain = next.refresh_token.as_bytes();
    assert!(
        !sealed.windows(plain.len()).any(|w| w == plain),
        "never in plaintext"
    );
}
