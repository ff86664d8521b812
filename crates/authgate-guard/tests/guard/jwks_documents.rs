//! The JWKS fetcher against documents a real authgate never serves: broken,
//! oversized, or an error status. The keys held stay in force and a retry
//! is scheduled with backoff. (The fetch schedule against a real authgate,
//! rotation and the unknown-kid limit are tested in examples/resource-server.)

use std::sync::{Arc, Mutex};

use authgate_guard::{Clock, Guard, GuardError, JwksSettings, ManualClock, VerifierConfig};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use crate::support::*;

/// What the endpoint serves next.
type Document = Arc<Mutex<(StatusCode, String)>>;

async fn jwks(State(document): State<Document>) -> (StatusCode, String) {
    document.lock().unwrap().clone()
}

async fn setup() -> (Guard, Arc<ManualClock>, Document, authgate_jwt::SigningKey) {
    let key = key("k1");
    let good = serde_json::to_string(&keyset(&[&key]).to_jwks()).unwrap();
    let document: Document = Arc::new(Mutex::new((StatusCode::OK, good)));
    let router = Router::new()
        .route("/jwks.json", get(jwks))
        .with_state(document.clone());
    let address = serve(router).await;
    let clock = Arc::new(ManualClock::at_unix(NOW));
    let mut settings = JwksSettings::default();
    settings.background_refresh = false;
    settings.max_body_bytes = 16 * 1024;
    let guard = Guard::builder(VerifierConfig::new(ISS, AUD))
        .jwks_url(format!("http://{address}/jwks.json"))
        .jwks_settings(settings)
        .clock(clock.clone())
        .build()
        .unwrap();
    guard.jwks().unwrap().refresh().await.unwrap();
    (guard, clock, document, key)
}

#[tokio::test]
async fn a_broken_oversized_or_failing_document_keeps_the_keys_held() {
    let (guard, clock, document, key) = setup().await;
    let jwks = guard.jwks().unwrap();
    let token = token(&key, &claims("t1", &[]));
    let broken = [
        (StatusCode::OK, "{not json".to_owned()),
        (
            StatusCode::OK,
            r#"{"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "x", "x": "!!"}]}"#.to_owned(),
        ),
        (
            StatusCode::OK,
            format!(r#"{{"keys": [], "pad": "{}"}}"#, "a".repeat(20_000)),
        ),
        (StatusCode::INTERNAL_SERVER_ERROR, "oops".to_owned()),
    ];
    for (failures, served) in broken.into_iter().enumerate() {
        *document.lock().unwrap() = served;
        clock.set_unix(jwks.status().refresh_at);
        assert!(matches!(jwks.tick().await, Err(GuardError::Unavailable(_))));
        let status = jwks.status();
        assert_eq!(status.key_ids, ["k1"], "the keys held stay in force");
        assert_eq!(status.consecutive_failures as usize, failures + 1);
        assert!(guard.authenticate(Some(&bearer(&token))).await.is_ok());
    }
}

#[tokio::test]
async fn failed_fetches_are_retried_with_exponential_backoff() {
    let (guard, clock, document, _) = setup().await;
    let jwks = guard.jwks().unwrap();
    *document.lock().unwrap() = (StatusCode::SERVICE_UNAVAILABLE, String::new());
    clock.advance(time::Duration::seconds(3600));
    let mut delays = Vec::new();
    for _ in 0..7 {
        assert!(jwks.tick().await.is_err());
        let status = jwks.status();
        delays.push(status.refresh_at - clock.unix());
        clock.set_unix(status.refresh_at - 1);
        assert_eq!(jwks.tick().await, Ok(false), "not due a second early");
        clock.advance(time::Duration::seconds(1));
    }
    assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30]);
    let requests = jwks.status().requests;
    assert_eq!(
        requests,
        1 + 7,
        "the first fetch, then one request per due retry"
    );
}
