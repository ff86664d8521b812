//! A flood of forged tokens naming made-up key ids costs authgate at most
//! one JWKS request per 30 s, and honest tokens keep verifying meanwhile.

use std::time::Duration;

use authgate_jwt::{Algorithm, SigningKey, sign};
use authgate_testkit::{TestApp, spawn_app};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::support::*;

/// `count` well-formed access tokens for `app`'s issuer and audience, each
/// signed by an attacker's key under a random key id.
fn forged(app: &TestApp, count: usize) -> Vec<String> {
    let now = app.now().unix_timestamp();
    (0..count)
        .map(|_| {
            let key = SigningKey::generate(Algorithm::EdDSA)
                .unwrap()
                .with_kid(uuid::Uuid::new_v4().to_string());
            let claims = serde_json::json!({
                "iss": app.state.auth.settings().issuer, "aud": AUDIENCE,
                "sub": uuid::Uuid::new_v4(), "jti": uuid::Uuid::new_v4(),
                "iat": now, "nbf": now, "exp": now + 900, "roles": ["admin"],
            });
            sign(&key, Some("at+jwt"), &claims).unwrap()
        })
        .collect()
}

/// Sends every token to the example service at once; all must get 401.
async fn flood(router: &axum::Router, tokens: Vec<String>) {
    let mut requests = JoinSet::new();
    for token in tokens {
        let router = router.clone();
        requests.spawn(async move {
            let response = router
                .oneshot(request("/api/me", Some(&bearer(&token))))
                .await
                .unwrap();
            read(response).await
        });
    }
    while let Some(answer) = requests.join_next().await {
        let (status, challenge, body) = answer.unwrap();
        assert_eq!(status, 401);
        assert_eq!(challenge.as_deref(), Some(INVALID_TOKEN));
        assert_eq!(body["error"], "invalid_token");
    }
}

#[tokio::test]
async fn a_thousand_garbage_tokens_cost_at_most_one_jwks_request_per_30_seconds() {
    let app = spawn_app().await;
    let proxy = CountingProxy::start(&app.base_url).await;
    let guard = guard_for(&app, &proxy.jwks_url());
    guard.jwks().unwrap().refresh().await.unwrap();
    let router = resource_server::app(guard.clone());
    let honest = app.new_user().await;

    flood(&router, forged(&app, 1000)).await;
    assert_eq!(
        proxy.jwks_requests(),
        2,
        "the first fetch, then one refetch"
    );

    app.advance(Duration::from_secs(29));
    flood(&router, forged(&app, 1000)).await;
    assert_eq!(proxy.jwks_requests(), 2, "still inside the 30 s window");

    let response = router
        .clone()
        .oneshot(request("/api/me", Some(&bearer(&honest.access))))
        .await
        .unwrap();
    assert_eq!(read(response).await.0, 200, "honest tokens are unaffected");

    app.advance(Duration::from_secs(1));
    flood(&router, forged(&app, 1000)).await;
    assert_eq!(
        proxy.jwks_requests(),
        3,
        "one more once the window has passed"
    );
    assert_eq!(guard.jwks().unwrap().status().unknown_kid_refetches, 2);
}
