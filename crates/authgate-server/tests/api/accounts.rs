//! Disabled accounts: no login, and (docs/http-api.md) disabling revokes every session,
//! so the user's refresh tokens and access tokens stop working.
//!
//! Accounts are disabled through the user store, as `authgate user disable`
//! does (from another process, possibly while the server runs). The server
//! has used the user's token just before, so its caches are warm; a change
//! made by another process reaches it within [`FRESH_FOR`] (docs/architecture.md:
//! within a second), and the tests move its clock that far.

use authgate_core::FRESH_FOR;
use authgate_proto::MeResponse;
use authgate_testkit::reqwest::StatusCode;
use authgate_testkit::{
    TestApp, TestUser, assert_error, assert_invalid_token, expect_json, spawn_app,
};
use serde_json::json;

/// Disables `user` through the store. Before that, their access token is
/// used once, so the server holds it in its verified-token cache (and the
/// session and user records in theirs): what follows is tested against
/// warm caches, as on a server in use.
async fn disable(app: &TestApp, user: &TestUser) {
    assert_eq!(app.me(&user.access).await.status(), StatusCode::OK);
    let (disabled, revoked) = app
        .store()
        .await
        .set_active(user.user.id, false, app.now())
        .await
        .unwrap()
        .expect("the user exists");
    assert!(!disabled.is_active);
    assert_eq!(revoked.len(), 1, "the store revoked the user's one session");
    app.advance(std::time::Duration::try_from(FRESH_FOR).unwrap());
}

#[tokio::test]
async fn a_disabled_user_with_the_right_password_is_account_disabled() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    disable(&app, &alice).await;
    assert_error(
        app.login(&alice.email, &alice.password).await,
        StatusCode::FORBIDDEN,
        "account_disabled",
    )
    .await;
    // Without the right password, nothing tells the account is disabled.
    assert_error(
        app.login(&alice.email, "some-other-long-password-9").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn a_disabled_users_refresh_token_is_invalid_grant() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    disable(&app, &alice).await;
    assert_error(
        app.refresh(&alice.refresh).await,
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn a_disabled_users_access_token_is_refused_by_me() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    disable(&app, &alice).await;
    assert_invalid_token(app.me(&alice.access).await).await;
}

// docs/http-api.md: disabling revokes all the user's sessions, and a revoked access
// token is `invalid_token` on every Bearer endpoint, "by this server and by
// every instance sharing its stores" (`authgate user disable` writes the
// store from another process).

#[tokio::test]
async fn a_disabled_users_access_token_is_refused_by_the_session_list() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    disable(&app, &alice).await;
    assert_invalid_token(app.sessions(&alice.access).await).await;
}

#[tokio::test]
async fn a_disabled_users_access_token_is_refused_by_logout() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let bob = app.new_user().await;
    disable(&app, &alice).await;
    assert_invalid_token(app.logout(&alice.access, Some(&json!({"all": true}))).await).await;
    // Others are not affected.
    expect_json::<MeResponse>(app.me(&bob.access).await, StatusCode::OK).await;
}
