//! The email-verification pages: a registration through the page mails a
//! link; opening it shows a confirm button and changes nothing; the button
//! verifies; with `auth.require_verified_email` the login page says why it
//! refuses and offers to send the link again.

use authgate_testkit::reqwest::StatusCode;
use authgate_testkit::{PASSWORD, ReceivedMail, SmtpSink, TestApp, spawn_app_with};

use super::Browser;

/// The verification link's path and query in a message built from the
/// default public URL.
fn link_path(mail: &ReceivedMail) -> String {
    let link = mail
        .link("http://127.0.0.1:8080/email/verify?token=")
        .expect("a verification link");
    link.trim_start_matches("http://127.0.0.1:8080").to_owned()
}

/// A server sending through `sink`, `auth.require_verified_email` as `required`.
async fn app_with(sink: &SmtpSink, required: bool) -> TestApp {
    let url = sink.url();
    spawn_app_with(move |s| {
        s.email.smtp_url = url;
        s.auth.require_verified_email = required;
    })
    .await
}

/// Registers `email` through the registration page.
async fn register(browser: &mut Browser<'_>, email: &str) {
    let form = browser.get("/register").await;
    let csrf = form.csrf();
    let done = browser
        .post(
            "/register",
            &[("csrf", &csrf), ("email", email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/login?registered=1");
}

/// Whether the account of `email` is verified, as `POST /auth/login` says.
async fn verified(app: &TestApp, email: &str) -> bool {
    app.login_ok(email, PASSWORD).await.user.email_verified
}

#[tokio::test]
async fn a_visitor_confirms_the_address_through_the_page_the_link_opens() {
    let mut sink = SmtpSink::start().await;
    let app = app_with(&sink, false).await;
    let mut browser = Browser::new(&app);
    register(&mut browser, "page-verify@example.com").await;
    let welcome = browser.get("/login?registered=1").await;
    assert!(
        welcome
            .body
            .contains("We sent a link to confirm your email address"),
        "{}",
        welcome.body
    );

    let path = link_path(&sink.next_mail().await);
    let token = path.rsplit_once("token=").unwrap().1.to_owned();
    // Opening the link (as a mail scanner would) changes nothing.
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Confirm my email address"));
    browser.get(&path).await;
    assert!(!verified(&app, "page-verify@example.com").await);

    let csrf = page.csrf();
    let done = browser
        .post("/email/verify", &[("csrf", &csrf), ("token", &token)])
        .await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(
        done.body
            .contains("<strong>page-verify@example.com</strong> is confirmed"),
        "{}",
        done.body
    );
    assert!(
        !done.body.contains(&token),
        "the used token is not sent back"
    );
    assert!(verified(&app, "page-verify@example.com").await);

    let used = browser
        .post("/email/verify", &[("csrf", &csrf), ("token", &token)])
        .await;
    assert_eq!(used.status, StatusCode::BAD_REQUEST);
    assert!(
        used.body
            .contains("invalid, has expired or was already used")
    );
}

#[tokio::test]
async fn the_login_page_refuses_an_unverified_account_and_sends_the_link_again() {
    let mut sink = SmtpSink::start().await;
    let app = app_with(&sink, true).await;
    let mut browser = Browser::new(&app);
    register(&mut browser, "page-wait@example.com").await;
    let welcome = browser.get("/login?registered=1").await;
    assert!(welcome.body.contains("then log in"), "{}", welcome.body);
    let first = link_path(&sink.next_mail().await);

    let refused = browser
        .login_to("page-wait@example.com", PASSWORD, "")
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("Confirm your email address first"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains(r#"action="/email/verify/resend""#));
    assert!(browser.session_cookie().is_none(), "no session");
    // A wrong password does not learn that much.
    let wrong = browser
        .login_to("page-wait@example.com", "not-the-password-at-all", "")
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!wrong.body.contains("Confirm your email address first"));

    let csrf = refused.csrf();
    let sent = browser
        .post(
            "/email/verify/resend",
            &[("csrf", &csrf), ("email", "page-wait@example.com")],
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK);
    assert!(
        sent.body.contains("a new link is on its way"),
        "{}",
        sent.body
    );
    let second = link_path(&sink.next_mail().await);
    assert_ne!(first, second);

    // The newest link confirms; then the login page lets the visitor in.
    let page = browser.get(&second).await;
    let token = second.rsplit_once("token=").unwrap().1.to_owned();
    let done = browser
        .post(
            "/email/verify",
            &[("csrf", &page.csrf()), ("token", &token)],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    browser.login("page-wait@example.com").await;
}

#[tokio::test]
async fn the_verification_forms_refuse_a_post_without_the_form_token() {
    let app = spawn_app_with(|_| {}).await;
    let mut browser = Browser::new(&app);
    let form = browser.get("/email/verify/resend").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("Send the link"));
    let page = browser
        .post("/email/verify/resend", &[("email", "ann@example.com")])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = browser.post("/email/verify", &[("token", "x")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // The page without a token says where to get one.
    let bare = browser.get("/email/verify").await;
    assert_eq!(bare.status, StatusCode::OK);
    assert!(bare.body.contains(r#"href="/email/verify/resend""#));
}

#[tokio::test]
async fn the_account_page_changes_the_address_once_the_new_one_is_confirmed() {
    let mut sink = SmtpSink::start().await;
    let app = app_with(&sink, false).await;
    let user = app.new_user().await;
    sink.next_mail().await; // the registration's verification message
    let mut browser = Browser::new(&app);
    browser.login(&user.email).await;
    let account = browser.get("/account").await;
    assert!(account.body.contains("Not verified"), "{}", account.body);
    assert!(account.body.contains(r#"href="/account/email""#));

    let form = browser.get("/account/email").await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = form.csrf();
    let wrong = browser
        .post(
            "/account/email",
            &[
                ("csrf", &csrf),
                ("new_email", "moved@example.com"),
                ("current_password", "not-the-password-at-all"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("This is not your current password."));
    assert!(wrong.body.contains(r#"value="moved@example.com""#));
    let sent = browser
        .post(
            "/account/email",
            &[
                ("csrf", &csrf),
                ("new_email", "moved@example.com"),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert_eq!(sent.location(), "/account?done=email");
    let notice = browser.get("/account?done=email").await;
    assert!(notice.body.contains("A link to confirm your new address"));
    assert!(notice.body.contains(&user.email), "not changed yet");

    let mail = sink.next_mail().await;
    assert_eq!(mail.to, vec!["moved@example.com".to_owned()]);
    let path = link_path(&mail);
    let token = path.rsplit_once("token=").unwrap().1.to_owned();
    let page = browser.get(&path).await;
    let done = browser
        .post(
            "/email/verify",
            &[("csrf", &page.csrf()), ("token", &token)],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let account = browser.get("/account").await;
    assert!(
        account.body.contains("moved@example.com"),
        "{}",
        account.body
    );
    assert!(
        account
            .body
            .contains(r#"<span class="badge good">Verified</span>"#)
    );
    // The old address is told.
    assert_eq!(sink.next_mail().await.to, vec![user.email.clone()]);
}

#[tokio::test]
async fn the_email_form_refuses_a_post_without_the_session_form_token() {
    let app = spawn_app_with(|_| {}).await;
    let user = app.new_user().await;
    let mut browser = Browser::new(&app);
    browser.login(&user.email).await;
    let page = browser
        .post(
            "/account/email",
            &[
                ("new_email", "moved@example.com"),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}
