//! A guard built while authgate is down retries on its schedule and serves
//! as soon as authgate is up; no restart of the service is needed.

use std::sync::Arc;

use authgate_guard::{Clock, Guard, GuardError, ManualClock, SystemClock, VerifierConfig};
use authgate_testkit::spawn_app_with;
use tower::ServiceExt;

use crate::support::*;

const ISSUER: &str = "https://auth.test";

/// Where nothing listens: port 1 of the loopback (a privileged port no test
/// or service here binds), playing authgate down.
const NOBODY: &str = "http://127.0.0.1:1";

#[tokio::test]
async fn a_guard_started_before_authgate_retries_and_serves_once_it_is_up() {
    // The guard's one JWKS URL, through a proxy to an address where nothing
    // listens (authgate down); authgate comes up later on a port of its
    // own, and the proxy is pointed at it. (A port picked now and bound by
    // authgate later could be taken by another process in between.)
    let proxy = CountingProxy::start(NOBODY).await;
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let guard = Guard::builder(VerifierConfig::new(ISSUER, AUDIENCE))
        .jwks_url(proxy.jwks_url())
        .jwks_settings(manual_settings())
        .clock(clock.clone())
        .build()
        .unwrap();
    let jwks = guard.jwks().unwrap();
    let router = resource_server::app(guard.clone());

    assert!(matches!(jwks.tick().await, Err(GuardError::Unavailable(_))));
    assert!(
        matches!(jwks.tick().await, Ok(false)),
        "the retry waits its turn"
    );
    let down = jwks.status();
    assert_eq!((down.consecutive_failures, down.fetched_at), (1, None));
    assert_eq!(down.refresh_at, clock.unix() + 1);
    let (status, ..) = read(
        router
            .clone()
            .oneshot(request("/api/me", Some("Bearer a.b.c")))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        status, 401,
        "a malformed token is refused whatever the keys"
    );
    // A well-formed token cannot be judged without keys: 503, so clients
    // retry instead of dropping a session that may be good.
    let signer = authgate_jwt::SigningKey::generate(authgate_jwt::Algorithm::EdDSA)
        .unwrap()
        .with_kid("not-loaded-yet");
    let claims = serde_json::json!({"iss": ISSUER, "sub": "u", "exp": clock.unix() + 60});
    let token = authgate_jwt::sign(&signer, Some("at+jwt"), &claims).unwrap();
    let (status, _, body) = read(
        router
            .clone()
            .oneshot(request("/api/me", Some(&bearer(&token))))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "unavailable");

    let app = spawn_app_with(|s| s.tokens.issuer = ISSUER.into()).await;
    proxy.set_upstream(&app.base_url);
    let user = app.new_user().await;
    // That token's key lookup was one more failed fetch: the retry backs off.
    let retry_at = jwks.status().refresh_at;
    assert_eq!(jwks.status().consecutive_failures, 2);
    clock.set_unix(app.now().unix_timestamp().max(retry_at));
    assert_eq!(jwks.tick().await, Ok(true), "the retry finds authgate up");
    let (status, _, me) = read(
        router
            .oneshot(request("/api/me", Some(&bearer(&user.access))))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(me["sub"], user.user.id.to_string());
    assert_eq!(jwks.status().consecutive_failures, 0);
}

#[tokio::test]
async fn without_a_scheduled_retry_the_first_token_after_authgate_comes_up_loads_the_keys() {
    let proxy = CountingProxy::start(NOBODY).await;
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let guard = Guard::builder(VerifierConfig::new(ISSUER, AUDIENCE))
        .jwks_url(proxy.jwks_url())
        .jwks_settings(manual_settings())
        .clock(clock.clone())
        .build()
        .unwrap();

    let app = spawn_app_with(|s| s.tokens.issuer = ISSUER.into()).await;
    proxy.set_upstream(&app.base_url);
    let user = app.new_user().await;
    // The guard holds no keys and never fetched: the first token fetches.
    clock.set_unix(app.now().unix_timestamp());
    assert!(
        guard
            .authenticate(Some(&bearer(&user.access)))
            .await
            .is_ok()
    );
    let status = guard.jwks().unwrap().status();
    assert_eq!((status.requests, status.unknown_kid_refetches), (1, 1));
    assert_eq!(proxy.jwks_requests(), 1);

    // Authgate unreachable again: refreshes fail, the keys held keep verifying.
    proxy.set_upstream(NOBODY);
    clock.set_unix(status.refresh_at);
    assert!(guard.jwks().unwrap().tick().await.is_err());
    assert_eq!(proxy.jwks_requests(), 2);
    assert!(
        guard
            .authenticate(Some(&bearer(&user.access)))
            .await
            .is_ok()
    );
    assert_eq!(guard.jwks().unwrap().status().key_ids.len(), 1);
}
