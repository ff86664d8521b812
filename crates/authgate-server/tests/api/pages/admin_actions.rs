//! The console's actions: roles (granting only what one holds), disable
//! ending the user's browser session, clients (the secret once, delete),
//! key rotation, the audit filters and pages, and forms without their token.

use authgate_testkit::reqwest::StatusCode;
use authgate_testkit::{TestApp, spawn_app_with};

use super::Browser;

async fn app() -> TestApp {
    spawn_app_with(|s| {
        s.roles.insert(
            "manager".into(),
            vec!["users:read".into(), "users:write".into()],
        );
        s.roles.insert("reader".into(), vec!["users:read".into()]);
        s.rate_limit.login_per_ip_per_minute = 1000;
    })
    .await
}

#[tokio::test]
async fn an_admin_grants_a_role_and_the_users_next_page_shows_it() {
    let app = app().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let alice = app.new_user().await;
    let mut hers = Browser::new(&app);
    hers.login(&alice.email).await;
    assert!(!hers.get("/account").await.body.contains(">reader<"));

    let mut boss = Browser::new(&app);
    boss.login(&admin.email).await;
    let path = format!("/admin/console/users/{}", alice.user.id);
    let csrf = boss.get(&path).await.csrf();
    let done = boss
        .post(
            &format!("{path}/roles"),
            &[("csrf", &csrf), ("role:user", "on"), ("role:reader", "on")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), format!("{path}?done=roles"));
    assert!(
        boss.get(done.location())
            .await
            .body
            .contains("The roles were changed.")
    );
    let account = hers.get("/account").await;
    assert!(
        account.body.contains(r#"<span class="tag">reader</span>"#),
        "{}",
        account.body
    );
    // She now reads users, so the console opens for her.
    assert!(account.body.contains(r#"href="/admin""#));
}

#[tokio::test]
async fn a_role_beyond_ones_own_is_refused_next_to_the_field_keeping_the_ticks() {
    let app = app().await;
    let manager = app.new_user_with_roles(&["manager"]).await;
    let alice = app.new_user().await;
    let mut browser = Browser::new(&app);
    browser.login(&manager.email).await;
    let path = format!("/admin/console/users/{}", alice.user.id);
    let csrf = browser.get(&path).await.csrf();
    let refused = browser
        .post(
            &format!("{path}/roles"),
            &[("csrf", &csrf), ("role:admin", "on"), ("role:user", "on")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains(r#"id="roles-error""#),
        "{}",
        refused.body
    );
    assert!(refused.body.contains(r#"name="role:admin" checked"#));
    let roles = app.state.auth.user(alice.user.id).await.unwrap().roles;
    assert_eq!(roles, ["user"]);
}

#[tokio::test]
async fn a_disabled_users_open_browser_is_logged_out_on_its_next_click() {
    let app = app().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let alice = app.new_user().await;
    let mut hers = Browser::new(&app);
    hers.login(&alice.email).await;
    let mut boss = Browser::new(&app);
    boss.login(&admin.email).await;
    let path = format!("/admin/console/users/{}", alice.user.id);
    let csrf = boss.get(&path).await.csrf();
    let done = boss
        .post(&format!("{path}/disable"), &[("csrf", &csrf)])
        .await;
    assert_eq!(done.location(), format!("{path}?done=disabled"));
    let page = boss.get(done.location()).await;
    assert!(page.body.contains("Disabled"));
    assert!(
        page.body.contains(r#"data-testid="sessions">0<"#),
        "{}",
        page.body
    );
    let next = hers.get("/account").await;
    assert_eq!(next.status, StatusCode::SEE_OTHER);
    assert!(next.location().starts_with("/login"));
    // Enabling lets her log in again.
    let done = boss
        .post(&format!("{path}/enable"), &[("csrf", &csrf)])
        .await;
    assert_eq!(done.location(), format!("{path}?done=enabled"));
    hers.login(&alice.email).await;
}

#[tokio::test]
async fn an_admin_cannot_disable_their_own_account_from_the_console() {
    let app = app().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let mut boss = Browser::new(&app);
    boss.login(&admin.email).await;
    let path = format!("/admin/console/users/{}", admin.user.id);
    let page = boss.get(&path).await;
    assert!(!page.body.contains("/disable\""), "no button for oneself");
    let refused = boss
        .post(&format!("{path}/disable"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("You cannot disable your own account.")
    );
    assert!(app.state.auth.user(admin.user.id).await.unwrap().is_active);
}

#[tokio::test]
async fn console_forms_without_their_token_or_from_elsewhere_change_nothing() {
    let app = app().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let alice = app.new_user().await;
    let mut boss = Browser::new(&app);
    boss.login(&admin.email).await;
    let csrf = boss.account_csrf().await;
    let disable = format!("/admin/console/users/{}/disable", alice.user.id);
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
    let rotate = boss.post("/admin/console/keys/rotate", &[]).await;
    assert_eq!(rotate.status, StatusCode::FORBIDDEN);
    assert!(app.state.auth.user(alice.user.id).await.unwrap().is_active);
}

#[tokio::test]
async fn a_new_clients_secret_shows_once_works_and_the_client_can_be_deleted() {
    let app = app().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let mut boss = Browser::new(&app);
    boss.login(&admin.email).await;
    let csrf = boss.account_csrf().await;
    // A bad name is said next to the field, and the ticks are kept.
    let refused = boss
        .post(
            "/admin/console/clients",
            &[("csrf", &csrf), ("name", "  "), ("role:reader", "on")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains(r#"id="name-error""#));
    assert!(refused.body.contains(r#"name="role:reader" checked"#));

    let created = boss
        .post(
            "/admin/console/clients",
            &[("csrf", &csrf), ("name", "billing"), ("role:reader", "on")],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.headers["cache-control"], "no-store");
    let id = between(&created.body, r#"data-testid="client-id">"#, "<");
    let secret = between(&created.body, r#"data-testid="client-secret">"#, "<");
    assert_eq!(secret.len(), 43);
    let client = authgate_testkit::TestClient {
        id: id.clone(),
        secret: secret.clone(),
    };
    app.client_token(&client).await;
    let list = boss.get("/admin/console/clients").await;
    assert!(list.body.contains(&id));
    assert!(!list.body.contains(&secret), "the secret is shown once");

    let done = boss
        .post(
            &format!("/admin/console/clients/{id}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(done.location(), "/admin/console/clients?done=deleted");
    assert!(!boss.get(done.location()).await.body.contains(&id));
    let refused = app
        .post_form(
            "/oauth/token",
            &[("grant_type", "client_credentials")],
            Some(&client),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn rotating_from_the_console_activates_a_new_key_and_records_the_admin() {
    let app = app().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let mut boss = Browser::new(&app);
    boss.login(&admin.email).await;
    let before = boss.get("/admin/console/keys").await;
    let csrf = before.csrf();
    let done = boss
        .post("/admin/console/keys/rotate", &[("csrf", &csrf)])
        .await;
    assert_eq!(done.location(), "/admin/console/keys?done=rotated");
    let after = boss.get(done.location()).await;
    assert!(after.body.contains("retired") || after.body.contains("The keys were rotated"));
    let events = app
        .state
        .auth
        .audit_events(&authgate_core::AuditFilter {
            kind: Some("key.rotated".into()),
            limit: 5,
            ..authgate_core::AuditFilter::default()
        })
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.actor_id == Some(admin.user.id.to_string())),
        "{events:?}"
    );
}

#[tokio::test]
async fn the_audit_page_filters_by_kind_user_and_time_and_pages_newest_first() {
    let app = app().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let alice = app.new_user().await;
    for i in 0..60 {
        let mut e = authgate_core::audit_event(
            authgate_proto::AuditKind::new("test.paged"),
            app.now(),
            &authgate_core::Origin::default(),
        );
        e.user_id = Some(alice.user.id);
        e.details.insert("n".into(), i.into());
        app.state.auth.record(e);
    }
    let mut boss = Browser::new(&app);
    boss.login(&admin.email).await;
    let first = boss
        .get(&format!(
            "/admin/console/audit?kind=test.paged&user={}",
            alice.email
        ))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body.matches("<code>test.paged</code>").count(), 50);
    let next = between(&first.body, r#"<a href="/admin/console/audit?"#, "\"");
    let second = boss
        .get(&format!("/admin/console/audit?{}", unescape(&next)))
        .await;
    assert_eq!(second.body.matches("<code>test.paged</code>").count(), 10);
    assert!(!second.body.contains("rel=\"next\""));

    // The time range excludes everything before it.
    let later = app.now() + time::Duration::hours(1);
    let from = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        later.year(),
        u8::from(later.month()),
        later.day(),
        later.hour(),
        later.minute()
    );
    let empty = boss
        .get(&format!("/admin/console/audit?kind=test.paged&from={from}"))
        .await;
    assert!(empty.body.contains("No event matches."), "{}", empty.body);

    // Bad fields are said next to them, keeping what was typed.
    let refused = boss
        .get("/admin/console/audit?user=nobody%40example.com&from=yesterday")
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains(r#"id="user-error""#));
    assert!(refused.body.contains(r#"id="from-error""#));
    assert!(refused.body.contains(r#"value="nobody@example.com""#));
    assert!(refused.body.contains(r#"value="yesterday""#));
}

#[tokio::test]
async fn users_are_searched_and_paged() {
    let app = app().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let mut boss = Browser::new(&app);
    boss.login(&admin.email).await;
    for _ in 0..26 {
        app.new_user().await;
    }
    let first = boss.get("/admin/console/users").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body.matches("/admin/console/users/").count(), 25);
    let next = between(&first.body, r#"<a href="/admin/console/users?"#, "\"");
    let second = boss
        .get(&format!("/admin/console/users?{}", unescape(&next)))
        .await;
    assert_eq!(second.body.matches("/admin/console/users/").count(), 2);
    let found = boss
        .get(&format!("/admin/console/users?q={}", &admin.email[..8]))
        .await;
    assert!(found.body.contains(&admin.email));
    let refused = boss.get("/admin/console/users?q=%E2%80%AEx").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains(r#"id="q-error""#));
}

/// An attribute's text as the browser reads it (askama writes `&` as `&#38;`).
fn unescape(text: &str) -> String {
    text.replace("&#38;", "&").replace("&amp;", "&")
}

/// The text of `body` between `start` and the next `end`.
fn between(body: &str, start: &str, end: &str) -> String {
    let from = body
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {body}"))
        + start.len();
    let len = body[from..].find(end).unwrap();
    body[from..from + len].to_owned()
}
