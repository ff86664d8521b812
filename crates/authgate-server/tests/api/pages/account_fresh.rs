//! `GET /account` reads the user's sessions and events once and serves a
//! copy for up to a second, yet never shows a stale page after a change
//! made on this instance: a login elsewhere, a failed login (queued, not
//! yet written), a revocation through the API all show on the very next
//! load, without the clock moving; and a session that expires meanwhile
//! is not listed.

use std::time::Duration;

use authgate_testkit::reqwest::StatusCode;
use authgate_testkit::{spawn_app, spawn_app_with};

use super::Browser;

fn count(body: &str, needle: &str) -> usize {
    body.matches(needle).count()
}

#[tokio::test]
async fn the_account_page_shows_every_change_made_here_on_the_next_load() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let mut mine = Browser::new(&app);
    mine.login(&user.email).await;
    let first = mine.get("/account").await;
    assert_eq!(first.status, StatusCode::OK);
    let revoke_forms = |body: &str| count(body, "/revoke\"");
    let before = revoke_forms(&first.body);
    let logins = count(&first.body, "Logged in");
    // The same page again (served from the copy) reads the same.
    assert_eq!(
        mine.get("/account").await.body.matches("Logged in").count(),
        logins
    );

    // A login from another browser: its session and its event at once.
    let mut other = Browser::new(&app);
    other.login(&user.email).await;
    let page = mine.get("/account").await;
    assert_eq!(revoke_forms(&page.body), before + 1, "{}", page.body);
    assert_eq!(count(&page.body, "Logged in"), logins + 1);

    // A failed login is queued, not written with a change: shown at once too.
    let mut stranger = Browser::new(&app);
    let failed = stranger
        .login_to(&user.email, "not the password at all", "")
        .await;
    assert_eq!(
        failed.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        failed.body
    );
    let page = mine.get("/account").await;
    assert!(page.body.contains("Failed login"), "{}", page.body);

    // The other browser's session revoked through the API: gone at once.
    let response = app
        .client
        .post(app.url("/auth/logout"))
        .bearer_auth(&user.access)
        .json(&serde_json::json!({"all": true}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(mine.get("/account").await.status, StatusCode::SEE_OTHER);
    assert_eq!(other.get("/account").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_session_that_expired_is_not_listed_even_from_the_copy() {
    // API sessions last 10 minutes; the browser's own lasts 12 hours.
    let app = spawn_app_with(|s| {
        s.tokens.access_ttl = authgate_server::config::HumanDuration(Duration::from_secs(300));
        s.tokens.refresh_ttl = authgate_server::config::HumanDuration(Duration::from_secs(600));
    })
    .await;
    let user = app.new_user().await;
    let mut mine = Browser::new(&app);
    mine.login(&user.email).await;
    let sessions = |body: &str| count(body, "<li class=\"session");
    assert_eq!(sessions(&mine.get("/account").await.body), 2);
    // Half a second before the API session ends, the page takes its copy;
    // 700 ms later (the copy still trusted) that session has ended.
    app.advance(Duration::from_millis(600_000 - 500));
    assert_eq!(sessions(&mine.get("/account").await.body), 2);
    app.advance(Duration::from_millis(700));
    let page = mine.get("/account").await;
    assert_eq!(sessions(&page.body), 1, "{}", page.body);
    assert!(page.body.contains("This session"));
}
