//! Keys, tokens and guards for the tests.

use std::net::SocketAddr;
use std::sync::Arc;

use authgate_guard::{Guard, ManualClock, Permissions, VerifierConfig};
use authgate_jwt::{Algorithm, KeySet, SigningKey, sign};
use axum::body::Body;
use axum::http::{Request, Response};
use serde_json::{Value, json};

pub(crate) const ISS: &str = "https://auth.example";
pub(crate) const AUD: &str = "api";
pub(crate) const NOW: i64 = 1_800_000_000;

/// An EdDSA key with a kid.
pub(crate) fn key(kid: &str) -> SigningKey {
    SigningKey::generate(Algorithm::EdDSA)
        .unwrap()
        .with_kid(kid)
}

pub(crate) fn keyset(keys: &[&SigningKey]) -> KeySet {
    let mut set = KeySet::new();
    for key in keys {
        set.insert(key.verifying_key().clone()).unwrap();
    }
    set
}

/// Access-token claims valid from NOW for 15 minutes.
pub(crate) fn claims(jti: &str, roles: &[&str]) -> Value {
    json!({
        "iss": ISS, "sub": "0193a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b", "aud": AUD,
        "exp": NOW + 900, "iat": NOW, "nbf": NOW, "jti": jti,
        "sid": "0193a5b2-8000-7000-8000-000000000001", "roles": roles,
    })
}

pub(crate) fn token(key: &SigningKey, claims: &Value) -> String {
    sign(key, Some("at+jwt"), claims).unwrap()
}

pub(crate) fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A guard over `key` with a manual clock at NOW and `analyst` → `reports:read`.
pub(crate) fn guard(key: &SigningKey) -> (Guard, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at_unix(NOW));
    let guard = Guard::builder(VerifierConfig::new(ISS, AUD))
        .keys(keyset(&[key]))
        .clock(clock.clone())
        .permissions(Permissions::new([("analyst", ["reports:read"])]))
        .build()
        .unwrap();
    (guard, clock)
}

/// A GET of `path` with an optional Authorization header.
pub(crate) fn request(path: &str, authorization: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.body(Body::empty()).unwrap()
}

/// Status, WWW-Authenticate and the JSON body of a response.
pub(crate) async fn read(response: Response<Body>) -> (u16, Option<String>, Value) {
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, challenge, body)
}

pub(crate) const INVALID_TOKEN: &str = r#"Bearer realm="authgate", error="invalid_token""#;
pub(crate) const BARE: &str = r#"Bearer realm="authgate""#;
pub(crate) const INSUFFICIENT: &str = r#"Bearer realm="authgate", error="insufficient_scope""#;

/// Serves `router` on 127.0.0.1 (a free port) for the rest of the test.
pub(crate) async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    address
}
