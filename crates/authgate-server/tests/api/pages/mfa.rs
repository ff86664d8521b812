//! Two-factor authentication in the pages: enrolment on `/account/mfa` (the
//! QR code as a `data:` image, the key, the confirming code), the recovery
//! codes shown once, the login's second step keeping `return_to`, the
//! switch to a recovery code, and the console's reset button.

use authgate_testkit::reqwest::StatusCode;
use authgate_testkit::{PASSWORD, TestApp, spawn_app};
use totp_rs::{Builder, Secret, Totp};

use super::{Browser, Page};

/// The value of the hidden field `name` in `page`.
fn hidden(page: &Page, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("a {name} field in {}", page.body))
        + marker.len();
    let end = start + page.body[start..].find('"').unwrap();
    page.body[start..end].to_owned()
}

/// The TOTP app of the key the enrolment page shows (base32 in groups).
fn app_of(page: &Page) -> Totp {
    let start = page
        .body
        .find(r#"data-testid="totp-key">"#)
        .expect("the key")
        + 23;
    let end = start + page.body[start..].find('<').unwrap();
    let key = page.body[start..end].replace(' ', "");
    // Builder's defaults are the RFC's: SHA-1, 6 digits, 30 s.
    Builder::new()
        .with_secret(Secret::try_from_base32(key).unwrap())
        .build()
        .unwrap()
}

fn code(app: &TestApp, totp: &Totp, steps: i64) -> String {
    let at = app.now().unix_timestamp() + steps * 30;
    totp.generate(u64::try_from(at).unwrap()).to_string()
}

/// Enrols the browser's user; returns the app and the recovery codes.
async fn enrol(app: &TestApp, browser: &mut Browser<'_>) -> (Totp, Vec<String>) {
    let account = browser.get("/account").await;
    assert!(account.body.contains(r#"href="/account/mfa""#));
    let off = browser.get("/account/mfa").await;
    assert!(off.body.contains("Set up an authenticator app"));
    let begun = browser
        .post("/account/mfa/totp", &[("csrf", &off.csrf())])
        .await;
    assert_eq!(begun.status, StatusCode::SEE_OTHER);
    let pending = browser.get("/account/mfa").await;
    assert!(
        pending
            .body
            .contains(r#"<img src="data:image/svg+xml;base64,"#)
    );
    let totp = app_of(&pending);
    let wrong = browser
        .post(
            "/account/mfa/totp/confirm",
            &[("csrf", &pending.csrf()), ("code", "12345")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains(r#"id="confirm-error""#));
    assert!(
        wrong.body.contains("data:image/svg+xml"),
        "the QR code stays"
    );
    let done = browser
        .post(
            "/account/mfa/totp/confirm",
            &[("csrf", &pending.csrf()), ("code", &code(app, &totp, 0))],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let codes: Vec<String> = done
        .body
        .split("<li><code>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    let on = browser.get("/account/mfa").await;
    assert!(on.body.contains("10 of 10"));
    assert!(!on.body.contains(&codes[0]), "the codes are shown once");
    app.advance(std::time::Duration::from_secs(30));
    (totp, codes)
}

#[tokio::test]
async fn a_user_enrols_on_the_account_page_and_logs_in_with_a_code_keeping_return_to() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let mut browser = Browser::new(&app);
    browser.login(&alice.email).await;
    let (totp, _) = enrol(&app, &mut browser).await;
    let account = browser.get("/account").await;
    let logout = browser.post("/logout", &[("csrf", &account.csrf())]).await;
    assert_eq!(logout.status, StatusCode::SEE_OTHER);

    let step = browser
        .login_to(&alice.email, PASSWORD, "/account/sessions")
        .await;
    assert_eq!(step.status, StatusCode::OK, "{}", step.body);
    assert!(step.body.contains(r#"action="/login/mfa""#));
    assert!(step.body.contains("Authentication code"));
    assert!(browser.session_cookie().is_none(), "no session yet");
    let mfa_token = hidden(&step, "mfa_token");
    assert_eq!(hidden(&step, "return_to"), "/account/sessions");

    let wrong = browser
        .post(
            "/login/mfa",
            &[
                ("csrf", &step.csrf()),
                ("mfa_token", &mfa_token),
                ("return_to", "/account/sessions"),
                ("code", "000000x"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("This code is not right"));
    let done = browser
        .post(
            "/login/mfa",
            &[
                ("csrf", &step.csrf()),
                ("mfa_token", &mfa_token),
                ("return_to", "/account/sessions"),
                ("code", &code(&app, &totp, 0)),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/account/sessions");
    assert!(browser.session_cookie().is_some());
    // The step is spent (tried from another browser: this one's form
    // cookie went with the login): the password again.
    let mut other = Browser::new(&app);
    let form = other.get("/login").await;
    let again = other
        .post(
            "/login/mfa",
            &[
                ("csrf", &form.csrf()),
                ("mfa_token", &mfa_token),
                ("code", &code(&app, &totp, 1)),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("Enter your password again"));
    assert!(again.body.contains(r#"action="/login""#));
}

#[tokio::test]
async fn a_recovery_code_logs_in_once_through_the_switched_form() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let mut browser = Browser::new(&app);
    browser.login(&alice.email).await;
    let (_, codes) = enrol(&app, &mut browser).await;
    let mut other = Browser::new(&app);
    let step = other.login_to(&alice.email, PASSWORD, "").await;
    let token = hidden(&step, "mfa_token");
    let switched = other
        .post(
            "/login/mfa",
            &[
                ("csrf", &step.csrf()),
                ("mfa_token", &token),
                ("recovery", "1"),
                ("switch", "1"),
            ],
        )
        .await;
    assert_eq!(switched.status, StatusCode::OK);
    assert!(switched.body.contains("Recovery code"));
    let fields = [
        ("csrf", step.csrf()),
        ("mfa_token", token),
        ("recovery", "1".into()),
    ];
    let mut with_code: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    with_code.push(("code", &codes[2]));
    let done = other.post("/login/mfa", &with_code).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let mut third = Browser::new(&app);
    let step = third.login_to(&alice.email, PASSWORD, "").await;
    let token = hidden(&step, "mfa_token");
    let replay = third
        .post(
            "/login/mfa",
            &[
                ("csrf", &step.csrf()),
                ("mfa_token", &token),
                ("recovery", "1"),
                ("code", &codes[2]),
            ],
        )
        .await;
    assert_eq!(replay.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(replay.body.contains("was used already"));
}

#[tokio::test]
async fn the_console_shows_the_factor_and_resets_it() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let mut browser = Browser::new(&app);
    browser.login(&alice.email).await;
    enrol(&app, &mut browser).await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let mut console = Browser::new(&app);
    console.login(&admin.email).await;
    let path = format!("/admin/console/users/{}", alice.user.id);
    let page = console.get(&path).await;
    assert!(
        page.body.contains("10 recovery codes left"),
        "{}",
        page.body
    );
    let done = console
        .post(&format!("{path}/mfa/reset"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), format!("{path}?done=mfa"));
    let after = console.get(done.location()).await;
    assert!(after.body.contains("The second factor was reset"));
    // The user's browser session ended.
    assert_eq!(browser.get("/account").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_browsers_login_step_is_refused_by_the_api_and_the_apis_by_the_page() {
    // An `mfa_token` is bound to the kind of login it began: the one a
    // browser got cannot finish an API login (which would hand out tokens
    // from a page's password), nor the other way round.
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let mut browser = Browser::new(&app);
    browser.login(&alice.email).await;
    let (totp, _) = enrol(&app, &mut browser).await;
    let account = browser.get("/account").await;
    browser.post("/logout", &[("csrf", &account.csrf())]).await;

    // The browser's step, sent to the API with a right code: refused,
    // no tokens, and the code is not spent by it.
    let step = browser.login_to(&alice.email, PASSWORD, "/account").await;
    let browser_token = hidden(&step, "mfa_token");
    let api = app
        .client
        .post(app.url("/auth/login/mfa"))
        .json(&serde_json::json!({"mfa_token": browser_token, "code": code(&app, &totp, 0)}))
        .send()
        .await
        .unwrap();
    // As documented for /auth/login/mfa: 401 invalid_grant, the login step
    // is not one the API made.
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert!(body.get("access_token").is_none());
    let done = browser
        .post(
            "/login/mfa",
            &[
                ("csrf", &step.csrf()),
                ("mfa_token", &browser_token),
                ("return_to", "/account"),
                ("code", &code(&app, &totp, 0)),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(browser.session_cookie().is_some());

    // The API's step, sent to the page: the password again, no session.
    app.advance(std::time::Duration::from_secs(30));
    let first = app.login(&alice.email, PASSWORD).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first: serde_json::Value = first.json().await.unwrap();
    assert_eq!(first["mfa_required"], true);
    let api_token = first["mfa_token"].as_str().unwrap().to_owned();
    let mut other = Browser::new(&app);
    let form = other.get("/login").await;
    let refused = other
        .post(
            "/login/mfa",
            &[
                ("csrf", &form.csrf()),
                ("mfa_token", &api_token),
                ("code", &code(&app, &totp, 0)),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Enter your password again"));
    assert!(other.session_cookie().is_none());
    let finished = app
        .client
        .post(app.url("/auth/login/mfa"))
        .json(&serde_json::json!({"mfa_token": api_token, "code": code(&app, &totp, 0)}))
        .send()
        .await
        .unwrap();
    assert_eq!(finished.status(), StatusCode::OK);
    let tokens: serde_json::Value = finished.json().await.unwrap();
    assert!(tokens["access_token"].is_string());
}
