//! Register, login, me, sessions and logout through the client.

use authgate_client::{AuditKind, Error};
use authgate_proto::{ErrorCode, RegisterRequest};
use authgate_testkit::{PASSWORD, spawn_app};

fn register_request(email: &str) -> RegisterRequest {
    RegisterRequest {
        email: email.into(),
        password: PASSWORD.into(),
        username: Some("carol".into()),
        name: Some("Carol".into()),
    }
}

#[tokio::test]
async fn a_user_registers_logs_in_and_sees_themselves_and_their_session() {
    let app = spawn_app().await;
    let client = app.auth_client();
    let registered = client
        .register(&register_request("carol@example.com"))
        .await
        .unwrap();
    assert!(
        !client.store().is_authenticated(),
        "register does not log in"
    );

    let user = client.login("carol", PASSWORD).await.unwrap();
    assert_eq!(user, registered);
    assert_eq!(client.store().user(), Some(registered.clone()));

    let me = client.me().await.unwrap();
    assert_eq!(me.user.email, "carol@example.com");
    let sessions = client.sessions().await.unwrap().sessions;
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0].current);
    assert_eq!(sessions[0].id, me.session.id);
}

#[tokio::test]
async fn server_errors_arrive_as_their_api_md_codes() {
    let app = spawn_app().await;
    let client = app.auth_client();
    client
        .register(&register_request("dave@example.com"))
        .await
        .unwrap();
    let conflict = client
        .register(&register_request("dave@example.com"))
        .await
        .unwrap_err();
    assert_eq!(conflict.code(), Some(ErrorCode::Conflict));

    let short = RegisterRequest {
        password: "short".into(),
        ..register_request("eve@example.com")
    };
    let invalid = client.register(&short).await.unwrap_err();
    assert!(
        matches!(&invalid, Error::Api { status: 400, code: ErrorCode::InvalidRequest, description, .. } if description.contains("password")),
        "{invalid:?}"
    );

    let refused = client.login("dave", "wrong-password").await.unwrap_err();
    assert_eq!(refused.code(), Some(ErrorCode::InvalidCredentials));
    let record = &client.audit_log().latest(1)[0];
    assert_eq!(record.kind, AuditKind::LoginFailed);
    assert_eq!(record.detail.as_deref(), Some("invalid_credentials"));
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server_too() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let client = app.auth_client();
    client.login(&user.email, PASSWORD).await.unwrap();
    let tokens = client.store().tokens().unwrap();

    client.logout().await.unwrap();
    assert!(!client.store().is_authenticated());
    assert_eq!(client.me().await.unwrap_err(), Error::NotAuthenticated);
    // The server refuses both of the session's tokens from now on.
    assert_eq!(app.me(&tokens.access).await.status(), 401);
    assert_eq!(app.refresh(&tokens.refresh.unwrap()).await.status(), 401);
    let kinds: Vec<_> = client
        .audit_log()
        .latest(5)
        .iter()
        .map(|r| r.kind)
        .collect();
    assert_eq!(kinds, [AuditKind::LoggedOut, AuditKind::LoginSucceeded]);
}

#[tokio::test]
async fn another_session_can_be_revoked_by_id() {
    let app = spawn_app().await;
    let user = app.new_user().await; // a first session, from new_user's login
    let client = app.auth_client();
    client.login(&user.email, PASSWORD).await.unwrap();
    let sessions = client.sessions().await.unwrap().sessions;
    let other = sessions.iter().find(|s| !s.current).unwrap();
    client.revoke_session(other.id).await.unwrap();
    assert_eq!(app.me(&user.access).await.status(), 401);
    assert_eq!(client.sessions().await.unwrap().sessions.len(), 1);
    let unknown = uuid::Uuid::now_v7();
    let missing = client.revoke_session(unknown).await.unwrap_err();
    assert_eq!(missing.code(), Some(ErrorCode::NotFound));
}

#[tokio::test]
async fn an_unreachable_server_is_a_transport_error_and_a_failed_login() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // No proxy: one from the environment would answer for the closed port.
    let http = authgate_testkit::reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let transport = authgate_client::ReqwestTransport::with_client(&url, http).unwrap();
    let client = authgate_client::Client::new(transport);
    let err = client.login("alice", PASSWORD).await.unwrap_err();
    assert!(
        matches!(&err, Error::Transport(text) if text.contains("onnect")),
        "{err:?}"
    );
    assert!(!err.to_string().contains(PASSWORD));
    let record = &client.audit_log().latest(1)[0];
    assert_eq!(record.kind, AuditKind::LoginFailed);
    assert_eq!(record.detail.as_deref(), Some("unreachable"));
}

#[tokio::test]
async fn a_redirect_is_not_followed_so_the_password_goes_nowhere_else() {
    use std::io::{Read, Write};
    // Where a hostile or misconfigured server would send the body on.
    let elsewhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let target = format!("http://{}/steal", elsewhere.local_addr().unwrap());
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", server.local_addr().unwrap());
    let answering = std::thread::spawn(move || {
        let (mut conn, _) = server.accept().unwrap();
        let mut request = [0u8; 4096];
        let _ = conn.read(&mut request).unwrap();
        let reply = format!(
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        conn.write_all(reply.as_bytes()).unwrap();
    });
    let transport = authgate_client::ReqwestTransport::new(&url).unwrap();
    let client = authgate_client::Client::new(transport);
    let err = client.login("alice", PASSWORD).await.unwrap_err();
    answering.join().unwrap();
    assert!(!err.to_string().contains(PASSWORD), "{err}");
    assert!(
        matches!(
            elsewhere.accept(),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock
        ),
        "the redirect target was contacted"
    );
}

#[tokio::test]
async fn an_account_with_a_second_factor_is_mfa_required_and_logs_in_with_a_code() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let begun = app
        .client
        .post(app.url("/auth/mfa/totp"))
        .bearer_auth(&user.access)
        .send()
        .await
        .unwrap();
    let enrolment: authgate_proto::TotpEnrolmentResponse = begun.json().await.unwrap();
    let totp = totp_rs::Totp::from_url(&enrolment.otpauth_uri).unwrap();
    let code = |steps: i64| {
        let at = app.now().unix_timestamp() + steps * 30;
        totp.generate(u64::try_from(at).unwrap()).to_string()
    };
    let confirmed = app
        .client
        .post(app.url("/auth/mfa/totp/confirm"))
        .bearer_auth(&user.access)
        .json(&serde_json::json!({"code": code(0)}))
        .send()
        .await
        .unwrap();
    assert!(confirmed.status().is_success());

    let client = app.auth_client();
    let err = client.login(&user.email, PASSWORD).await.unwrap_err();
    assert_eq!(err, Error::MfaRequired);
    assert!(!client.store().is_authenticated());
    let request = authgate_proto::LoginRequest {
        email: Some(user.email.clone()),
        username: None,
        password: PASSWORD.into(),
        audience: None,
    };
    let wrong = client
        .login_with_code(&request, "000000x")
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Some(ErrorCode::InvalidCredentials));
    let logged_in = client.login_with_code(&request, &code(1)).await.unwrap();
    assert_eq!(logged_in.id, user.user.id);
    assert!(client.store().is_authenticated());
    assert_eq!(client.me().await.unwrap().user.id, user.user.id);
}
