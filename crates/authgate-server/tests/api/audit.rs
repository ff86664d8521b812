//! The audit trail: every event kind of docs/http-api.md lands in the database sink
//! with the right fields; the file sink writes JSON lines; a failing sink
//! does not stop logins and is counted; no secret reaches any record.

use std::sync::atomic::Ordering;

use authgate_core::AuditFilter;
use authgate_proto::AuditEvent;
use authgate_testkit::reqwest::{Method, StatusCode};
use authgate_testkit::{TestApp, assert_error, spawn_app_with};
use serde_json::json;
use uuid::Uuid;

async fn events(app: &TestApp) -> Vec<AuditEvent> {
    app.state
        .auth
        .audit_events(&AuditFilter {
            limit: 1000,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
}

fn one<'a>(events: &'a [AuditEvent], kind: &str, user: Option<Uuid>) -> &'a AuditEvent {
    let matching: Vec<_> = events
        .iter()
        .filter(|e| e.kind.as_str() == kind && (user.is_none() || e.user_id == user))
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "exactly one {kind} event for {user:?}: {events:#?}"
    );
    matching[0]
}

#[tokio::test]
async fn every_event_kind_lands_in_the_database_with_its_fields() {
    let app = spawn_app_with(|s| s.rate_limit.login_per_ip_per_minute = 0).await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let alice = app.new_user().await; // user.registered, login.succeeded
    assert_error(
        app.login(&alice.email, "wrong-password-1").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let refreshed = app.refresh_ok(&alice.refresh).await; // token.refreshed
    app.advance(std::time::Duration::from_secs(11));
    assert_error(
        app.refresh(&alice.refresh).await,
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
    )
    .await; // reuse
    let bob = app.new_user().await;
    app.login_ok(&bob.email, &bob.password).await;
    let sessions: serde_json::Value = app.sessions(&bob.access).await.json().await.unwrap();
    let other = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.delete_session(&bob.access, &other).await.status(),
        StatusCode::NO_CONTENT
    ); // session.revoked
    app.logout(&bob.access, None).await; // logout
    let admin_call = |method: Method, path: String, body: Option<serde_json::Value>| {
        let app = &app;
        let token = admin.access.clone();
        async move {
            let mut request = app
                .client
                .request(method, app.url(&path))
                .bearer_auth(token);
            if let Some(body) = body {
                request = request.json(&body);
            }
            request.send().await.unwrap()
        }
    };
    let carol = app.new_user().await;
    admin_call(
        Method::PUT,
        format!("/admin/users/{}/roles", carol.user.id),
        Some(json!({"roles": ["admin"]})),
    )
    .await;
    admin_call(
        Method::POST,
        format!("/admin/users/{}/disable", carol.user.id),
        None,
    )
    .await;
    admin_call(
        Method::POST,
        format!("/admin/users/{}/enable", carol.user.id),
        None,
    )
    .await;
    admin_call(Method::POST, "/admin/keys/rotate".into(), None).await;
    let created: serde_json::Value = admin_call(
        Method::POST,
        "/admin/clients".into(),
        Some(json!({"name": "svc"})),
    )
    .await
    .json()
    .await
    .unwrap();
    let client = authgate_testkit::TestClient {
        id: created["client_id"].as_str().unwrap().into(),
        secret: created["client_secret"].as_str().unwrap().into(),
    };
    let dave = app.new_user().await;
    app.post_form(
        "/oauth/introspect",
        &[("token", &dave.access)],
        Some(&client),
    )
    .await;

    let all = events(&app).await;
    let admin_id = admin.user.id.to_string();
    let e = one(&all, "user.registered", Some(alice.user.id));
    assert_eq!(e.details["roles"], json!(["user"]));
    assert_eq!(e.ip, Some("127.0.0.1".parse().unwrap()));
    assert_eq!(e.user_agent.as_deref(), Some(authgate_testkit::USER_AGENT));
    assert!(
        one(&all, "login.succeeded", Some(alice.user.id))
            .session_id
            .is_some()
    );
    assert_eq!(
        one(&all, "login.failed", Some(alice.user.id)).details["reason"],
        "bad_password"
    );
    let e = one(&all, "token.refreshed", Some(alice.user.id));
    assert!(e.session_id.is_some());
    let e = one(&all, "refresh.reuse_detected", Some(alice.user.id));
    assert_eq!(e.details["generation"], 0);
    let e = one(&all, "session.revoked", Some(bob.user.id));
    assert_eq!(e.session_id.unwrap().to_string(), other);
    assert_eq!(
        e.actor_id.as_deref(),
        Some(bob.user.id.to_string().as_str())
    );
    let e = one(&all, "logout", Some(bob.user.id));
    assert_eq!(e.details["all"], false);
    for kind in ["user.roles_changed", "user.disabled", "user.enabled"] {
        let e = one(&all, kind, Some(carol.user.id));
        assert_eq!(e.actor_id.as_deref(), Some(admin_id.as_str()), "{kind}");
    }
    let e = one(&all, "key.rotated", None);
    assert_eq!(e.actor_id.as_deref(), Some(admin_id.as_str()));
    let e = one(&all, "client.created", None);
    assert_eq!(e.client_id.as_deref(), Some(client.id.as_str()));
    let e = one(&all, "token.introspected", Some(dave.user.id));
    assert_eq!(e.details["active"], true);
    assert_eq!(e.client_id.as_deref(), Some(client.id.as_str()));

    // And not one secret anywhere.
    let text = serde_json::to_string(&all).unwrap();
    for secret in [
        &alice.password,
        &alice.access,
        &alice.refresh,
        &refreshed.refresh_token,
        &client.secret,
        &admin.access,
    ] {
        assert!(
            !text.contains(secret.as_str()),
            "a secret in the audit trail"
        );
    }
}

#[tokio::test]
async fn rate_limited_logins_are_recorded() {
    let app = spawn_app_with(|s| s.rate_limit.login_per_ip_per_minute = 1).await;
    app.login("nobody@example.com", "wrong-password-1").await;
    app.login("nobody@example.com", "wrong-password-1").await;
    let all = events(&app).await;
    let e = one(&all, "login.rate_limited", None);
    assert_eq!(e.details["reason"], "address");
}

#[tokio::test]
async fn login_records_keep_at_most_256_characters_of_the_user_agent() {
    let app = spawn_app_with(|_| {}).await;
    let user = app.new_user().await;
    let long = "a".repeat(20_000);
    for password in [user.password.as_str(), "wrong-password-1"] {
        app.request(Method::POST, "/auth/login")
            .header("user-agent", &long)
            .json(&json!({"email": user.email, "password": password}))
            .send()
            .await
            .unwrap();
    }
    // new_user's own login sent the test agent; these two sent `long`.
    let kept: Vec<_> = events(&app)
        .await
        .into_iter()
        .filter(|e| e.user_id == Some(user.user.id))
        .filter(|e| {
            e.user_agent
                .as_deref()
                .is_some_and(|ua| ua.starts_with("aaaa"))
        })
        .map(|e| (e.kind.as_str().to_owned(), e.user_agent))
        .collect();
    assert_eq!(kept.len(), 2, "{kept:?}");
    for (kind, ua) in kept {
        assert!(kind.starts_with("login."), "{kind}");
        assert_eq!(ua.as_deref(), Some(&long[..256]), "{kind}");
    }
}

#[tokio::test]
async fn the_file_sink_writes_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let sink = format!("file:{}", path.display());
    let app = spawn_app_with(|s| s.audit.sinks = vec!["database".into(), sink]).await;
    let alice = app.new_user().await;
    app.state.auth.flush().await;
    let text = std::fs::read_to_string(&path).unwrap();
    let kinds: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<AuditEvent>(l)
                .unwrap()
                .kind
                .as_str()
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "user.registered",
            "email.verification_requested",
            "login.succeeded"
        ]
    );
    assert!(!text.contains(&alice.password));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[tokio::test]
async fn a_failing_sink_does_not_stop_logins_and_is_counted() {
    let sink = "file:/nonexistent-authgate-dir/audit.jsonl".to_owned();
    let app = spawn_app_with(|s| s.audit.sinks = vec!["database".into(), sink]).await;
    let alice = app.new_user().await;
    for _ in 0..3 {
        assert_eq!(
            app.login(&alice.email, &alice.password).await.status(),
            StatusCode::OK
        );
    }
    app.state.auth.flush().await;
    let counters = app.state.auth.audit_counters();
    assert_eq!(
        counters["file"].failures.load(Ordering::Relaxed),
        6,
        "registration, its verification message and 4 logins"
    );
    assert_eq!(counters["database"].failures.load(Ordering::Relaxed), 0);
    // The database sink got every event all the same.
    assert_eq!(events(&app).await.len(), 6);
}

#[tokio::test]
async fn unknown_sinks_are_refused_at_start() {
    let mut settings = authgate_server::Settings::default();
    settings.storage.data_dir = tempfile::tempdir().unwrap().keep();
    settings.audit.sinks = vec!["syslog".into()];
    let err =
        authgate_server::build_service(&settings, std::sync::Arc::new(authgate_core::SystemClock))
            .await
            .unwrap_err();
    assert!(err.to_string().contains("audit.sinks"), "{err}");
}
