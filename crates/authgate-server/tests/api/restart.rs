//! What survives a restart of the server on the same data directory (users,
//! sessions, signing keys, revocations), and what a second instance on the
//! same stores sees.

use authgate_jwt::decode_unverified;
use authgate_proto::{AccessClaims, MeResponse};
use authgate_testkit::reqwest::StatusCode;
use authgate_testkit::{
    PASSWORD, assert_error, assert_invalid_token, expect_json, spawn_app, spawn_app_with,
};

fn kid(token: &str) -> String {
    decode_unverified::<AccessClaims>(token)
        .unwrap()
        .header
        .kid
        .unwrap()
}

#[tokio::test]
async fn a_restart_keeps_users_sessions_and_signing_keys() {
    let mut app = spawn_app().await;
    let alice = app.new_user().await;
    let old_address = app.address;

    app.restart().await;
    assert_ne!(app.address, old_address, "a new server on a new port");

    let me: MeResponse = expect_json(app.me(&alice.access).await, StatusCode::OK).await;
    assert_eq!(me.user, alice.user);
    let refreshed = app.refresh_ok(&alice.refresh).await;
    assert_eq!(
        kid(&refreshed.access_token),
        kid(&alice.access),
        "same signing key"
    );
    let again = app.login_ok(&alice.email, PASSWORD).await;
    assert_eq!(again.user.id, alice.user.id);
}

#[tokio::test]
async fn a_session_revoked_before_a_restart_stays_revoked_after_it() {
    let mut app = spawn_app().await;
    let alice = app.new_user().await;
    app.logout(&alice.access, None).await;

    app.restart().await;
    // The access token has not expired, but the new process knows it was revoked.
    assert_invalid_token(app.me(&alice.access).await).await;
    assert_invalid_token(app.sessions(&alice.access).await).await;
    assert_error(
        app.refresh(&alice.refresh).await,
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn a_logout_on_one_instance_is_honoured_by_another_sharing_its_stores() {
    // docs/http-api.md: after logout the access token "is rejected from then on, by
    // this server and by every instance sharing its stores".
    let first = spawn_app().await;
    let data_dir = first.data_dir.clone();
    let second = spawn_app_with(|s| s.storage.data_dir = data_dir).await;
    let alice = first.new_user().await;
    expect_json::<MeResponse>(second.me(&alice.access).await, StatusCode::OK).await;

    expect_json::<serde_json::Value>(second.sessions(&alice.access).await, StatusCode::OK).await;

    first.logout(&alice.access, None).await;
    // The instance that logged out refuses the token at once; another one
    // trusts its copy of the session for at most FRESH_FOR (docs/architecture.md:
    // every instance sees a revocation within a second), then refuses too.
    assert_invalid_token(first.me(&alice.access).await).await;
    second.advance(std::time::Duration::try_from(authgate_core::FRESH_FOR).unwrap());
    assert_invalid_token(second.me(&alice.access).await).await;
    assert_invalid_token(second.sessions(&alice.access).await).await;
}
