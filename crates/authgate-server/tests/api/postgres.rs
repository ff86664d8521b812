//! The server on PostgreSQL (`storage.database_url = "postgres://…"`): the
//! whole flow, and what docs/http-api.md promises when the database goes away (503
//! `unavailable`, nothing half-written) and comes back (service resumes
//! without a restart).
//!
//! Each test gets a schema of its own and needs `AUTHGATE_TEST_POSTGRES_URL`;
//! without it the tests are `#[ignore]`d (`scripts/test` runs them).

use authgate_proto::{LoginResponse, MeResponse, MessageResponse, RefreshResponse};
use authgate_store::testing::{POSTGRES_URL_VAR, TcpProxy, TestSchema, service_url};
use authgate_testkit::reqwest::StatusCode;
use authgate_testkit::{PASSWORD, assert_error, expect_json, spawn_app_with};

/// A fresh schema for `test` (it fails when no PostgreSQL server is
/// configured).
async fn fresh_schema(test: &str) -> TestSchema {
    let url = service_url(POSTGRES_URL_VAR, &format!("api::postgres::{test}"));
    TestSchema::create(&url).await.unwrap()
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set AUTHGATE_TEST_POSTGRES_URL (scripts/test does)"]
async fn a_user_registers_logs_in_reads_me_refreshes_and_logs_out_on_postgres() {
    let schema = fresh_schema("a_user_registers_logs_in_on_postgres").await;
    let url = schema.url(None).unwrap();
    let app = spawn_app_with(|settings| settings.storage.database_url = url).await;
    // Nothing went to the SQLite default.
    assert!(!app.data_dir.join("authgate.db").exists());

    let user = app
        .register_ok("alice@example.com", PASSWORD, Some("alice"))
        .await;
    let login = app.login_ok("alice", PASSWORD).await;
    assert_eq!(login.user, user);
    let me: MeResponse = expect_json(app.me(&login.access_token).await, StatusCode::OK).await;
    assert_eq!(me.user, user);
    let sid = me.session.id;

    let refreshed = app.refresh_ok(&login.refresh_token).await;
    assert_ne!(refreshed.refresh_token, login.refresh_token);
    let me: MeResponse = expect_json(app.me(&refreshed.access_token).await, StatusCode::OK).await;
    assert_eq!(me.session.id, sid, "a refresh keeps the session");

    let bye: MessageResponse = expect_json(
        app.logout(&refreshed.access_token, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(bye.message, "Logged out.");
    assert_error(
        app.refresh(&refreshed.refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
    )
    .await;
    assert_eq!(
        app.me(&refreshed.access_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // A second registration of the same email is a conflict on PostgreSQL too.
    assert_error(
        app.register("alice@example.com", PASSWORD, None).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set AUTHGATE_TEST_POSTGRES_URL (scripts/test does)"]
async fn a_lost_database_answers_503_writes_nothing_and_service_resumes_without_restart() {
    let schema = fresh_schema("a_lost_database_answers_503").await;
    let proxy = TcpProxy::start(&schema.server().unwrap()).await.unwrap();
    let url = schema.url(Some(proxy.addr())).unwrap();
    let app = spawn_app_with(|settings| settings.storage.database_url = url).await;
    app.register_ok("alice@example.com", PASSWORD, None).await;
    let login: LoginResponse = app.login_ok("alice@example.com", PASSWORD).await;

    proxy.cut().await;
    assert_error(
        app.register("bob@example.com", PASSWORD, None).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
    )
    .await;
    assert_error(
        app.login("alice@example.com", PASSWORD).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
    )
    .await;
    assert_error(
        app.refresh(&login.refresh_token).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
    )
    .await;
    assert_eq!(
        app.get("/readyz").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );

    proxy.restore().await.unwrap();
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    // The failed registration left nothing behind: bob registers now.
    app.register_ok("bob@example.com", PASSWORD, None).await;
    // The failed refresh did not consume the token: it rotates now.
    let refreshed: RefreshResponse = app.refresh_ok(&login.refresh_token).await;
    expect_json::<MeResponse>(app.me(&refreshed.access_token).await, StatusCode::OK).await;
    app.login_ok("alice@example.com", PASSWORD).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set AUTHGATE_TEST_POSTGRES_URL (scripts/test does)"]
async fn admin_routes_answer_503_not_the_tokens_roles_while_the_database_is_away() {
    let schema = fresh_schema("admin_routes_answer_503_while_away").await;
    let proxy = TcpProxy::start(&schema.server().unwrap()).await.unwrap();
    let url = schema.url(Some(proxy.addr())).unwrap();
    let app = spawn_app_with(|settings| settings.storage.database_url = url).await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let bearer = format!("Bearer {}", admin.access);
    assert_eq!(
        app.get_with_auth("/admin/keys", &bearer).await.status(),
        StatusCode::OK
    );

    proxy.cut().await;
    // Past the second for which a user record read is reused: the admin's
    // roles must come from the database, which does not answer.
    app.advance(std::time::Duration::from_secs(2));
    assert_error(
        app.get_with_auth("/admin/keys", &bearer).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
    )
    .await;

    proxy.restore().await.unwrap();
    assert_eq!(
        app.get_with_auth("/admin/keys", &bearer).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set AUTHGATE_TEST_POSTGRES_URL (scripts/test does)"]
async fn email_verification_and_an_email_change_work_on_postgres() {
    let schema = fresh_schema("email_verification_on_postgres").await;
    let url = schema.url(None).unwrap();
    let mut sink = authgate_testkit::SmtpSink::start().await;
    let smtp = sink.url();
    let app = spawn_app_with(|settings| {
        settings.storage.database_url = url;
        settings.email.smtp_url = smtp;
        settings.auth.require_verified_email = true;
    })
    .await;
    let user = app
        .register_ok("alice@example.com", PASSWORD, Some("alice"))
        .await;
    assert!(!user.email_verified);
    assert_error(
        app.login("alice", PASSWORD).await,
        StatusCode::FORBIDDEN,
        "email_not_verified",
    )
    .await;
    let token = crate::verification::token_of_default(&sink.next_mail().await);
    let verified: MessageResponse = expect_json(
        app.post_json("/auth/email/verify", &serde_json::json!({ "token": token }))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(verified.message, "Email address verified.");
    assert_error(
        app.post_json("/auth/email/verify", &serde_json::json!({ "token": token }))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    let login = app.login_ok("alice", PASSWORD).await;
    assert!(login.user.email_verified);

    // A change: verified first, then it replaces the address.
    let asked = app
        .client
        .post(app.url("/auth/email/change"))
        .bearer_auth(&login.access_token)
        .json(&serde_json::json!({"current_password": PASSWORD, "new_email": "alice@new.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), StatusCode::ACCEPTED);
    let token = crate::verification::token_of_default(&sink.next_mail().await);
    app.post_json("/auth/email/verify", &serde_json::json!({ "token": token }))
        .await;
    let login = app.login_ok("alice@new.example", PASSWORD).await;
    assert_eq!(login.user.email, "alice@new.example");
    assert_eq!(
        sink.next_mail().await.to,
        vec!["alice@example.com".to_owned()]
    );
}
