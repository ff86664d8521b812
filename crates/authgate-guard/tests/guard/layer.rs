//! The tower layer: over an axum router, and over a plain tower service
//! with no axum in sight.

use std::convert::Infallible;

use authgate_guard::{GuardLayer, Principal, PublicRoutes, principal_of};
use axum::Router;
use axum::routing::get;
use http_body_util_shim::Full;
use tower::{ServiceBuilder, ServiceExt, service_fn};

use crate::support::*;

fn router(layer: GuardLayer) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "up" }))
        .route(
            "/data",
            get(|axum::Extension(p): axum::Extension<Principal>| async move {
                p.subject().to_owned()
            }),
        )
        .layer(layer)
}

#[tokio::test]
async fn the_layer_lets_public_routes_through_and_hands_the_principal_to_the_rest() {
    let key = key("k1");
    let (guard, _) = guard(&key);
    let layer = GuardLayer::new(guard).policy(PublicRoutes::new().exact("GET", "/healthz"));
    let response = router(layer.clone())
        .oneshot(request("/healthz", None))
        .await
        .unwrap();
    assert_eq!(read(response).await, (200, None, "up".into()));

    let response = router(layer.clone())
        .oneshot(request("/data", None))
        .await
        .unwrap();
    let (status, challenge, body) = read(response).await;
    assert_eq!((status, challenge.as_deref()), (401, Some(BARE)));
    assert_eq!(body["error"], "invalid_token");

    let token = token(&key, &claims("t1", &["user"]));
    let response = router(layer)
        .oneshot(request("/data", Some(&bearer(&token))))
        .await
        .unwrap();
    assert_eq!(
        read(response).await,
        (200, None, "0193a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b".into())
    );
}

#[tokio::test]
async fn a_path_that_only_looks_public_is_authenticated() {
    let key = key("k1");
    let (guard, _) = guard(&key);
    let layer = GuardLayer::new(guard).policy(PublicRoutes::new().prefix("GET", "/public"));
    let app = Router::new().fallback(|| async { "reached" }).layer(layer);
    for path in ["/public/../data", "/public/%2e%2e/data", "/publicity"] {
        let response = app.clone().oneshot(request(path, None)).await.unwrap();
        assert_eq!(read(response).await.0, 401, "{path}");
    }
    let response = app.oneshot(request("/public/x", None)).await.unwrap();
    assert_eq!(read(response).await.0, 200);
}

#[tokio::test]
async fn the_layer_enforces_a_role_or_a_permission() {
    let key = key("k1");
    let (guard, _) = guard(&key);
    let analyst = token(&key, &claims("t1", &["analyst"]));
    let admin = token(&key, &claims("t2", &["admin"]));
    let by_role = router(GuardLayer::new(guard.clone()).require_role("admin"));
    let by_permission = router(GuardLayer::new(guard).require_permission("reports:read"));
    for (app, token, expected) in [
        (&by_role, &analyst, 403),
        (&by_role, &admin, 200),
        (&by_permission, &analyst, 200),
        (&by_permission, &admin, 200),
    ] {
        let response = app
            .clone()
            .oneshot(request("/data", Some(&bearer(token))))
            .await
            .unwrap();
        let (status, challenge, _) = read(response).await;
        assert_eq!(status, expected);
        if status == 403 {
            assert_eq!(challenge.as_deref(), Some(INSUFFICIENT));
        }
    }
}

#[tokio::test]
async fn the_layer_wraps_a_plain_tower_service_without_axum() {
    let key = key("k1");
    let (guard, _) = guard(&key);
    let service = ServiceBuilder::new()
        .layer(GuardLayer::new(guard))
        .service(service_fn(|request: http::Request<()>| async move {
            let subject = principal_of(&request).map(|p| p.subject().to_owned());
            Ok::<_, Infallible>(http::Response::new(Full(subject.unwrap_or_default())))
        }));
    let refused = service
        .clone()
        .oneshot(http::Request::get("/x").body(()).unwrap())
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["www-authenticate"], BARE);
    let body: serde_json::Value = serde_json::from_str(&refused.body().0).unwrap();
    assert_eq!(body["error"], "invalid_token");

    let token = token(&key, &claims("t1", &[]));
    let accepted = service
        .oneshot(
            http::Request::get("/x")
                .header("authorization", bearer(&token))
                .body(())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    assert_eq!(accepted.body().0, "0193a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b");
}

/// A response body of another framework than axum: anything built from a `String`.
mod http_body_util_shim {
    #[derive(Debug)]
    pub(super) struct Full(pub(super) String);

    impl From<String> for Full {
        fn from(text: String) -> Self {
            Self(text)
        }
    }
}
