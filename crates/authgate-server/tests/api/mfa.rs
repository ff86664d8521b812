//! The TOTP second factor over the API: enrolment confirmed by a real code,
//! the two-step login, replay refused, recovery codes used once, wrong codes
//! counted toward the account's limits, the `mfa_token` bound to its login,
//! disabling, an administrator's reset, and no secret in a log line, an
//! audit record or an error body. Codes are computed by `totp-rs` from the
//! `otpauth://` URI the server returns (an implementation independent of
//! the server's), at the server's clock, which the tests move.

use std::time::Duration;

use authgate_proto::{
    LoginResponse, MfaRequiredResponse, MfaResetResponse, MfaStateResponse, RecoveryCodesResponse,
    TotpEnrolmentResponse,
};
use authgate_testkit::reqwest::{Response, StatusCode, header};
use authgate_testkit::{PASSWORD, TestApp, TestUser, assert_error, expect_json, spawn_app};
use serde_json::{Value, json};
use totp_rs::Totp;

/// A user whose TOTP factor is on.
struct Enrolled {
    user: TestUser,
    /// The authenticator app: built from the URI the server returned.
    app: Totp,
    /// The secret and URI as returned, to look for them where they must not be.
    secret: String,
    uri: String,
    recovery_codes: Vec<String>,
}

async fn post(app: &TestApp, path: &str, access: Option<&str>, body: &Value) -> Response {
    let mut request = app.client.post(app.url(path)).json(body);
    if let Some(access) = access {
        request = request.bearer_auth(access);
    }
    request.send().await.unwrap()
}

async fn mfa_state(app: &TestApp, access: &str) -> MfaStateResponse {
    let response = app
        .get_with_auth("/auth/mfa", &format!("Bearer {access}"))
        .await;
    expect_json(response, StatusCode::OK).await
}

/// The code `totp` shows at the server's time, moved by `steps` periods.
fn code_at(app: &TestApp, totp: &Totp, steps: i64) -> String {
    let time = app.now().unix_timestamp() + steps * 30;
    totp.generate(u64::try_from(time).unwrap()).to_string()
}

/// Moves the server's clock into the next 30-second step (codes of a new step).
fn next_step(app: &TestApp) {
    app.advance(Duration::from_secs(30));
}

async fn begin(app: &TestApp, access: &str) -> TotpEnrolmentResponse {
    let response = post(app, "/auth/mfa/totp", Some(access), &json!({})).await;
    assert_eq!(
        response.headers().get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    expect_json(response, StatusCode::OK).await
}

/// A new user with a confirmed factor (their login's session still live).
async fn enrolled(app: &TestApp) -> Enrolled {
    let user = app.new_user().await;
    let enrolment = begin(app, &user.access).await;
    let totp = Totp::from_url(&enrolment.otpauth_uri).expect("an otpauth URI apps accept");
    let confirm = post(
        app,
        "/auth/mfa/totp/confirm",
        Some(&user.access),
        &json!({"code": code_at(app, &totp, 0)}),
    )
    .await;
    let codes: RecoveryCodesResponse = expect_json(confirm, StatusCode::OK).await;
    // The code just used is spent; later logins use the next step's.
    next_step(app);
    Enrolled {
        user,
        app: totp,
        secret: enrolment.secret,
        uri: enrolment.otpauth_uri,
        recovery_codes: codes.recovery_codes,
    }
}

/// The password step of a login that needs a code.
async fn first_step(app: &TestApp, email: &str) -> MfaRequiredResponse {
    let response = app.login(email, PASSWORD).await;
    assert_eq!(
        response.headers().get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    expect_json(response, StatusCode::OK).await
}

async fn second_step(app: &TestApp, mfa_token: &str, code: &str) -> Response {
    post(
        app,
        "/auth/login/mfa",
        None,
        &json!({"mfa_token": mfa_token, "code": code}),
    )
    .await
}

#[tokio::test]
async fn an_enrolment_is_off_until_a_real_code_confirms_it_and_then_login_takes_two_steps() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let enrolment = begin(&app, &user.access).await;
    assert_eq!(enrolment.secret.len(), 32, "160 bits in base32");
    assert!(
        enrolment
            .otpauth_uri
            .starts_with("otpauth://totp/127.0.0.1:"),
        "{}",
        enrolment.otpauth_uri
    );
    assert!(
        enrolment
            .otpauth_uri
            .contains(&format!("secret={}", enrolment.secret))
    );
    assert!(enrolment.qr_svg.contains("<svg") && enrolment.qr_svg.contains("<path"));
    assert!(!enrolment.qr_svg.contains("<script"));
    let totp = Totp::from_url(&enrolment.otpauth_uri).unwrap();

    // Pending: logins still take the password alone.
    let state = mfa_state(&app, &user.access).await;
    assert!(state.totp_pending && !state.totp_enabled);
    let _: LoginResponse =
        expect_json(app.login(&user.email, PASSWORD).await, StatusCode::OK).await;

    // A wrong code does not confirm it.
    let wrong = format!(
        "{:06}",
        (code_at(&app, &totp, 0).parse::<u32>().unwrap() + 1) % 1_000_000
    );
    assert_error(
        post(
            &app,
            "/auth/mfa/totp/confirm",
            Some(&user.access),
            &json!({"code": wrong}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let confirm = post(
        &app,
        "/auth/mfa/totp/confirm",
        Some(&user.access),
        &json!({"code": code_at(&app, &totp, 0)}),
    )
    .await;
    assert_eq!(
        confirm.headers().get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    let codes: RecoveryCodesResponse = expect_json(confirm, StatusCode::OK).await;
    assert_eq!(codes.recovery_codes.len(), 10);
    let state = mfa_state(&app, &user.access).await;
    assert!(state.totp_enabled && !state.totp_pending);
    assert_eq!(state.recovery_codes_left, 10);

    next_step(&app);
    let pending = first_step(&app, &user.email).await;
    assert!(pending.mfa_required);
    assert_eq!(pending.expires_in, 300);
    // The mfa_token is no access token.
    assert_error(
        app.me(&pending.mfa_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    let login: LoginResponse = expect_json(
        second_step(&app, &pending.mfa_token, &code_at(&app, &totp, 0)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(login.user.id, user.user.id);
    assert_eq!(app.me(&login.access_token).await.status(), StatusCode::OK);
    app.refresh_ok(&login.refresh_token).await;
}

#[tokio::test]
async fn a_code_is_never_accepted_twice_and_one_step_either_side_is() {
    let app = spawn_app().await;
    let alice = enrolled(&app).await;
    let code = code_at(&app, &alice.app, 0);
    let first = first_step(&app, &alice.user.email).await;
    let _: LoginResponse = expect_json(
        second_step(&app, &first.mfa_token, &code).await,
        StatusCode::OK,
    )
    .await;
    // The same code again, inside its window: refused.
    let again = first_step(&app, &alice.user.email).await;
    let replay = assert_error(
        second_step(&app, &again.mfa_token, &code).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_eq!(
        replay.description,
        "The code is wrong, expired or was already used."
    );
    // The next step's code (a phone clock 30 s ahead) is accepted...
    let _: LoginResponse = expect_json(
        second_step(&app, &again.mfa_token, &code_at(&app, &alice.app, 1)).await,
        StatusCode::OK,
    )
    .await;
    // ...and then neither this step's nor an earlier one any more.
    let third = first_step(&app, &alice.user.email).await;
    assert_error(
        second_step(&app, &third.mfa_token, &code_at(&app, &alice.app, 0)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    // Two steps ahead is too far; two steps later, the step behind is fine.
    assert_error(
        second_step(&app, &third.mfa_token, &code_at(&app, &alice.app, 2)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    app.advance(Duration::from_secs(90));
    let _: LoginResponse = expect_json(
        second_step(&app, &third.mfa_token, &code_at(&app, &alice.app, -1)).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn a_recovery_code_logs_in_once() {
    let app = spawn_app().await;
    let alice = enrolled(&app).await;
    let code = alice.recovery_codes[3].clone();
    let first = first_step(&app, &alice.user.email).await;
    // Typed in lower case with spaces: the same code.
    let typed = code.to_lowercase().replace('-', " ");
    let _: LoginResponse = expect_json(
        second_step(&app, &first.mfa_token, &typed).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        mfa_state(&app, &alice.user.access)
            .await
            .recovery_codes_left,
        9
    );
    let again = first_step(&app, &alice.user.email).await;
    assert_error(
        second_step(&app, &again.mfa_token, &code).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    // Another user's code is no code of this account.
    let bob = enrolled(&app).await;
    assert_error(
        second_step(&app, &again.mfa_token, &bob.recovery_codes[0]).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn the_mfa_token_is_single_use_short_lived_and_worn_out_by_wrong_codes() {
    let app = spawn_app().await;
    let alice = enrolled(&app).await;
    let first = first_step(&app, &alice.user.email).await;
    let _: LoginResponse = expect_json(
        second_step(&app, &first.mfa_token, &code_at(&app, &alice.app, 0)).await,
        StatusCode::OK,
    )
    .await;
    next_step(&app);
    let used = assert_error(
        second_step(&app, &first.mfa_token, &code_at(&app, &alice.app, 0)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
    )
    .await;
    assert!(used.description.contains("log in again"));

    // Five minutes, then it is gone.
    let late = first_step(&app, &alice.user.email).await;
    app.advance(Duration::from_secs(301));
    assert_error(
        second_step(&app, &late.mfa_token, &code_at(&app, &alice.app, 0)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
    )
    .await;

    // Five codes in all: the sixth, right or not, finds no step.
    next_step(&app);
    let worn = first_step(&app, &alice.user.email).await;
    for _ in 0..5 {
        assert_error(
            second_step(&app, &worn.mfa_token, "000000x").await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    assert_error(
        second_step(&app, &worn.mfa_token, &code_at(&app, &alice.app, 0)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
    )
    .await;
    // Made up, or an access token: no step either.
    assert_error(
        second_step(&app, "made-up", "123456").await,
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
    )
    .await;
    assert_error(
        second_step(&app, &alice.user.access, "123456").await,
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn wrong_codes_count_toward_the_accounts_limits_and_a_right_password_does_not_clear_them() {
    let app = spawn_app().await;
    let alice = enrolled(&app).await;
    // Five wrong codes (the default `failures_before_delay`), each after a
    // right password: the sixth attempt is delayed.
    for _ in 0..5 {
        let step = first_step(&app, &alice.user.email).await;
        assert_error(
            second_step(&app, &step.mfa_token, "999999x").await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    let step = first_step(&app, &alice.user.email).await;
    let limited = second_step(&app, &step.mfa_token, &code_at(&app, &alice.app, 0)).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().get(header::RETRY_AFTER).is_some());
    assert_error(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let failed = app
        .state
        .auth
        .audit_events(&authgate_core::AuditFilter {
            user_id: Some(alice.user.user.id),
            kind: Some("login.failed".into()),
            limit: 20,
            ..authgate_core::AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        failed
            .iter()
            .filter(|e| e.details.get("reason") == Some(&json!("bad_code")))
            .count(),
        5
    );
}

#[tokio::test]
async fn enrolling_twice_is_a_conflict_and_so_is_confirming_with_nothing_pending() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    assert_error(
        post(
            &app,
            "/auth/mfa/totp/confirm",
            Some(&user.access),
            &json!({"code": "123456"}),
        )
        .await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    // A second enrolment before confirming replaces the first secret.
    let first = begin(&app, &user.access).await;
    let second = begin(&app, &user.access).await;
    assert_ne!(first.secret, second.secret);
    let old = Totp::from_url(&first.otpauth_uri).unwrap();
    let old_code = code_at(&app, &old, 0);
    let new_code = code_at(&app, &Totp::from_url(&second.otpauth_uri).unwrap(), 0);
    if old_code != new_code {
        assert_error(
            post(
                &app,
                "/auth/mfa/totp/confirm",
                Some(&user.access),
                &json!({"code": old_code}),
            )
            .await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    let _: RecoveryCodesResponse = expect_json(
        post(
            &app,
            "/auth/mfa/totp/confirm",
            Some(&user.access),
            &json!({"code": new_code}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let conflict = assert_error(
        post(&app, "/auth/mfa/totp", Some(&user.access), &json!({})).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert!(conflict.description.contains("already enabled"));
    // Every MFA route of the caller wants a Bearer token.
    assert_error(
        post(&app, "/auth/mfa/totp", None, &json!({})).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn disabling_takes_a_current_code_or_the_password_and_logins_take_one_step_again() {
    let app = spawn_app().await;
    let alice = enrolled(&app).await;
    let access = alice.user.access.clone();
    assert_error(
        post(&app, "/auth/mfa/totp/disable", Some(&access), &json!({})).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    assert_error(
        post(
            &app,
            "/auth/mfa/totp/disable",
            Some(&access),
            &json!({"password": "not-it-at-all"}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_error(
        post(
            &app,
            "/auth/mfa/totp/disable",
            Some(&access),
            &json!({"code": "000000x"}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert!(mfa_state(&app, &access).await.totp_enabled, "still on");
    let off: MfaStateResponse = expect_json(
        post(
            &app,
            "/auth/mfa/totp/disable",
            Some(&access),
            &json!({"code": code_at(&app, &alice.app, 0)}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        off,
        MfaStateResponse {
            totp_enabled: false,
            totp_pending: false,
            recovery_codes_left: 0
        }
    );
    let _: LoginResponse =
        expect_json(app.login(&alice.user.email, PASSWORD).await, StatusCode::OK).await;
    assert_error(
        post(
            &app,
            "/auth/mfa/totp/disable",
            Some(&access),
            &json!({"password": PASSWORD}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // With the password, too.
    let bob = enrolled(&app).await;
    let _: MfaStateResponse = expect_json(
        post(
            &app,
            "/auth/mfa/totp/disable",
            Some(&bob.user.access),
            &json!({"password": PASSWORD}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let _: LoginResponse =
        expect_json(app.login(&bob.user.email, PASSWORD).await, StatusCode::OK).await;
}

#[tokio::test]
async fn an_administrators_reset_removes_the_factor_ends_the_sessions_and_is_audited() {
    let app = spawn_app().await;
    let alice = enrolled(&app).await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let plain = app.new_user().await;
    let path = format!("/admin/users/{}/mfa/reset", alice.user.user.id);
    assert_error(
        post(&app, &path, Some(&plain.access), &json!({})).await,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
    )
    .await;
    assert!(mfa_state(&app, &alice.user.access).await.totp_enabled);
    assert_error(
        post(
            &app,
            "/admin/users/not-a-uuid/mfa/reset",
            Some(&admin.access),
            &json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let done: MfaResetResponse = expect_json(
        post(&app, &path, Some(&admin.access), &json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done.sessions_ended, 1);
    assert_error(
        app.me(&alice.user.access).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    assert_error(
        app.refresh(&alice.user.refresh).await,
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
    )
    .await;
    let login: LoginResponse =
        expect_json(app.login(&alice.user.email, PASSWORD).await, StatusCode::OK).await;
    assert!(!mfa_state(&app, &login.access_token).await.totp_enabled);

    let events = app
        .state
        .auth
        .audit_events(&authgate_core::AuditFilter {
            user_id: Some(alice.user.user.id),
            kind: Some("mfa.reset".into()),
            limit: 5,
            ..authgate_core::AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].actor_id.as_deref(),
        Some(admin.user.id.to_string().as_str())
    );
}

#[tokio::test]
async fn no_totp_secret_recovery_code_or_mfa_token_reaches_the_log_the_audit_or_an_error_body() {
    let log = crate::recovery::Captured::get();
    let app = spawn_app().await;
    let alice = enrolled(&app).await;
    let mut secrets = vec![alice.secret.clone(), alice.uri.clone()];
    secrets.extend(alice.recovery_codes.iter().cloned());
    secrets.extend(alice.recovery_codes.iter().map(|c| c.replace('-', "")));

    let mut bodies = String::new();
    let step = first_step(&app, &alice.user.email).await;
    secrets.push(step.mfa_token.clone());
    let typo = format!("{}X", alice.recovery_codes[0]);
    let wrong = second_step(&app, &step.mfa_token, &typo).await;
    bodies.push_str(&wrong.text().await.unwrap());
    let used = second_step(&app, &step.mfa_token, &alice.recovery_codes[0]).await;
    assert_eq!(used.status(), StatusCode::OK);
    let replay = second_step(&app, &step.mfa_token, &alice.recovery_codes[0]).await;
    bodies.push_str(&replay.text().await.unwrap());
    let second = first_step(&app, &alice.user.email).await;
    secrets.push(second.mfa_token.clone());
    let replayed = second_step(&app, &second.mfa_token, &alice.recovery_codes[0]).await;
    bodies.push_str(&replayed.text().await.unwrap());
    let disable = post(
        &app,
        "/auth/mfa/totp/disable",
        Some(&alice.user.access),
        &json!({"code": alice.recovery_codes[0]}),
    )
    .await;
    bodies.push_str(&disable.text().await.unwrap());

    app.state.auth.flush().await;
    let audit = serde_json::to_string(
        &app.state
            .auth
            .audit_events(&authgate_core::AuditFilter {
                user_id: Some(alice.user.user.id),
                limit: 100,
                ..authgate_core::AuditFilter::default()
            })
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(audit.contains("mfa.enabled") && audit.contains("mfa.recovery_code_used"));
    let log = log.text();
    assert!(
        log.contains(&alice.user.user.id.to_string()),
        "the log is captured"
    );
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "a secret in the log");
        assert!(
            !audit.contains(secret.as_str()),
            "a secret in the audit trail"
        );
        assert!(
            !bodies.contains(secret.as_str()),
            "a secret in an error body: {bodies}"
        );
    }
}

/// The whole flow on `app` (the PostgreSQL test runs it on its store).
pub(crate) async fn the_whole_flow(app: &TestApp) {
    let alice = enrolled(app).await;
    let step = first_step(app, &alice.user.email).await;
    let code = code_at(app, &alice.app, 0);
    let _: LoginResponse = expect_json(
        second_step(app, &step.mfa_token, &code).await,
        StatusCode::OK,
    )
    .await;
    let again = first_step(app, &alice.user.email).await;
    assert_error(
        second_step(app, &again.mfa_token, &code).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let _: LoginResponse = expect_json(
        second_step(app, &again.mfa_token, &alice.recovery_codes[0]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        mfa_state(app, &alice.user.access).await.recovery_codes_left,
        9
    );
    let admin = app.new_user_with_roles(&["admin"]).await;
    let path = format!("/admin/users/{}/mfa/reset", alice.user.user.id);
    let done: MfaResetResponse = expect_json(
        post(app, &path, Some(&admin.access), &json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done.sessions_ended, 3);
    let _: LoginResponse =
        expect_json(app.login(&alice.user.email, PASSWORD).await, StatusCode::OK).await;
}

#[tokio::test]
async fn the_whole_flow_on_sqlite() {
    the_whole_flow(&spawn_app().await).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set AUTHGATE_TEST_POSTGRES_URL (scripts/test does)"]
async fn the_whole_flow_on_postgres() {
    use authgate_store::testing::{POSTGRES_URL_VAR, TestSchema, service_url};
    let url = service_url(POSTGRES_URL_VAR, "api::mfa::the_whole_flow_on_postgres");
    let schema = TestSchema::create(&url).await.unwrap();
    let url = schema.url(None).unwrap();
    let app =
        authgate_testkit::spawn_app_with(|settings| settings.storage.database_url = url).await;
    the_whole_flow(&app).await;
}
