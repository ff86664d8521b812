//! The change-password form on the account page: the other sessions end and
//! this one stays; errors sit next to their field; no token, no change.

use authgate_testkit::reqwest::StatusCode;
use authgate_testkit::{PASSWORD, spawn_app};

use super::Browser;

const NEW_PASSWORD: &str = "copper-meadow-orbit-92-saffron";

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions_and_keeps_this_one() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let mut here = Browser::new(&app);
    here.login(&alice.email).await;
    let mut there = Browser::new(&app);
    there.login(&alice.email).await;
    let account = here.get("/account").await;
    assert!(account.body.contains(r#"action="/account/password""#));
    let done = here
        .post(
            "/account/password",
            &[
                ("csrf", &account.csrf()),
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/account?done=password");
    let page = here.get(done.location()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Your password was changed"));
    assert!(
        page.body.contains("Password changed"),
        "the activity lists it"
    );
    assert_eq!(there.get("/account").await.status, StatusCode::SEE_OTHER);
    // The API's tokens of the registration login ended too.
    assert_eq!(
        app.me(&alice.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.login_ok(&alice.email, NEW_PASSWORD).await;
}

#[tokio::test]
async fn a_wrong_current_or_weak_new_password_is_said_next_to_its_field() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let mut here = Browser::new(&app);
    here.login(&alice.email).await;
    let csrf = here.account_csrf().await;
    let wrong = here
        .post(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", "not-my-password-3"),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong.body.contains(r#"id="current-error""#),
        "{}",
        wrong.body
    );
    assert!(!wrong.body.contains(NEW_PASSWORD), "passwords are not kept");
    let weak = here
        .post(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", PASSWORD),
                ("new_password", "password1234"),
            ],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.body.contains(r#"id="new-error""#), "{}", weak.body);
    assert!(weak.body.contains("too weak"), "{}", weak.body);
    let missing = here.post("/account/password", &[("csrf", &csrf)]).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.login_ok(&alice.email, PASSWORD).await;
}

#[tokio::test]
async fn without_the_form_token_the_password_stays() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let mut here = Browser::new(&app);
    here.login(&alice.email).await;
    let refused = here
        .post(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    app.login_ok(&alice.email, PASSWORD).await;
    let mut out = Browser::new(&app);
    let page = out.get("/account/password").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/login?return_to=%2Faccount%2Fpassword");
}
