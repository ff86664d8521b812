//! The password-reset pages: "Forgot password?" on the login page, the
//! forgot form answering the same for every address, the page the emailed
//! link opens, and a used link refused.

use authgate_testkit::reqwest::StatusCode;
use authgate_testkit::{PASSWORD, SmtpSink, spawn_app_with};

use super::Browser;

/// The reset link's path and query in a message built from the default public URL.
fn link_path(mail: &authgate_testkit::ReceivedMail) -> String {
    let link = mail
        .link("http://127.0.0.1:8080/password/reset?token=")
        .expect("a reset link");
    link.trim_start_matches("http://127.0.0.1:8080").to_owned()
}

#[tokio::test]
async fn a_visitor_resets_a_forgotten_password_through_the_pages() {
    let mut sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(move |s| s.email.smtp_url = url).await;
    let user = app.new_user().await;
    // The registration's verification message.
    sink.next_mail().await;
    let mut browser = Browser::new(&app);

    let login = browser.get("/login").await;
    assert!(
        login
            .body
            .contains(r#"<a href="/password/forgot">Forgot password?</a>"#)
    );
    let form = browser.get("/password/forgot").await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = form.csrf();
    let sent = browser
        .post(
            "/password/forgot",
            &[("csrf", &csrf), ("email", &user.email)],
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK);
    assert!(sent.body.contains("is on its way"), "{}", sent.body);
    // An address with no account sees the same words.
    let unknown = browser
        .post(
            "/password/forgot",
            &[("csrf", &csrf), ("email", "nobody@example.com")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert!(unknown.body.contains("is on its way"));

    let mut mails = vec![sink.next_mail().await, sink.next_mail().await];
    mails.retain(|m| m.to == vec![user.email.clone()]);
    let path = link_path(&mails[0]);
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Choose a new password"));
    let token = path.rsplit_once("token=").unwrap().1.to_owned();
    let csrf = page.csrf();

    let weak = browser
        .post(
            "/password/reset",
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("new_password", "short"),
            ],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.body.contains("field-error"));

    let new_password = "copper-meadow-lighthouse-82-orbit";
    let done = browser
        .post(
            "/password/reset",
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("new_password", new_password),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(
        done.body.contains("Your password was changed"),
        "{}",
        done.body
    );
    assert!(
        !done.body.contains(&token),
        "the used token is not sent back"
    );
    app.login_ok(&user.email, new_password).await;
    assert_eq!(
        app.login(&user.email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let used = browser
        .post(
            "/password/reset",
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("new_password", "another-fine-password-93-kestrel"),
            ],
        )
        .await;
    assert_eq!(used.status, StatusCode::BAD_REQUEST);
    assert!(
        used.body
            .contains("invalid, has expired or was already used")
    );
}

#[tokio::test]
async fn the_reset_forms_refuse_a_post_without_the_form_token() {
    let app = spawn_app_with(|_| {}).await;
    let mut browser = Browser::new(&app);
    browser.get("/password/forgot").await;
    let page = browser
        .post("/password/forgot", &[("email", "ann@example.com")])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = browser
        .post(
            "/password/reset",
            &[
                ("token", "x"),
                ("new_password", "copper-meadow-lighthouse-82-orbit"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}
