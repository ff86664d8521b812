//! The console's service clients beyond creating and deleting: disable and
//! enable (the state shown, the client refused and restored, audited with
//! the admin as actor, refused without the form token), and the roles
//! forms holding every role of a server with 30 of them.

use authgate_core::AuditFilter;
use authgate_testkit::reqwest::StatusCode;
use authgate_testkit::{TestApp, TestClient, spawn_app_with};

use super::Browser;

async fn token_status(app: &TestApp, client: &TestClient) -> StatusCode {
    app.post_form(
        "/oauth/token",
        &[("grant_type", "client_credentials")],
        Some(client),
    )
    .await
    .status()
}

/// The state badge of client `id` on the list page.
fn state_of(body: &str, id: &str) -> &'static str {
    let at = body
        .find(&format!("<code>{id}</code>"))
        .expect("the client is listed");
    let rest = &body[at..];
    let badge = &rest[rest.find(r#"data-testid="client-state""#).unwrap()..];
    if badge[..80].contains("Disabled") {
        "disabled"
    } else {
        "active"
    }
}

#[tokio::test]
async fn an_admin_disables_and_enables_a_client_from_the_console() {
    let app = spawn_app_with(|_| {}).await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let client = app.new_client(&["user"]).await;
    let token = app.client_token(&client).await;
    let mut boss = Browser::new(&app);
    boss.login(&admin.email).await;
    let list = boss.get("/admin/console/clients").await;
    assert_eq!(state_of(&list.body, &client.id), "active");
    let csrf = list.csrf();

    // Without the form token, or with a wrong one: 403, nothing changed.
    let disable = format!("/admin/console/clients/{}/disable", client.id);
    for fields in [vec![], vec![("csrf", "x".repeat(43))]] {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            boss.post(&disable, &fields).await.status,
            StatusCode::FORBIDDEN
        );
    }
    let foreign = boss
        .post_from(Some("https://evil.example"), &disable, &[("csrf", &csrf)])
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert_eq!(token_status(&app, &client).await, StatusCode::OK);

    let done = boss.post(&disable, &[("csrf", &csrf)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/admin/console/clients?done=disabled");
    let list = boss.get(done.location()).await;
    assert!(list.body.contains("The client was disabled."));
    assert_eq!(state_of(&list.body, &client.id), "disabled");
    assert!(list.body.contains(&format!(
        r#"action="/admin/console/clients/{}/enable""#,
        client.id
    )));
    assert_eq!(token_status(&app, &client).await, StatusCode::UNAUTHORIZED);
    let me = app
        .client
        .get(app.url("/admin/users"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.status(),
        StatusCode::UNAUTHORIZED,
        "its live token is refused"
    );

    let enable = format!("/admin/console/clients/{}/enable", client.id);
    let done = boss.post(&enable, &[("csrf", &csrf)]).await;
    assert_eq!(done.location(), "/admin/console/clients?done=enabled");
    assert_eq!(
        state_of(&boss.get(done.location()).await.body, &client.id),
        "active"
    );
    assert_eq!(token_status(&app, &client).await, StatusCode::OK);

    // Unknown clients are the 404 page.
    let missing = boss
        .post(
            "/admin/console/clients/svc_nobody/disable",
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    app.state.auth.flush().await;
    let events = app
        .state
        .auth
        .audit_events(&AuditFilter {
            limit: 50,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let changes: Vec<_> = events
        .iter()
        .filter(|e| matches!(e.kind.as_str(), "client.disabled" | "client.enabled"))
        .collect();
    assert_eq!(changes.len(), 2, "only the two that happened");
    let admin_id = admin.user.id.to_string();
    assert!(
        changes
            .iter()
            .all(|e| e.actor_id.as_deref() == Some(admin_id.as_str())
                && e.client_id.as_deref() == Some(client.id.as_str()))
    );
}

#[tokio::test]
async fn a_user_without_clients_write_cannot_disable_a_client_from_the_console() {
    let app = spawn_app_with(|s| {
        s.roles.insert("reader".into(), vec!["users:read".into()]);
    })
    .await;
    let reader = app.new_user_with_roles(&["reader"]).await;
    let client = app.new_client(&[]).await;
    let mut browser = Browser::new(&app);
    browser.login(&reader.email).await;
    let csrf = browser.account_csrf().await;
    let refused = browser
        .post(
            &format!("/admin/console/clients/{}/disable", client.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(token_status(&app, &client).await, StatusCode::OK);
}

#[tokio::test]
async fn the_roles_forms_hold_every_role_of_a_server_with_thirty() {
    let names: Vec<String> = (0..30).map(|i| format!("team{i:02}")).collect();
    let configured = names.clone();
    let app = spawn_app_with(move |s| {
        for name in &configured {
            s.roles.insert(name.clone(), vec!["users:read".into()]);
        }
    })
    .await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let alice = app.new_user().await;
    let mut boss = Browser::new(&app);
    boss.login(&admin.email).await;
    let path = format!("/admin/console/users/{}", alice.user.id);
    let csrf = boss.get(&path).await.csrf();
    let boxes: Vec<String> = names.iter().map(|n| format!("role:{n}")).collect();
    let mut fields: Vec<(&str, &str)> = vec![("csrf", &csrf), ("role:user", "on")];
    fields.extend(boxes.iter().map(|b| (b.as_str(), "on")));
    let done = boss.post(&format!("{path}/roles"), &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let roles = app.state.auth.user(alice.user.id).await.unwrap().roles;
    assert_eq!(roles.len(), 31, "{roles:?}");
    assert!(names.iter().all(|n| roles.contains(n)));

    // A new client with all 30 roles, through the creation form.
    let mut fields: Vec<(&str, &str)> = vec![("csrf", &csrf), ("name", "wide")];
    fields.extend(boxes.iter().map(|b| (b.as_str(), "on")));
    let created = boss.post("/admin/console/clients", &fields).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);

    // The bound is still a bound: far more fields than any form has is 400.
    let junk: Vec<String> = (0..200).map(|i| format!("junk{i}")).collect();
    let mut fields: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    fields.extend(junk.iter().map(|j| (j.as_str(), "x")));
    let refused = boss.post(&format!("{path}/roles"), &fields).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.state
            .auth
            .user(alice.user.id)
            .await
            .unwrap()
            .roles
            .len(),
        31
    );
}
