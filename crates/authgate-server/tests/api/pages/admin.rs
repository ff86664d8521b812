//! The admin console: every state × page pair of its guard, the nav link,
//! escaping on every console page, and each action (roles, disable, clients,
//! keys, audit filters) through the same rules as the API.

use authgate_testkit::reqwest::StatusCode;
use authgate_testkit::{PASSWORD, TestApp, TestUser, spawn_app_with};

use super::Browser;

const SCRIPT: &str = "<script>alert(1)</script>";

/// `manager` reads and writes users; `reader` only reads them.
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

/// Every console page, for a target user.
fn pages(target: &TestUser) -> Vec<String> {
    vec![
        "/admin".into(),
        "/admin/console/users".into(),
        format!("/admin/console/users/{}", target.user.id),
        "/admin/console/clients".into(),
        "/admin/console/keys".into(),
        "/admin/console/audit".into(),
    ]
}

async fn logged_in<'a>(app: &'a TestApp, user: &TestUser) -> Browser<'a> {
    let mut browser = Browser::new(app);
    browser.login(&user.email).await;
    browser
}

#[tokio::test]
async fn every_state_and_console_page_answers_once_without_a_loop() {
    let app = app().await;
    let target = app.new_user().await;
    let plain = app.new_user().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let mut out = Browser::new(&app);
    let mut user = logged_in(&app, &plain).await;
    let mut boss = logged_in(&app, &admin).await;
    for path in pages(&target) {
        let page = out.get(&path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        let encoded: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("return_to", &path)
            .finish();
        assert_eq!(page.location(), format!("/login?{encoded}"), "{path}");
        let page = user.get(&path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.body.contains("Not allowed"), "{path}");
        let page = boss.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
    }
    // After logging in, the visitor lands on the console page asked for.
    let mut later = Browser::new(&app);
    let done = later
        .login_to(&admin.email, PASSWORD, "/admin/console/keys")
        .await;
    assert_eq!(done.location(), "/admin/console/keys");
}

#[tokio::test]
async fn each_section_shows_only_with_its_permission() {
    let app = app().await;
    let target = app.new_user().await;
    let reader = app.new_user_with_roles(&["reader"]).await;
    let mut browser = logged_in(&app, &reader).await;
    let home = browser.get("/admin").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains(r#"href="/admin/console/users""#));
    for hidden in ["clients", "keys", "audit"] {
        assert!(
            !home.body.contains(&format!("/admin/console/{hidden}")),
            "{hidden} linked for a reader"
        );
        let page = browser.get(&format!("/admin/console/{hidden}")).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{hidden}");
    }
    let user = browser
        .get(&format!("/admin/console/users/{}", target.user.id))
        .await;
    assert_eq!(user.status, StatusCode::OK);
    // Whether the address is verified (a new account's is not).
    assert!(
        user.body.contains(
            r#"<span data-testid="email-verified"><span class="badge">Not verified</span>"#
        ),
        "{}",
        user.body
    );
    // Reading is not writing: no role form or disable button.
    assert!(!user.body.contains("/roles\""), "{}", user.body);
    assert!(!user.body.contains("/disable\""));
    let csrf = user.csrf();
    let refused = browser
        .post(
            &format!("/admin/console/users/{}/disable", target.user.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(app.state.auth.user(target.user.id).await.unwrap().is_active);
}

#[tokio::test]
async fn the_admin_link_shows_only_to_who_can_see_a_section() {
    let app = app().await;
    let plain = app.new_user().await;
    let reader = app.new_user_with_roles(&["reader"]).await;
    let mut user = logged_in(&app, &plain).await;
    let account = user.get("/account").await;
    assert!(!account.body.contains(r#"href="/admin""#));
    let mut staff = logged_in(&app, &reader).await;
    let account = staff.get("/account").await;
    assert!(account.body.contains(r#"href="/admin""#));
}

#[tokio::test]
async fn a_script_as_a_name_shows_as_text_on_every_console_page() {
    let app = app().await;
    let admin = named(&app, "xss-admin@example.com", &["admin"]).await;
    let target = named(&app, "xss-user@example.com", &["user"]).await;
    let mut browser = Browser::new(&app);
    browser.login(&admin.email).await;
    let csrf = browser.account_csrf().await;
    let created = browser
        .post(
            "/admin/console/clients",
            &[("csrf", &csrf), ("name", SCRIPT), ("role:user", "on")],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(!created.body.contains(SCRIPT));
    for path in pages(&target)
        .into_iter()
        .chain(["/admin/console/users?q=xss".to_owned()])
    {
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(!page.body.contains(SCRIPT), "{path}: {}", page.body);
        assert!(!page.body.contains("<script>"), "{path}");
        assert!(
            page.body.contains("&#60;script&#62;") || page.body.contains("&lt;script&gt;"),
            "{path} shows the name as text"
        );
    }
    // What was typed into a refused filter is kept, escaped.
    let encoded: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("user", SCRIPT)
        .append_pair("kind", &format!("{SCRIPT} x"))
        .finish();
    let refused = browser
        .get(&format!("/admin/console/audit?{encoded}"))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!refused.body.contains(SCRIPT));
}

/// A user registered with the name `<script>alert(1)</script>` and `roles`.
async fn named(app: &TestApp, email: &str, roles: &[&str]) -> TestUser {
    let response = app
        .post_json(
            "/auth/register",
            &serde_json::json!({"email": email, "password": PASSWORD, "name": SCRIPT}),
        )
        .await;
    let body: authgate_proto::RegisterResponse =
        authgate_testkit::expect_json(response, StatusCode::CREATED).await;
    let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
    app.store()
        .await
        .set_roles(body.user.id, &roles, app.now())
        .await
        .unwrap()
        .unwrap();
    let tokens = app.login_ok(email, PASSWORD).await;
    TestUser {
        user: body.user,
        email: email.to_owned(),
        password: PASSWORD.to_owned(),
        access: tokens.access_token,
        refresh: tokens.refresh_token,
    }
}
