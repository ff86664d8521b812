//! Introspection as the key source and as the revocation check, against a
//! small RFC 7662 endpoint that answers as docs/http-api.md's `/oauth/introspect`
//! does (authgate's own endpoint is not on this branch yet).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use authgate_guard::{
    Guard, GuardError, GuardLayer, IntrospectionConfig, IntrospectionRevocation, Introspector,
    ManualClock, VerifierConfig,
};
use authgate_proto::{Audience, IntrospectionResponse, IntrospectionTokenType};
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

use crate::support::*;

const CLIENT_ID: &str = "orders-service";
const SECRET: &str = "s3cret with spaces & symbols";

/// The endpoint's state: the active tokens, a request counter, and the
/// token whose requests are held open until released.
#[derive(Default)]
struct Endpoint {
    active: Mutex<HashMap<String, IntrospectionResponse>>,
    requests: AtomicUsize,
    held: watch::Sender<Option<String>>,
    /// Told of each request held open.
    received: Notify,
}

impl Endpoint {
    fn activate(&self, token: &str, jti: &str, token_type: IntrospectionTokenType) {
        let answer = IntrospectionResponse {
            active: true,
            sub: Some("0193a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b".into()),
            roles: Some(vec!["user".into()]),
            token_type: Some(token_type),
            exp: Some(NOW + 900),
            iat: Some(NOW),
            nbf: Some(NOW),
            iss: Some(ISS.into()),
            aud: Some(Audience::new(AUD)),
            jti: Some(jti.into()),
            ..IntrospectionResponse::default()
        };
        self.active.lock().unwrap().insert(token.into(), answer);
    }

    fn revoke(&self, token: &str) {
        self.active.lock().unwrap().remove(token);
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Requests about `token` wait, from now until `release`.
    fn hold(&self, token: &str) {
        self.held.send_replace(Some(token.into()));
    }

    fn release(&self) {
        self.held.send_replace(None);
    }
}

async fn introspect(
    State(endpoint): State<Arc<Endpoint>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    endpoint.requests.fetch_add(1, Ordering::SeqCst);
    // RFC 6749 §2.3.1: id and secret form-urlencoded, then Basic.
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode("orders-service:s3cret+with+spaces+%26+symbols")
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"error": "invalid_client", "error_description": "no"})),
        )
            .into_response();
    }
    let token = form.get("token").cloned().unwrap_or_default();
    let mut held = endpoint.held.subscribe();
    if held.borrow_and_update().as_deref() == Some(token.as_str()) {
        endpoint.received.notify_one();
        held.wait_for(|held| held.as_deref() != Some(token.as_str()))
            .await
            .unwrap();
    }
    let answer = endpoint.active.lock().unwrap().get(&token).cloned();
    Json(answer.unwrap_or_else(IntrospectionResponse::inactive)).into_response()
}

async fn endpoint() -> (Arc<Endpoint>, SocketAddr) {
    let state = Arc::new(Endpoint::default());
    let router = Router::new()
        .route("/oauth/introspect", post(introspect))
        .route(
            "/moved",
            post(|| async { Redirect::temporary("/oauth/introspect") }),
        )
        .with_state(state.clone());
    (state, serve(router).await)
}

fn config(address: SocketAddr, secret: &str, ttl: i64) -> IntrospectionConfig {
    let mut config = IntrospectionConfig::new(
        format!("http://{address}/oauth/introspect"),
        CLIENT_ID,
        secret,
    );
    config.cache_ttl_secs = ttl;
    config
}

fn introspecting_guard(address: SocketAddr, ttl: i64) -> (Guard, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at_unix(NOW));
    let guard = Guard::builder(VerifierConfig::new(ISS, AUD))
        .introspection(config(address, SECRET, ttl))
        .clock(clock.clone())
        .build()
        .unwrap();
    (guard, clock)
}

/// A token of the right shape; only the endpoint says whether it is good.
fn access_token(jti: &str) -> String {
    token(&key("unknown-to-the-guard"), &claims(jti, &["user"]))
}

#[tokio::test]
async fn introspection_decides_and_active_answers_are_reused_for_the_cache_lifetime() {
    let (endpoint, address) = endpoint().await;
    let (guard, clock) = introspecting_guard(address, 10);
    let token = access_token("t1");
    endpoint.activate(&token, "t1", IntrospectionTokenType::Bearer);

    let principal = guard.authenticate(Some(&bearer(&token))).await.unwrap();
    assert_eq!(principal.token_id(), "t1");
    assert!(principal.has_role("user"));
    guard.authenticate(Some(&bearer(&token))).await.unwrap();
    clock.advance(time::Duration::seconds(9));
    guard.authenticate(Some(&bearer(&token))).await.unwrap();
    assert_eq!(endpoint.requests(), 1, "answered from the cache for 10 s");
    clock.advance(time::Duration::seconds(1));
    guard.authenticate(Some(&bearer(&token))).await.unwrap();
    assert_eq!(
        endpoint.requests(),
        2,
        "asked again once the answer aged out"
    );
}

#[tokio::test]
async fn a_revocation_is_seen_once_the_cached_answer_ages_out() {
    let (endpoint, address) = endpoint().await;
    let (guard, clock) = introspecting_guard(address, 10);
    let token = access_token("t1");
    endpoint.activate(&token, "t1", IntrospectionTokenType::Bearer);
    guard.authenticate(Some(&bearer(&token))).await.unwrap();
    endpoint.revoke(&token);
    assert!(
        guard.authenticate(Some(&bearer(&token))).await.is_ok(),
        "within the cache lifetime: the documented delay"
    );
    clock.advance(time::Duration::seconds(10));
    assert_eq!(
        guard.authenticate(Some(&bearer(&token))).await,
        Err(GuardError::Inactive)
    );
}

#[tokio::test]
async fn garbage_and_foreign_tokens_never_reach_the_endpoint() {
    let (endpoint, address) = endpoint().await;
    let (guard, _) = introspecting_guard(address, 10);
    let mut foreign = claims("t1", &[]);
    foreign["aud"] = "billing".into();
    let foreign = token(&key("k"), &foreign);
    let mut expired = claims("t2", &[]);
    expired["exp"] = (NOW - 3600).into();
    let expired = token(&key("k"), &expired);
    for header in [
        "Bearer garbage".to_owned(),
        bearer(&foreign),
        bearer(&expired),
    ] {
        for _ in 0..100 {
            assert!(guard.authenticate(Some(&header)).await.is_err());
        }
    }
    assert_eq!(endpoint.requests(), 0);
}

/// What the security review sent: a token that passes the unverified
/// prefilter (our issuer and audience, not expired) with no valid signature.
fn forged_token(jti: &str) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let claims = serde_json::json!({"iss": ISS, "aud": AUD, "exp": NOW + 900, "jti": jti});
    format!(
        "{}.{}.c2ln",
        b64(r#"{"alg":"EdDSA"}"#),
        b64(&claims.to_string())
    )
}

#[tokio::test]
async fn concurrent_requests_with_one_uncached_token_make_one_introspection_request() {
    let (endpoint, address) = endpoint().await;
    let (guard, _) = introspecting_guard(address, 10);
    let token = access_token("t1");
    endpoint.activate(&token, "t1", IntrospectionTokenType::Bearer);
    endpoint.hold(&token);

    let verifications: Vec<_> = (0..8)
        .map(|_| {
            let (guard, header) = (guard.clone(), bearer(&token));
            tokio::spawn(async move { guard.authenticate(Some(&header)).await })
        })
        .collect();
    endpoint.received.notified().await;
    // Every verification gets its turn to ask (or to join the request
    // under way) while the first is held open.
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    endpoint.release();

    for verification in verifications {
        assert_eq!(verification.await.unwrap().unwrap().token_id(), "t1");
    }
    assert_eq!(
        endpoint.requests(),
        1,
        "the 8 verifications shared one request"
    );
}

#[tokio::test]
async fn a_repeated_inactive_token_costs_one_request_per_ten_seconds() {
    let (endpoint, address) = endpoint().await;
    // Active answers are reused for an hour; inactive ones for 10 s at most.
    let (guard, clock) = introspecting_guard(address, 3600);
    let forged = bearer(&forged_token("f1"));
    for _ in 0..50 {
        assert_eq!(
            guard.authenticate(Some(&forged)).await,
            Err(GuardError::Inactive)
        );
    }
    assert_eq!(endpoint.requests(), 1);
    clock.advance(time::Duration::seconds(9));
    assert_eq!(
        guard.authenticate(Some(&forged)).await,
        Err(GuardError::Inactive)
    );
    assert_eq!(endpoint.requests(), 1, "still within the 10 s");
    clock.advance(time::Duration::seconds(1));
    assert_eq!(
        guard.authenticate(Some(&forged)).await,
        Err(GuardError::Inactive)
    );
    assert_eq!(
        endpoint.requests(),
        2,
        "asked again once the answer aged out"
    );
}

#[tokio::test]
async fn with_every_introspection_slot_busy_another_token_is_a_503_that_never_reaches_the_server() {
    let (endpoint, address) = endpoint().await;
    let mut limited = config(address, SECRET, 10);
    limited.max_in_flight = 1;
    limited.max_in_flight_wait = Some(Duration::ZERO);
    let guard = Guard::builder(VerifierConfig::new(ISS, AUD))
        .introspection(limited)
        .clock(Arc::new(ManualClock::at_unix(NOW)))
        .build()
        .unwrap();
    let (slow, other) = (access_token("t1"), access_token("t2"));
    endpoint.activate(&slow, "t1", IntrospectionTokenType::Bearer);
    endpoint.activate(&other, "t2", IntrospectionTokenType::Bearer);
    endpoint.hold(&slow);
    let first = tokio::spawn({
        let (guard, header) = (guard.clone(), bearer(&slow));
        async move { guard.authenticate(Some(&header)).await }
    });
    endpoint.received.notified().await;

    let app = Router::new()
        .fallback(|| async { "reached" })
        .layer(GuardLayer::new(guard.clone()));
    let response = app
        .oneshot(request("/x", Some(&bearer(&other))))
        .await
        .unwrap();
    let (status, _, body) = read(response).await;
    assert_eq!(status, 503);
    assert_eq!(body["error"], "unavailable");
    assert_eq!(endpoint.requests(), 1, "the second token was never sent");

    endpoint.release();
    assert_eq!(first.await.unwrap().unwrap().token_id(), "t1");
    let principal = guard.authenticate(Some(&bearer(&other))).await.unwrap();
    assert_eq!(principal.token_id(), "t2", "the slot is free again");
    assert_eq!(endpoint.requests(), 2);
}

#[tokio::test]
async fn an_active_refresh_token_never_opens_a_resource() {
    let (endpoint, address) = endpoint().await;
    let (guard, _) = introspecting_guard(address, 10);
    let token = access_token("t1");
    endpoint.activate(&token, "t1", IntrospectionTokenType::RefreshToken);
    let refused = guard.authenticate(Some(&bearer(&token))).await.unwrap_err();
    assert_eq!(refused.reason(), "wrong_type");
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_503_not_a_401() {
    let address = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let (guard, _) = introspecting_guard(address, 10);
    let token = access_token("t1");
    let app = Router::new()
        .fallback(|| async { "reached" })
        .layer(GuardLayer::new(guard));
    let response = app
        .oneshot(request("/x", Some(&bearer(&token))))
        .await
        .unwrap();
    let (status, challenge, body) = read(response).await;
    assert_eq!((status, challenge), (503, None));
    assert_eq!(body["error"], "unavailable");
}

#[tokio::test]
async fn refused_client_credentials_are_a_503() {
    let (endpoint, address) = endpoint().await;
    let clock = Arc::new(ManualClock::at_unix(NOW));
    let guard = Guard::builder(VerifierConfig::new(ISS, AUD))
        .introspection(config(address, "wrong", 10))
        .clock(clock)
        .build()
        .unwrap();
    let token = access_token("t1");
    endpoint.activate(&token, "t1", IntrospectionTokenType::Bearer);
    assert!(matches!(
        guard.authenticate(Some(&bearer(&token))).await,
        Err(GuardError::Unavailable(_))
    ));
}

/// A guard verifying locally with `key`, revocation checked by introspection.
fn checked_guard(
    key: &authgate_jwt::SigningKey,
    introspector: Introspector,
    fail_open: bool,
) -> Guard {
    let check = IntrospectionRevocation::new(Arc::new(introspector)).fail_open(fail_open);
    Guard::builder(VerifierConfig::new(ISS, AUD))
        .keys(keyset(&[key]))
        .clock(Arc::new(ManualClock::at_unix(NOW)))
        .revocation(Arc::new(check))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_revocation_check_refuses_a_revoked_token_that_still_verifies_locally() {
    let (endpoint, address) = endpoint().await;
    let key = key("k1");
    let token = token(&key, &claims("t1", &["user"]));
    endpoint.activate(&token, "t1", IntrospectionTokenType::Bearer);
    let guard = checked_guard(
        &key,
        Introspector::new(config(address, SECRET, 0)).unwrap(),
        false,
    );
    assert!(guard.authenticate(Some(&bearer(&token))).await.is_ok());
    endpoint.revoke(&token);
    assert_eq!(
        guard.authenticate(Some(&bearer(&token))).await,
        Err(GuardError::Inactive),
        "a cache lifetime of 0 sees the revocation on the next request"
    );
    assert!(
        guard.verifier().unwrap().stats().hits >= 1,
        "the signature check itself came from the cache"
    );
}

#[tokio::test]
async fn an_answer_about_another_token_does_not_vouch_for_this_one() {
    let (endpoint, address) = endpoint().await;
    let key = key("k1");
    let token = token(&key, &claims("t1", &[]));
    endpoint.activate(&token, "some-other-jti", IntrospectionTokenType::Bearer);
    let guard = checked_guard(
        &key,
        Introspector::new(config(address, SECRET, 0)).unwrap(),
        false,
    );
    assert_eq!(
        guard.authenticate(Some(&bearer(&token))).await,
        Err(GuardError::Inactive)
    );
}

#[tokio::test]
async fn a_revocation_check_fails_closed_unless_told_to_fail_open() {
    let address = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let key = key("k1");
    let token = token(&key, &claims("t1", &[]));
    let closed = checked_guard(
        &key,
        Introspector::new(config(address, SECRET, 0)).unwrap(),
        false,
    );
    assert!(matches!(
        closed.authenticate(Some(&bearer(&token))).await,
        Err(GuardError::Unavailable(_))
    ));
    let open = checked_guard(
        &key,
        Introspector::new(config(address, SECRET, 0)).unwrap(),
        true,
    );
    assert!(open.authenticate(Some(&bearer(&token))).await.is_ok());
}

#[tokio::test]
async fn an_answer_reached_through_a_redirect_is_refused_whatever_the_client() {
    let (endpoint, address) = endpoint().await;
    let token = access_token("t1");
    endpoint.activate(&token, "t1", IntrospectionTokenType::Bearer);
    let mut moved = config(address, SECRET, 10);
    moved.endpoint = format!("http://{address}/moved");
    // reqwest's default policy follows a 307 and posts the form again.
    let following = reqwest::Client::builder().no_proxy().build().unwrap();
    let guard = Guard::builder(VerifierConfig::new(ISS, AUD))
        .introspection(moved)
        .http_client(following)
        .clock(Arc::new(ManualClock::at_unix(NOW)))
        .build()
        .unwrap();
    assert!(matches!(
        guard.authenticate(Some(&bearer(&token))).await,
        Err(GuardError::Unavailable(_))
    ));
}

#[tokio::test]
async fn a_clock_at_the_end_of_time_does_not_overflow_the_cache_lifetime() {
    let (endpoint, address) = endpoint().await;
    let token = access_token("t1");
    endpoint.activate(&token, "t1", IntrospectionTokenType::Bearer);
    let introspector = Introspector::new(config(address, SECRET, 10)).unwrap();
    let answer = introspector.introspect(&token, i64::MAX - 1).await.unwrap();
    assert!(answer.active);
}

#[tokio::test]
async fn the_cached_entry_point_leaves_revocation_and_introspection_to_the_full_path() {
    let (endpoint, address) = endpoint().await;
    let key = key("k1");
    let token = token(&key, &claims("t1", &["user"]));
    endpoint.activate(&token, "t1", IntrospectionTokenType::Bearer);
    let header = bearer(&token);
    let public = authgate_guard::PublicRoutes::new();
    let checked = checked_guard(
        &key,
        Introspector::new(config(address, SECRET, 0)).unwrap(),
        false,
    );
    assert!(checked.authenticate(Some(&header)).await.is_ok());
    // The signature is cached, but the revocation check must still run.
    assert_eq!(
        checked.authenticate_request_cached(&public, "GET", "/data", Some(&header)),
        None
    );
    let (introspecting, _clock) = introspecting_guard(address, 10);
    assert!(introspecting.authenticate(Some(&header)).await.is_ok());
    assert_eq!(
        introspecting.authenticate_request_cached(&public, "GET", "/data", Some(&header)),
        None
    );
}
