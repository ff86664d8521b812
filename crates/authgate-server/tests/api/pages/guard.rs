//! The route guard: protected pages send a logged-out visitor to the login
//! page with `return_to`, only same-site paths are honoured, and no pair of
//! state and page loops.

use authgate_testkit::reqwest::StatusCode;
use authgate_testkit::{PASSWORD, spawn_app, spawn_app_with};

use super::Browser;

#[tokio::test]
async fn a_logged_out_visitor_is_sent_to_login_and_lands_where_they_were_going() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/account?tab=sessions").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location(),
        "/login?return_to=%2Faccount%3Ftab%3Dsessions"
    );
    let form = browser.get(page.location()).await;
    assert!(
        form.body
            .contains(r#"name="return_to" value="/account?tab=sessions""#),
        "{}",
        form.body
    );
    let done = browser
        .login_to(&user.email, PASSWORD, "/account?tab=sessions")
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/account?tab=sessions");
}

#[tokio::test]
async fn every_open_redirect_spelling_lands_on_the_account_page() {
    let app = spawn_app_with(|s| s.rate_limit.login_per_ip_per_minute = 1000).await;
    let user = app.new_user().await;
    for bad in [
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\tevil",
        "/x\r\nLocation: https://evil.example",
        "/x\u{0}",
        "",
    ] {
        // As a query parameter of the login page, the form drops it…
        let mut browser = Browser::new(&app);
        let encoded: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("return_to", bad)
            .finish();
        let form = browser.get(&format!("/login?{encoded}")).await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(!form.body.contains("evil"), "{bad:?} kept in the form");
        // …and posted directly, it is not followed.
        let done = browser.login_to(&user.email, PASSWORD, bad).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{bad:?}: {}", done.body);
        assert_eq!(done.location(), "/account", "{bad:?}");
        // A logged-in visitor at /login with it goes to the account page too.
        let again = browser.get(&format!("/login?{encoded}")).await;
        assert_eq!(again.status, StatusCode::SEE_OTHER);
        assert_eq!(again.location(), "/account", "{bad:?}");
    }
}

#[tokio::test]
async fn no_pair_of_state_and_page_loops() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let mut anonymous = Browser::new(&app);
    let mut member = Browser::new(&app);
    member.login(&user.email).await;
    for (browser, state) in [(&mut anonymous, "logged out"), (&mut member, "logged in")] {
        for path in [
            "/",
            "/login",
            "/register",
            "/account",
            "/login?return_to=/login",
        ] {
            let mut at = path.to_owned();
            let mut hops = 0;
            let page = loop {
                let page = browser.get(&at).await;
                if page.status != StatusCode::SEE_OTHER {
                    break page;
                }
                hops += 1;
                assert!(hops <= 2, "{state} {path}: redirect loop via {at}");
                at = page.location().to_owned();
            };
            assert_eq!(page.status, StatusCode::OK, "{state} {path} ended at {at}");
            let expected = match (state, path) {
                ("logged in", _) => "/account",
                (_, "/register") => "/register",
                _ => "/login",
            };
            assert!(
                at.starts_with(expected),
                "{state} {path} ended at {at}, expected {expected}"
            );
        }
    }
}

#[tokio::test]
async fn a_stale_session_cookie_is_deleted_on_the_way_to_login() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    browser
        .cookies
        .insert("authgate_session".into(), "a".repeat(43));
    let page = browser.get("/account").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(
        browser.set_cookies[0].starts_with("authgate_session=; Path=/; Max-Age=0"),
        "{:?}",
        browser.set_cookies
    );
    assert!(browser.session_cookie().is_none());
}
