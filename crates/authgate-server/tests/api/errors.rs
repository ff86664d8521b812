//! The error rows of docs/http-api.md that registration, login and the Bearer
//! endpoints can produce, each with its status, code, shape and headers.

use authgate_server::config::RegistrationMode;
use authgate_testkit::reqwest::{Method, StatusCode, header};
use authgate_testkit::{
    BARE_CHALLENGE, PASSWORD, assert_error, assert_invalid_token, spawn_app, spawn_app_with,
};
use serde_json::json;

const JSON: Option<&str> = Some("application/json");

fn challenge(headers: &header::HeaderMap) -> Option<&str> {
    headers
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn malformed_json_is_invalid_request() {
    let app = spawn_app().await;
    for body in [
        &b"{\"email\": "[..],
        b"{",
        b"{email: 1}",
        b"<xml/>",
        b"{\"email\":\"a@b.co\",\"password\":\"x\"} trailing",
    ] {
        let error = assert_error(
            app.post_raw("/auth/register", JSON, body.to_vec()).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        )
        .await;
        assert!(
            error.description.contains("not valid JSON"),
            "{}",
            error.description
        );
    }
    // Whatever the description, text that is not JSON at all is a 400 too.
    for body in [&b"not json"[..], b"", b"   "] {
        assert_error(
            app.post_raw("/auth/login", JSON, body.to_vec()).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        )
        .await;
    }
}

#[tokio::test]
async fn json_that_is_not_an_object_is_invalid_request() {
    let app = spawn_app().await;
    for body in [
        json!([]),
        json!(["dave@example.com", PASSWORD]),
        json!("text"),
        json!(42),
        json!(null),
    ] {
        let error = assert_error(
            app.post_json("/auth/register", &body).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        )
        .await;
        assert!(
            error.description.contains("JSON object"),
            "{body}: {}",
            error.description
        );
    }
}

#[tokio::test]
async fn registering_without_an_email_is_invalid_request_naming_email() {
    let app = spawn_app().await;
    let error = assert_error(
        app.post_json("/auth/register", &json!({"password": PASSWORD}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    assert!(
        error.description.starts_with("email"),
        "{}",
        error.description
    );
}

#[tokio::test]
async fn registering_with_an_invalid_email_is_invalid_request_naming_email() {
    let app = spawn_app().await;
    for email in [
        "not-an-email",
        "",
        "   ",
        "a@b",
        "two@@example.com",
        "sp ace@example.com",
    ] {
        let error = assert_error(
            app.register(email, PASSWORD, None).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        )
        .await;
        assert!(
            error.description.starts_with("email"),
            "{email:?}: {}",
            error.description
        );
    }
}

#[tokio::test]
async fn registering_with_a_username_outside_the_pattern_is_invalid_request_naming_username() {
    let app = spawn_app().await;
    let too_long = "u".repeat(65);
    for username in ["ab", "has space", "bang!", "émile", too_long.as_str()] {
        let error = assert_error(
            app.register("erin@example.com", PASSWORD, Some(username))
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        )
        .await;
        assert!(
            error.description.starts_with("username"),
            "{username:?}: {}",
            error.description
        );
    }
    // The edges of the pattern are fine.
    app.register_ok("erin@example.com", PASSWORD, Some("a.b"))
        .await;
    let longest = "u".repeat(64);
    app.register_ok("erin2@example.com", PASSWORD, Some(&longest))
        .await;
}

#[tokio::test]
async fn logging_in_with_neither_email_nor_username_is_invalid_request() {
    let app = spawn_app().await;
    for body in [
        json!({"password": PASSWORD}),
        json!({"email": "", "password": PASSWORD}),
        json!({"email": null, "username": "  ", "password": PASSWORD}),
    ] {
        assert_error(
            app.post_json("/auth/login", &body).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        )
        .await;
    }
}

#[tokio::test]
async fn an_unknown_user_and_a_wrong_password_get_byte_identical_answers() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let wrong_password = assert_error(
        app.login(&alice.email, "not-the-password-at-all").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let unknown_user = assert_error(
        app.login("nobody@example.com", "not-the-password-at-all")
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_eq!(wrong_password.raw, unknown_user.raw);
    assert_eq!(challenge(&wrong_password.headers), None);
}

#[tokio::test]
async fn a_request_without_credentials_gets_a_bare_bearer_challenge() {
    let app = spawn_app().await;
    for path in ["/me", "/auth/sessions"] {
        let error = assert_error(
            app.get(path).await,
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        )
        .await;
        assert_eq!(challenge(&error.headers), Some(BARE_CHALLENGE), "{path}");
    }
    let response = app
        .request(Method::POST, "/auth/logout")
        .send()
        .await
        .unwrap();
    let error = assert_error(response, StatusCode::UNAUTHORIZED, "invalid_token").await;
    assert_eq!(challenge(&error.headers), Some(BARE_CHALLENGE));
}

#[tokio::test]
async fn another_authentication_scheme_counts_as_no_bearer_credentials() {
    // RFC 6750 §3.1: a request "attempted using an unsupported authentication
    // method" gets the challenge without an error code.
    let app = spawn_app().await;
    let error = assert_error(
        app.get_with_auth("/me", "Basic YWxpY2U6c2VjcmV0").await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    assert_eq!(challenge(&error.headers), Some(BARE_CHALLENGE));
}

#[tokio::test]
async fn a_garbage_bearer_token_is_invalid_token() {
    let app = spawn_app().await;
    for value in [
        "Bearer garbage",
        "Bearer a.b.c",
        "Bearer eyJhbGciOiJFZERTQSJ9.e30.",
        "Bearer",
        "Bearer  two-spaces",
        "Bearer has,comma",
    ] {
        assert_invalid_token(app.get_with_auth("/me", value).await).await;
    }
}

#[tokio::test]
async fn an_authorization_header_over_8_kib_is_invalid_token() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    // A real token padded past the limit: refused for its size, not its content.
    let value = format!("Bearer {}", alice.access) + &"=".repeat(8 * 1024);
    assert!(value.len() > 8 * 1024);
    assert_invalid_token(app.get_with_auth("/me", &value).await).await;
    let value = format!("Bearer {}", "a".repeat(9 * 1024));
    assert_invalid_token(app.get_with_auth("/me", &value).await).await;
}

#[tokio::test]
async fn registration_when_closed_is_insufficient_scope() {
    let app = spawn_app_with(|s| s.registration.mode = RegistrationMode::Closed).await;
    assert_error(
        app.register("frank@example.com", PASSWORD, None).await,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
    )
    .await;
}

#[tokio::test]
async fn an_unknown_path_is_not_found() {
    let app = spawn_app().await;
    assert_error(
        app.get("/no/such/path").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        app.post_json("/auth/nothing", &json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_taken_email_is_a_conflict_whatever_its_case() {
    let app = spawn_app().await;
    app.register_ok("Alice@X.com", PASSWORD, None).await;
    for email in ["alice@x.com", "ALICE@X.COM", "  alice@x.com  "] {
        let error = assert_error(
            app.register(email, PASSWORD, None).await,
            StatusCode::CONFLICT,
            "conflict",
        )
        .await;
        assert!(error.description.contains("email"), "{}", error.description);
    }
}

#[tokio::test]
async fn a_taken_username_is_a_conflict_whatever_its_case() {
    let app = spawn_app().await;
    app.register_ok("gina@example.com", PASSWORD, Some("gina"))
        .await;
    let error = assert_error(
        app.register("other-gina@example.com", PASSWORD, Some("GINA"))
            .await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert!(
        error.description.contains("username"),
        "{}",
        error.description
    );
}

#[tokio::test]
async fn a_body_over_64_kib_is_payload_too_large_and_64_kib_is_read() {
    let app = spawn_app().await;
    let body_of = |len: usize| {
        let frame = br#"{"email":"","password":"x"}"#.len();
        format!(
            r#"{{"email":"{}","password":"x"}}"#,
            "a".repeat(len - frame)
        )
        .into_bytes()
    };
    let over = body_of(64 * 1024 + 1);
    assert_eq!(over.len(), 64 * 1024 + 1);
    assert_error(
        app.post_raw("/auth/register", JSON, over).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    assert_error(
        app.post_raw("/auth/login", JSON, body_of(100 * 1024)).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    // Exactly at the limit the body is read, and refused for what it says.
    let error = assert_error(
        app.post_raw("/auth/register", JSON, body_of(64 * 1024))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    assert!(
        error.description.starts_with("email"),
        "{}",
        error.description
    );
}

#[tokio::test]
async fn a_body_that_is_not_declared_json_is_unsupported_media_type() {
    let app = spawn_app().await;
    let body = json!({"email": "hank@example.com", "password": PASSWORD}).to_string();
    for (path, content_type) in [
        ("/auth/register", Some("text/plain")),
        ("/auth/register", None),
        ("/auth/login", Some("application/x-www-form-urlencoded")),
        ("/auth/login", None),
        ("/auth/refresh", Some("text/plain")),
    ] {
        assert_error(
            app.post_raw(path, content_type, body.clone().into_bytes())
                .await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
    }
}

#[tokio::test]
async fn error_descriptions_never_echo_the_password() {
    let app = spawn_app().await;
    let secret = "hunter2hunter2";
    for response in [
        app.register("ivy@example.com", secret, None).await,
        app.post_json(
            "/auth/register",
            &json!({"email": "ivy@example.com", "password": 12, "name": secret}),
        )
        .await,
        app.post_json(
            "/auth/login",
            &json!({"email": "ivy@example.com", "password": [secret]}),
        )
        .await,
    ] {
        let error = assert_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
        assert!(!error.description.contains(secret), "{}", error.description);
    }
}
