//! Browser sessions are server sessions: listed by the API, ended by a
//! revocation, a disable, logging out everywhere, the idle timeout and the
//! absolute lifetime on their next request; a role change shows on the
//! next page; a login always starts a new session.

use std::time::Duration;

use authgate_testkit::reqwest::{Method, StatusCode};
use authgate_testkit::{spawn_app, spawn_app_with};
use serde_json::{Value, json};

use super::Browser;

async fn api_sessions(app: &authgate_testkit::TestApp, access: &str) -> Vec<Value> {
    let response = app
        .request(Method::GET, "/auth/sessions")
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["sessions"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_browser_session_is_listed_by_the_api_and_ends_when_revoked_there() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let mut browser = Browser::new(&app);
    browser.login(&user.email).await;
    let sessions = api_sessions(&app, &user.access).await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let browser_sid = sessions
        .iter()
        .find(|s| s["user_agent"] == "pages-test-browser")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .request(Method::DELETE, &format!("/auth/sessions/{browser_sid}"))
        .bearer_auth(&user.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let page = browser.get("/account").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location().starts_with("/login"));
    assert!(
        browser.session_cookie().is_none(),
        "the stale cookie is deleted"
    );
}

#[tokio::test]
async fn the_account_page_shows_the_token_the_sessions_and_the_activity() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let mut browser = Browser::new(&app);
    browser.login(&user.email).await;
    let page = browser.get("/account").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&user.email));
    assert!(page.body.contains("This session"));
    assert!(page.body.contains(">Valid<"), "{}", page.body);
    assert!(page.body.contains("15 min left"), "{}", page.body);
    assert!(
        page.body.contains(&user.user.id.to_string()),
        "the sub claim"
    );
    assert!(page.body.contains("Logged in"), "the login's audit event");
    // Every kind is told in words, the newer ones too (no raw kind shows).
    assert!(
        page.body.contains("Confirmation link sent"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("email.verification_requested"));
    app.advance(Duration::from_secs(16 * 60));
    let later = browser.get("/account").await;
    assert!(later.body.contains(">Expired<"), "{}", later.body);
    assert!(later.body.contains("expired 1 min ago"), "{}", later.body);
}

#[tokio::test]
async fn revoking_another_session_from_the_page_ends_it_and_logging_out_everywhere_ends_all() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let mut first = Browser::new(&app);
    let mut second = Browser::new(&app);
    first.login(&user.email).await;
    second.login(&user.email).await;
    let page = first.get("/account").await;
    let csrf = page.csrf();
    // The API session's id is one of the revoke forms.
    let sessions = api_sessions(&app, &user.access).await;
    let second_sid = sessions
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .find(|id| {
            page.body
                .contains(&format!("/account/sessions/{id}/revoke"))
        })
        .unwrap();
    let _ = second_sid;
    // Revoke each other session listed on the page.
    for id in sessions.iter().map(|s| s["id"].as_str().unwrap()) {
        if page
            .body
            .contains(&format!("/account/sessions/{id}/revoke"))
        {
            let done = first
                .post(
                    &format!("/account/sessions/{id}/revoke"),
                    &[("csrf", &csrf)],
                )
                .await;
            assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
            assert_eq!(done.location(), "/account?done=revoked");
        }
    }
    assert_eq!(second.get("/account").await.status, StatusCode::SEE_OTHER);
    assert_eq!(first.get("/account").await.status, StatusCode::OK);
    // Someone else's or an unknown session: 404, nothing changes.
    let missing = first
        .post(
            &format!("/account/sessions/{}/revoke", uuid::Uuid::new_v4()),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let junk = first
        .post("/account/sessions/not-a-uuid/revoke", &[("csrf", &csrf)])
        .await;
    assert_eq!(junk.status, StatusCode::NOT_FOUND);

    second.login(&user.email).await;
    let done = first
        .post("/account/logout-everywhere", &[("csrf", &csrf)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert!(first.session_cookie().is_none());
    assert_eq!(second.get("/account").await.status, StatusCode::SEE_OTHER);
    assert!(api_sessions_refused(&app, &user.access).await);
}

async fn api_sessions_refused(app: &authgate_testkit::TestApp, access: &str) -> bool {
    app.request(Method::GET, "/auth/sessions")
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .status()
        == StatusCode::UNAUTHORIZED
}

#[tokio::test]
async fn logout_deletes_the_cookie_and_revokes_the_session() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let mut browser = Browser::new(&app);
    browser.login(&user.email).await;
    let cookie = browser.session_cookie().unwrap().clone();
    let csrf = browser.account_csrf().await;
    let done = browser.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location(), "/login");
    assert!(browser.session_cookie().is_none());
    // The old cookie, replayed, names no session.
    browser.cookies.insert("authgate_session".into(), cookie);
    assert_eq!(browser.get("/account").await.status, StatusCode::SEE_OTHER);
    assert_eq!(api_sessions(&app, &user.access).await.len(), 1);
}

#[tokio::test]
async fn a_login_starts_a_new_session_and_ends_the_one_the_browser_had() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let mut browser = Browser::new(&app);
    browser.login(&user.email).await;
    let first = browser.session_cookie().unwrap().clone();
    // A login posted while logged in (an old tab): a new id, the old one ends.
    let form_cookie = "f".repeat(43);
    browser
        .cookies
        .insert("authgate_form".into(), form_cookie.clone());
    let page = browser.get("/login").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "logged in: sent on");
    let csrf = {
        // The form token of a form cookie the browser holds.
        let mut other = Browser::new(&app);
        other.cookies.insert("authgate_form".into(), form_cookie);
        other.get("/login").await.csrf()
    };
    let done = browser
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("identifier", &user.email),
                ("password", authgate_testkit::PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let second = browser.session_cookie().unwrap().clone();
    assert_ne!(first, second);
    assert_eq!(
        api_sessions(&app, &user.access).await.len(),
        2,
        "API + the new one"
    );
    let mut replay = Browser::new(&app);
    replay.cookies.insert("authgate_session".into(), first);
    assert_eq!(replay.get("/account").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_role_change_shows_on_the_next_page_and_a_disable_ends_the_session() {
    let app = spawn_app().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let user = app.new_user().await;
    let mut browser = Browser::new(&app);
    browser.login(&user.email).await;
    let page = browser.get("/account").await;
    assert!(!page.body.contains(r#"<span class="tag">admin</span>"#));
    let response = app
        .request(Method::PUT, &format!("/admin/users/{}/roles", user.user.id))
        .bearer_auth(&admin.access)
        .json(&json!({"roles": ["user", "admin"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page = browser.get("/account").await;
    assert!(
        page.body.contains(r#"<span class="tag">admin</span>"#),
        "{}",
        page.body
    );
    let response = app
        .request(
            Method::POST,
            &format!("/admin/users/{}/disable", user.user.id),
        )
        .bearer_auth(&admin.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page = browser.get("/account").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location().starts_with("/login"));
}

#[tokio::test]
async fn an_idle_session_ends_and_an_active_one_lasts_until_its_lifetime() {
    let app = spawn_app_with(|s| {
        s.web.idle_timeout = authgate_server::config::HumanDuration(Duration::from_secs(30 * 60));
        s.web.absolute_lifetime = authgate_server::config::HumanDuration(Duration::from_secs(3600));
    })
    .await;
    let user = app.new_user().await;
    let mut active = Browser::new(&app);
    let mut idle = Browser::new(&app);
    active.login(&user.email).await;
    idle.login(&user.email).await;
    for _ in 0..2 {
        app.advance(Duration::from_secs(20 * 60));
        assert_eq!(active.get("/account").await.status, StatusCode::OK);
    }
    // 40 minutes without a request: over the idle timeout.
    assert_eq!(idle.get("/account").await.status, StatusCode::SEE_OTHER);
    // Active, but past the hour since login.
    app.advance(Duration::from_secs(21 * 60));
    assert_eq!(active.get("/account").await.status, StatusCode::SEE_OTHER);
}
