//! The JWKS is fetched once, served from memory, refreshed on the schedule
//! the server's Cache-Control sets (revalidated with its ETag), and the
//! background task does the fetching on its own.

use std::sync::Arc;
use std::time::Duration;

use authgate_guard::{Guard, SystemClock, VerifierConfig};
use authgate_testkit::spawn_app;

use crate::support::*;

#[tokio::test]
async fn the_jwks_is_fetched_once_and_every_verification_uses_the_cached_keys() {
    let app = spawn_app().await;
    let proxy = CountingProxy::start(&app.base_url).await;
    let guard = guard_for(&app, &proxy.jwks_url());
    guard.jwks().unwrap().refresh().await.unwrap();
    assert_eq!(proxy.jwks_requests(), 1);

    let published: Vec<String> = app
        .state
        .keys
        .ring()
        .jwks()
        .keys
        .into_iter()
        .filter_map(|jwk| jwk.kid)
        .collect();
    assert_eq!(guard.jwks().unwrap().status().key_ids, published);

    for _ in 0..3 {
        let user = app.new_user().await;
        for _ in 0..10 {
            let principal = guard
                .authenticate(Some(&bearer(&user.access)))
                .await
                .unwrap();
            assert_eq!(principal.subject(), user.user.id.to_string());
        }
    }
    assert_eq!(
        proxy.jwks_requests(),
        1,
        "no request while the keys are fresh"
    );
}

#[tokio::test]
async fn the_refresh_follows_cache_control_and_revalidates_with_the_etag() {
    let app = spawn_app().await;
    let proxy = CountingProxy::start(&app.base_url).await;
    let guard = guard_for(&app, &proxy.jwks_url());
    let jwks = guard.jwks().unwrap();
    assert_eq!(
        jwks.tick().await,
        Ok(true),
        "the first step fetches at once"
    );
    let status = jwks.status();
    let fetched_at = status.fetched_at.unwrap();
    // authgate answers `Cache-Control: public, max-age=300`: stale after
    // 300 s, refreshed a quarter before.
    assert_eq!(status.stale_at, Some(fetched_at + 300));
    assert_eq!(status.refresh_at, fetched_at + 225);

    app.advance(Duration::from_secs(224));
    assert_eq!(jwks.tick().await, Ok(false));
    assert_eq!(proxy.jwks_requests(), 1, "not due yet: no request");

    app.advance(Duration::from_secs(1));
    assert_eq!(jwks.tick().await, Ok(true));
    let status = jwks.status();
    assert_eq!(proxy.jwks_requests(), 2);
    assert_eq!(status.not_modified, 1, "unchanged keys: 304 on the ETag");
    assert_eq!(status.refresh_at, fetched_at + 225 + 225);
}

#[tokio::test]
async fn the_background_task_fetches_without_being_asked() {
    let app = spawn_app().await;
    let proxy = CountingProxy::start(&app.base_url).await;
    let guard = Guard::builder(VerifierConfig::new(
        app.state.auth.settings().issuer.clone(),
        AUDIENCE,
    ))
    .jwks_url(proxy.jwks_url())
    .clock(Arc::new(SystemClock))
    .build()
    .unwrap();
    // A bounded wait for a real server to answer; no timer must expire.
    let fetched = tokio::time::timeout(Duration::from_secs(10), async {
        while guard.jwks().unwrap().status().fetched_at.is_none() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(fetched.is_ok(), "the background task fetched the JWKS");
    let user = app.new_user().await;
    assert!(
        guard
            .authenticate(Some(&bearer(&user.access)))
            .await
            .is_ok()
    );
    assert_eq!(proxy.jwks_requests(), 1);
    drop(guard);
}
