//! The JWKS fetcher's answers while something goes wrong between the guard
//! and the JWKS URL: a token waiting on a fetch that fails, and a client
//! that follows a redirect the guard must not trust.

use std::sync::Arc;

use authgate_guard::{Guard, GuardError, JwksSettings, ManualClock, VerifierConfig};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Redirect;
use axum::routing::get;
use tokio::sync::Notify;

use crate::support::*;

/// A guard on `http://{address}{path}` that fetches only when asked.
fn jwks_guard(address: std::net::SocketAddr, path: &str, client: Option<reqwest::Client>) -> Guard {
    let mut settings = JwksSettings::default();
    settings.background_refresh = false;
    let mut builder = Guard::builder(VerifierConfig::new(ISS, AUD))
        .jwks_url(format!("http://{address}{path}"))
        .jwks_settings(settings)
        .clock(Arc::new(ManualClock::at_unix(NOW)));
    if let Some(client) = client {
        builder = builder.http_client(client);
    }
    builder.build().unwrap()
}

/// A JWKS endpoint that holds each request until released, then fails.
#[derive(Default)]
struct Stalled {
    received: Notify,
    release: Notify,
}

async fn stalled(State(endpoint): State<Arc<Stalled>>) -> StatusCode {
    endpoint.received.notify_one();
    endpoint.release.notified().await;
    StatusCode::INTERNAL_SERVER_ERROR
}

#[tokio::test]
async fn a_token_that_waited_on_a_failed_fetch_is_a_503_while_no_keys_were_ever_loaded() {
    let endpoint = Arc::new(Stalled::default());
    let router = Router::new()
        .route("/jwks.json", get(stalled))
        .with_state(endpoint.clone());
    let guard = jwks_guard(serve(router).await, "/jwks.json", None);
    let jwks = guard.jwks().unwrap();
    let header = bearer(&token(&key("k1"), &claims("t1", &[])));

    let first_fetch = tokio::spawn({
        let jwks = jwks.clone();
        async move { jwks.refresh().await }
    });
    endpoint.received.notified().await;
    let waiting = tokio::spawn({
        let guard = guard.clone();
        async move { guard.authenticate(Some(&header)).await }
    });
    // The token has asked for a refetch and now waits on the one in flight.
    while jwks.status().unknown_kid_refetches == 0 {
        tokio::task::yield_now().await;
    }
    endpoint.release.notify_one();

    assert!(first_fetch.await.unwrap().is_err());
    let answer = waiting.await.unwrap();
    assert!(
        matches!(answer, Err(GuardError::Unavailable(_))),
        "no keys were ever loaded: 503, not 401; got {answer:?}"
    );
    assert_eq!(
        jwks.status().requests,
        1,
        "the token joined the fetch in flight"
    );
}

async fn keys(State(document): State<String>) -> String {
    document
}

#[tokio::test]
async fn keys_reached_through_a_redirect_are_refused_whatever_the_client() {
    let key = key("k1");
    let document = serde_json::to_string(&keyset(&[&key]).to_jwks()).unwrap();
    let router = Router::new()
        .route(
            "/jwks.json",
            get(|| async { Redirect::temporary("/elsewhere.json") }),
        )
        .route("/elsewhere.json", get(keys))
        .with_state(document);
    // reqwest's default policy follows up to ten redirects.
    let following = reqwest::Client::builder().no_proxy().build().unwrap();
    let guard = jwks_guard(serve(router).await, "/jwks.json", Some(following));
    let jwks = guard.jwks().unwrap();

    assert!(matches!(
        jwks.refresh().await,
        Err(GuardError::Unavailable(_))
    ));
    assert!(jwks.status().key_ids.is_empty());
    let header = bearer(&token(&key, &claims("t1", &[])));
    assert!(matches!(
        guard.authenticate(Some(&header)).await,
        Err(GuardError::Unavailable(_))
    ));
}

/// A JWKS endpoint serving `document` while `up`, failing otherwise.
#[derive(Clone)]
struct Flaky {
    document: String,
    up: Arc<std::sync::atomic::AtomicBool>,
}

async fn flaky(State(endpoint): State<Flaky>) -> Result<String, StatusCode> {
    if endpoint.up.load(std::sync::atomic::Ordering::SeqCst) {
        Ok(endpoint.document)
    } else {
        Err(StatusCode::SERVICE_UNAVAILABLE)
    }
}

#[tokio::test]
async fn keys_no_fetch_has_confirmed_for_longer_than_the_maximum_staleness_fail_closed() {
    let key = key("k1");
    let endpoint = Flaky {
        document: serde_json::to_string(&keyset(&[&key]).to_jwks()).unwrap(),
        up: Arc::new(std::sync::atomic::AtomicBool::new(true)),
    };
    let router = Router::new()
        .route("/jwks.json", get(flaky))
        .with_state(endpoint.clone());
    let address = serve(router).await;
    let clock = Arc::new(ManualClock::at_unix(NOW));
    let mut settings = JwksSettings::default();
    settings.background_refresh = false;
    let guard = Guard::builder(VerifierConfig::new(ISS, AUD))
        .jwks_url(format!("http://{address}/jwks.json"))
        .jwks_settings(settings)
        .max_jwks_staleness(std::time::Duration::from_secs(7_200))
        .clock(clock.clone())
        .build()
        .unwrap();
    let jwks = guard.jwks().unwrap();
    let mut long_lived = claims("t1", &[]);
    long_lived["exp"] = (NOW + 86_400).into();
    let header = bearer(&token(&key, &long_lived));

    jwks.refresh().await.unwrap();
    guard.authenticate(Some(&header)).await.unwrap();

    // The server goes away: the keys held are trusted for two hours more...
    endpoint
        .up
        .store(false, std::sync::atomic::Ordering::SeqCst);
    clock.advance(time::Duration::seconds(7_200));
    assert!(jwks.tick().await.is_err());
    guard.authenticate(Some(&header)).await.unwrap();

    // ...and not a second longer: 503, not a 401 that would drop sessions.
    clock.advance(time::Duration::seconds(1));
    let refused = guard.authenticate(Some(&header)).await.unwrap_err();
    assert_eq!(refused, GuardError::StaleKeys);
    assert_eq!(refused.http_status(), 503);
    assert_eq!(jwks.status().stale_refusals, 1);

    // A fetch that succeeds again trusts the keys again.
    endpoint.up.store(true, std::sync::atomic::Ordering::SeqCst);
    jwks.refresh().await.unwrap();
    guard.authenticate(Some(&header)).await.unwrap();
}

#[test]
fn the_maximum_staleness_defaults_to_a_day() {
    assert_eq!(JwksSettings::default().max_staleness_secs, 86_400);
}
