//! The skip policy of the example service: public routes answer without a
//! token, everything else demands one, and a path that only looks public
//! is not.

use authgate_testkit::spawn_app;
use tower::ServiceExt;

use crate::support::*;

#[tokio::test]
async fn public_routes_answer_without_a_token_and_the_others_demand_one() {
    let app = spawn_app().await;
    let router = resource_server::app(guard_for(&app, &app.url("/.well-known/jwks.json")));
    for (path, expected) in [("/healthz", "ok"), ("/public/hello", "hello, stranger")] {
        let (status, _, body) =
            read(router.clone().oneshot(request(path, None)).await.unwrap()).await;
        assert_eq!(
            (status, body["message"].as_str()),
            (200, Some(expected)),
            "{path}"
        );
    }
    for path in [
        "/api/me",
        "/api/reports",
        "/bench/guarded",
        "/public/../api/me",
        "/publicity",
    ] {
        let (status, challenge, body) =
            read(router.clone().oneshot(request(path, None)).await.unwrap()).await;
        assert_eq!((status, challenge.as_deref()), (401, Some(BARE)), "{path}");
        assert_eq!(body["error"], "invalid_token");
    }
}

#[tokio::test]
async fn a_public_route_knows_a_caller_who_sends_a_valid_token_and_refuses_a_broken_one() {
    let app = spawn_app().await;
    let guard = guard_for(&app, &app.url("/.well-known/jwks.json"));
    let router = resource_server::app(guard.clone());
    let user = app.new_user().await;
    let (status, _, body) = read(
        router
            .clone()
            .oneshot(request("/public/hello", Some(&bearer(&user.access))))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["message"], format!("hello, {}", user.user.id));
    let (status, ..) = read(
        router
            .oneshot(request("/public/hello", Some("Bearer broken")))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn authenticate_request_gives_none_for_public_routes_and_the_user_for_others() {
    let app = spawn_app().await;
    let guard = guard_for(&app, &app.url("/.well-known/jwks.json"));
    let policy = resource_server::public_routes();
    let user = app.new_user().await;
    let header = bearer(&user.access);
    assert_eq!(
        guard
            .authenticate_request(&policy, "GET", "/healthz", None)
            .await,
        Ok(None)
    );
    let principal = guard
        .authenticate_request(&policy, "GET", "/api/me", Some(&header))
        .await
        .unwrap()
        .expect("a private route yields the principal");
    assert_eq!(principal.subject(), user.user.id.to_string());
    assert!(
        guard
            .authenticate_request(&policy, "POST", "/healthz", None)
            .await
            .is_err(),
        "only GET /healthz is public"
    );
}
