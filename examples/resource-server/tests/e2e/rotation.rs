//! Key rotation reaches a running guard without a restart: the next key is
//! published before it signs, and a key the guard has not seen yet is
//! fetched when the first token signed with it arrives.

use std::time::Duration;

use authgate_testkit::spawn_app;

use crate::support::*;

#[tokio::test]
async fn a_rotation_to_the_published_next_key_needs_no_fetch_at_all() {
    let app = spawn_app().await;
    // A rotation leaves a `next` key published beside the active one (as
    // the schedule does a publication lead before each rotation).
    app.state.rotate_keys().await.unwrap();
    let proxy = CountingProxy::start(&app.base_url).await;
    let guard = guard_for(&app, &proxy.jwks_url());
    guard.jwks().unwrap().refresh().await.unwrap();
    assert_eq!(
        guard.jwks().unwrap().status().key_ids.len(),
        published_kids(&app).len()
    );
    let before = app.new_user().await;

    app.state.rotate_keys().await.unwrap();
    let after = app.new_user().await;
    assert_ne!(kid(&before.access), kid(&after.access), "a new key signs");

    for token in [&before.access, &after.access] {
        assert!(guard.authenticate(Some(&bearer(token))).await.is_ok());
    }
    assert_eq!(proxy.jwks_requests(), 1, "the next key was already held");
}

#[tokio::test]
async fn a_key_never_seen_is_fetched_when_its_first_token_arrives() {
    let app = spawn_app().await;
    let proxy = CountingProxy::start(&app.base_url).await;
    let guard = guard_for(&app, &proxy.jwks_url());
    guard.jwks().unwrap().refresh().await.unwrap();

    // Two rotations: the key signing now was created after our fetch.
    app.state.rotate_keys().await.unwrap();
    app.state.rotate_keys().await.unwrap();
    let user = app.new_user().await;
    let principal = guard
        .authenticate(Some(&bearer(&user.access)))
        .await
        .unwrap();
    assert_eq!(principal.subject(), user.user.id.to_string());
    let status = guard.jwks().unwrap().status();
    assert_eq!(proxy.jwks_requests(), 2);
    assert_eq!(status.unknown_kid_refetches, 1);
    assert!(status.key_ids.contains(&kid(&user.access)));
}

#[tokio::test]
async fn a_scheduled_refresh_brings_the_next_key_before_it_signs() {
    let app = spawn_app().await;
    let proxy = CountingProxy::start(&app.base_url).await;
    let guard = guard_for(&app, &proxy.jwks_url());
    let jwks = guard.jwks().unwrap();
    jwks.tick().await.unwrap();
    app.state.rotate_keys().await.unwrap();

    app.advance(Duration::from_secs(225));
    assert_eq!(jwks.tick().await, Ok(true), "the scheduled refresh");
    app.state.rotate_keys().await.unwrap();
    let user = app.new_user().await;
    assert!(
        guard
            .authenticate(Some(&bearer(&user.access)))
            .await
            .is_ok()
    );
    let status = jwks.status();
    assert_eq!(status.unknown_kid_refetches, 0, "nothing was unknown");
    assert_eq!(proxy.jwks_requests(), 2);
}

#[tokio::test]
async fn a_key_that_left_the_jwks_stops_verifying_after_the_refresh() {
    let app = spawn_app().await;
    let proxy = CountingProxy::start(&app.base_url).await;
    let guard = guard_for(&app, &proxy.jwks_url());
    let jwks = guard.jwks().unwrap();
    jwks.tick().await.unwrap();
    let old = app.new_user().await;
    assert!(guard.authenticate(Some(&bearer(&old.access))).await.is_ok());

    // Retired at rotation; expired (and unpublished) once every token it
    // signed has expired: access TTL plus leeway later.
    app.state.rotate_keys().await.unwrap();
    app.advance(Duration::from_secs(15 * 60 + 60 + 1));
    app.state.sync_keys().await;
    assert!(!published_kids(&app).contains(&kid(&old.access)));
    jwks.tick().await.unwrap();
    let held = jwks.status().key_ids;
    assert!(!held.contains(&kid(&old.access)), "{held:?}");
    assert!(!held.is_empty());
}

fn kid(token: &str) -> String {
    authgate_jwt::decode_unverified::<serde_json::Value>(token)
        .unwrap()
        .header
        .kid
        .unwrap()
}

fn published_kids(app: &authgate_testkit::TestApp) -> Vec<String> {
    app.state
        .keys
        .ring()
        .jwks()
        .keys
        .into_iter()
        .filter_map(|jwk| jwk.kid)
        .collect()
}
