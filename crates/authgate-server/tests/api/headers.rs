//! The headers every answer carries (nosniff, referrer policy, CSP,
//! no-store) and the request-id rule.

use authgate_testkit::reqwest::{Method, Response, StatusCode, header};
use authgate_testkit::spawn_app;
use serde_json::json;

fn assert_security_headers(response: &Response, what: &str) {
    let headers = response.headers();
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: no {name}"))
            .to_owned()
    };
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(
        get("content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'",
        "{what}"
    );
}

fn cache_control(response: &Response) -> String {
    response
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_personal_data_is_not_cached() {
    let app = spawn_app().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let bearer = format!("Bearer {}", admin.access);
    let routes = [
        (Method::GET, "/me"),
        (Method::GET, "/auth/sessions"),
        (Method::GET, "/admin/users"),
        (Method::GET, &format!("/admin/users/{}", admin.user.id)),
        (Method::GET, "/admin/dashboard"),
        (Method::GET, "/admin/audit"),
        (Method::GET, "/admin/keys"),
        (Method::GET, "/healthz"),
        (Method::GET, "/no/such/path"),
        (Method::DELETE, "/me"),
    ];
    for (method, path) in routes {
        let response = app
            .client
            .request(method.clone(), app.url(path))
            .header(header::AUTHORIZATION, &bearer)
            .send()
            .await
            .unwrap();
        let what = format!("{method} {path} ({})", response.status());
        assert_security_headers(&response, &what);
        assert_eq!(cache_control(&response), "no-store", "{what}");
    }
    // Errors too, and the token answers keep their own no-store.
    let refused = app
        .post_json(
            "/auth/login",
            &json!({"email": "x@example.com", "password": "nope-nope"}),
        )
        .await;
    assert_security_headers(&refused, "a failed login");
    assert_eq!(cache_control(&refused), "no-store");
    // A public document keeps the caching its handler chose.
    let jwks = app.get("/.well-known/jwks.json").await;
    assert_security_headers(&jwks, "the JWKS");
    assert_ne!(cache_control(&jwks), "no-store");
}

async fn request_id_for(sent: &str) -> String {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", sent)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_client_request_id_is_kept_only_when_short_and_of_safe_characters() {
    assert_eq!(request_id_for("trace-42.a_B").await, "trace-42.a_B");
    let sixty_four = "a".repeat(64);
    assert_eq!(request_id_for(&sixty_four).await, sixty_four);
    for unsafe_id in ["evil\" injected=1", &"a".repeat(65), &"x".repeat(5000)] {
        let echoed = request_id_for(unsafe_id).await;
        assert_ne!(echoed, unsafe_id);
        assert!(
            uuid::Uuid::parse_str(&echoed).is_ok(),
            "a generated id replaces {:?}: {echoed}",
            &unsafe_id[..unsafe_id.len().min(20)]
        );
    }
}
