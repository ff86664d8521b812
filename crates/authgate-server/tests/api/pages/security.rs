//! What every page carries and refuses: security headers, cached assets,
//! form tokens and origins, cookie attributes, escaping of what users
//! typed, and form errors next to their fields.

use authgate_testkit::reqwest::{StatusCode, header};
use authgate_testkit::{PASSWORD, spawn_app, spawn_app_with};
use serde_json::json;

use super::Browser;

#[tokio::test]
async fn pages_carry_a_strict_policy_and_assets_are_cached_for_a_year() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/login").await;
    assert_eq!(page.status, StatusCode::OK);
    let h = |name: &str| page.headers[name].to_str().unwrap().to_owned();
    let csp = h("content-security-policy");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert_eq!(h("referrer-policy"), "no-referrer");
    assert_eq!(h("x-content-type-options"), "nosniff");
    assert_eq!(h("cache-control"), "no-store");
    assert!(h("content-type").starts_with("text/html"));
    assert!(!page.body.contains("<script>"), "no inline script");
    assert!(page.body.contains("Not secure"), "plain http is said");
    assert!(page.body.contains("127.0.0.1:8080"), "the issuer's host");

    let css = page
        .body
        .split('"')
        .find(|s| s.starts_with("/assets/app.") && s.ends_with(".css"))
        .unwrap()
        .to_owned();
    let asset = browser.get(&css).await;
    assert_eq!(asset.status, StatusCode::OK);
    assert_eq!(
        asset.headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert!(
        asset.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert_eq!(
        browser.get("/assets/app.0000.css").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn unknown_paths_get_the_404_page_in_a_browser_and_json_elsewhere() {
    let app = spawn_app().await;
    let page = Browser::new(&app).get("/nowhere").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("Page not found"));
    assert!(page.headers.contains_key("content-security-policy"));
    let api = app.get("/nowhere").await;
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    assert!(
        api.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
}

#[tokio::test]
async fn the_session_cookie_is_opaque_http_only_and_lax_on_plain_http() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let mut browser = Browser::new(&app);
    browser.login(&user.email).await;
    let line = browser
        .set_cookies
        .iter()
        .find(|c| c.starts_with("authgate_session="))
        .unwrap();
    let value = browser.session_cookie().unwrap();
    assert_eq!(value.len(), 43, "256 random bits, not a JWT");
    assert!(!value.contains('.'));
    assert_eq!(
        line,
        &format!("authgate_session={value}; Path=/; Max-Age=43200; HttpOnly; SameSite=Lax")
    );
}

#[tokio::test]
async fn over_tls_the_cookies_are_secure_and_host_prefixed() {
    let app = spawn_app_with(|s| s.server.public_url = "https://auth.example".into()).await;
    let user = app.new_user().await;
    let mut browser = Browser::new(&app);
    let form = browser.get("/login").await;
    assert!(!form.body.contains("Not secure"));
    assert!(
        browser.set_cookies[0].starts_with("__Host-authgate_form="),
        "{:?}",
        browser.set_cookies
    );
    let csrf = form.csrf();
    let done = browser
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("identifier", &user.email),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let line = browser
        .set_cookies
        .iter()
        .find(|c| c.starts_with("__Host-authgate_session="))
        .unwrap();
    assert!(
        line.ends_with("; Path=/; Max-Age=43200; HttpOnly; SameSite=Lax; Secure"),
        "{line}"
    );
}

#[tokio::test]
async fn a_missing_or_wrong_form_token_is_403_and_changes_nothing() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let mut browser = Browser::new(&app);
    // The login form without its token: no session.
    browser.get("/login").await;
    for token in [None, Some("x".repeat(43))] {
        let mut fields = vec![("identifier", user.email.as_str()), ("password", PASSWORD)];
        if let Some(token) = &token {
            fields.push(("csrf", token));
        }
        let page = browser.post("/login", &fields).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{token:?}");
        assert!(browser.session_cookie().is_none());
    }
    browser.login(&user.email).await;
    let sessions_before = app
        .state
        .auth
        .sessions(&principal(&app, &user))
        .await
        .unwrap();
    for token in ["", "wrong"] {
        let page = browser.post("/logout", &[("csrf", token)]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        let page = browser
            .post("/account/logout-everywhere", &[("csrf", token)])
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
    }
    // Still logged in, no session ended.
    assert_eq!(browser.get("/account").await.status, StatusCode::OK);
    let sessions_after = app
        .state
        .auth
        .sessions(&principal(&app, &user))
        .await
        .unwrap();
    assert_eq!(sessions_before.len(), sessions_after.len());
}

#[tokio::test]
async fn a_post_from_another_origin_is_refused_even_with_the_token() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let mut browser = Browser::new(&app);
    browser.login(&user.email).await;
    let csrf = browser.account_csrf().await;
    for origin in [
        "http://evil.example",
        "http://127.0.0.1:1",
        "https://127.0.0.1:8080",
    ] {
        let page = browser
            .post_from(Some(origin), "/logout", &[("csrf", &csrf)])
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{origin}");
    }
    assert_eq!(browser.get("/account").await.status, StatusCode::OK);
    // With no Origin (or `null`, as under no-referrer) the token decides.
    let page = browser.post_from(None, "/logout", &[("csrf", &csrf)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/login");
    assert_eq!(browser.get("/account").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_script_as_a_name_shows_as_text_everywhere() {
    let app = spawn_app().await;
    let script = "<script>alert(1)</script>";
    let response = app
        .post_json(
            "/auth/register",
            &json!({"email": "xss@example.com", "password": PASSWORD, "name": script}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let mut browser = Browser::new(&app);
    // The login form keeps what was typed: escaped too.
    let form = browser.get("/login").await;
    let csrf = form.csrf();
    let again = browser
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("identifier", script),
                ("password", "wrong password"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!again.body.contains(script));
    assert!(
        again
            .body
            .contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || again.body.contains("&lt;script&gt;"),
        "{}",
        again.body
    );
    browser.login("xss@example.com").await;
    let page = browser.get("/account").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains(script), "{}", page.body);
    assert!(!page.body.contains("<script>"));
}

#[tokio::test]
async fn registration_errors_sit_next_to_their_field_and_keep_what_was_typed() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let form = browser.get("/register").await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = form.csrf();
    let weak = browser
        .post(
            "/register",
            &[
                ("csrf", &csrf),
                ("email", "new@example.com"),
                ("username", "newbie"),
                ("password", "password1234"),
            ],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        weak.body.contains(r#"id="password-error""#),
        "{}",
        weak.body
    );
    assert!(weak.body.contains("too weak"), "{}", weak.body);
    assert!(weak.body.contains(r#"value="new@example.com""#));
    assert!(weak.body.contains(r#"value="newbie""#));
    assert!(
        !weak.body.contains("password1234"),
        "the password is not echoed"
    );

    let bad_email = browser
        .post(
            "/register",
            &[
                ("csrf", &csrf),
                ("email", "not-an-email"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(bad_email.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_email.body.contains(r#"id="email-error""#),
        "{}",
        bad_email.body
    );

    let done = browser
        .post(
            "/register",
            &[
                ("csrf", &csrf),
                ("email", "new@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/login?registered=1");
    let taken = browser
        .post(
            "/register",
            &[
                ("csrf", &csrf),
                ("email", "new@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert!(taken.body.contains("already exists"));
}

#[tokio::test]
async fn registration_pages_are_404_when_registration_is_closed() {
    let app = spawn_app_with(|s| {
        s.registration.mode = authgate_server::config::RegistrationMode::Closed;
    })
    .await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.get("/register").await.status, StatusCode::NOT_FOUND);
    let login = browser.get("/login").await;
    assert!(!login.body.contains("/register"));
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_read_the_same_and_limits_say_when() {
    let app = spawn_app_with(|s| s.rate_limit.login_per_ip_per_minute = 5).await;
    let user = app.new_user().await;
    let mut browser = Browser::new(&app);
    let wrong = browser.login_to(&user.email, "not the password", "").await;
    let unknown = browser.login_to("nobody@example.com", PASSWORD, "").await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.status, wrong.status);
    let message = |body: &str| {
        let start = body.find(r#"role="alert">"#).unwrap();
        body[start..start + 80].to_owned()
    };
    assert_eq!(message(&wrong.body), message(&unknown.body));
    assert!(wrong.body.contains(&format!(r#"value="{}""#, user.email)));
    let mut limited = browser.login_to(&user.email, "still wrong", "").await;
    for _ in 0..5 {
        if limited.status == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        limited = browser.login_to(&user.email, "still wrong", "").await;
    }
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.body
    );
    assert!(limited.body.contains("Try again in"), "{}", limited.body);
    assert!(limited.headers.contains_key(header::RETRY_AFTER));
}

fn principal(
    app: &authgate_testkit::TestApp,
    user: &authgate_testkit::TestUser,
) -> authgate_core::SessionCaller {
    let _ = app;
    authgate_core::SessionCaller {
        user_id: user.user.id,
        session_id: uuid::Uuid::nil(),
        roles: vec![],
        token_id: String::new(),
    }
}

#[tokio::test]
async fn bad_input_gets_an_html_error_page_and_never_a_5xx() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let mut browser = Browser::new(&app);
    browser.login(&user.email).await;
    let csrf = browser.account_csrf().await;
    let origin = browser.origin();
    let client = authgate_testkit::reqwest::Client::new();
    let cookie = format!("authgate_session={}", browser.session_cookie().unwrap());
    let post = |path: &str, content_type: &str, body: Vec<u8>| {
        client
            .post(app.url(path))
            .header(header::COOKIE, cookie.clone())
            .header(header::ORIGIN, origin.clone())
            .header(header::CONTENT_TYPE, content_type.to_owned())
            .body(body)
            .send()
    };
    let form = "application/x-www-form-urlencoded";
    for (path, content_type, body, status) in [
        (
            "/logout",
            "application/json",
            b"{}".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/logout",
            form,
            format!("csrf={csrf}&csrf={csrf}").into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/logout",
            form,
            vec![b'a'; 70 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "/logout",
            form,
            b"csrf=%FF%FE".to_vec(),
            StatusCode::FORBIDDEN,
        ),
        (
            "/account/sessions/%FF/revoke",
            form,
            format!("csrf={csrf}").into_bytes(),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let response = post(path, content_type, body).await.unwrap();
        assert_eq!(response.status(), status, "{path} {content_type}");
        assert!(
            response.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
    }
    assert_eq!(
        browser.get("/assets/%FF").await.status,
        StatusCode::NOT_FOUND
    );
    let long = format!("/login?return_to=/{}", "a".repeat(4000));
    assert_eq!(browser.get(&long).await.status, StatusCode::SEE_OTHER);
    // Still logged in: none of it changed anything.
    assert_eq!(browser.get("/account").await.status, StatusCode::OK);
}
