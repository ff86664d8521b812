//! The example service's role and permission checks with real authgate
//! tokens: 403 `insufficient_scope` with its challenge when a role or
//! permission is missing, and tokens for another audience refused.

use authgate_proto::LoginResponse;
use authgate_testkit::{PASSWORD, expect_json, reqwest::StatusCode, spawn_app, spawn_app_with};
use tower::ServiceExt;

use crate::support::*;

async fn get(
    router: &axum::Router,
    path: &str,
    token: &str,
) -> (u16, Option<String>, serde_json::Value) {
    let response = router
        .clone()
        .oneshot(request(path, Some(&bearer(token))))
        .await
        .unwrap();
    read(response).await
}

#[tokio::test]
async fn a_plain_user_reads_their_profile_but_neither_reports_nor_admin() {
    let app = spawn_app().await;
    let guard = guard_for(&app, &app.url("/.well-known/jwks.json"));
    let router = resource_server::app(guard);
    let (user, access) = user_with_roles(&app, &[]).await;

    let (status, _, me) = get(&router, "/api/me", &access).await;
    assert_eq!(status, 200);
    assert_eq!(me["sub"], user.user.id.to_string());
    assert_eq!(me["roles"], serde_json::json!(["user"]));
    assert!(me["sid"].is_string());

    for path in ["/api/reports", "/api/admin"] {
        let (status, challenge, body) = get(&router, path, &access).await;
        assert_eq!(status, 403, "{path}");
        assert_eq!(challenge.as_deref(), Some(INSUFFICIENT));
        assert_eq!(
            body,
            serde_json::json!({"error": "insufficient_scope", "error_description": "Insufficient scope."})
        );
    }
}

#[tokio::test]
async fn an_analyst_reads_reports_and_an_admin_reads_everything() {
    let app = spawn_app().await;
    let guard = guard_for(&app, &app.url("/.well-known/jwks.json"));
    let router = resource_server::app(guard);
    let (_, analyst) = user_with_roles(&app, &["analyst"]).await;
    let (_, admin) = user_with_roles(&app, &["admin"]).await;

    assert_eq!(get(&router, "/api/reports", &analyst).await.0, 200);
    assert_eq!(get(&router, "/api/admin", &analyst).await.0, 403);
    assert_eq!(
        get(&router, "/api/reports", &admin).await.0,
        200,
        "admin holds every permission"
    );
    assert_eq!(get(&router, "/api/admin", &admin).await.0, 200);
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let app = spawn_app_with(|s| {
        s.tokens
            .audiences
            .insert("billing".into(), "https://billing.example".into());
    })
    .await;
    let guard = guard_for(&app, &app.url("/.well-known/jwks.json"));
    let router = resource_server::app(guard);
    let user = app.new_user().await;
    let body =
        serde_json::json!({"email": user.email, "password": PASSWORD, "audience": "billing"});
    let billing: LoginResponse =
        expect_json(app.post_json("/auth/login", &body).await, StatusCode::OK).await;
    let (status, challenge, body) = get(&router, "/api/me", &billing.access_token).await;
    assert_eq!((status, challenge.as_deref()), (401, Some(INVALID_TOKEN)));
    assert_eq!(body["error"], "invalid_token");
    assert_eq!(get(&router, "/api/me", &user.access).await.0, 200);
}
