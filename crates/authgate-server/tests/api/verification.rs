//! Email verification: the link mailed at registration read from a real
//! SMTP server (the testkit's sink on 127.0.0.1), its single use and
//! lifetime, `auth.require_verified_email` on and off, asking again (the
//! same answer for every address, the hourly allowances), `PublicUser`'s
//! `email_verified`, and no token in the log or the audit trail.

use std::time::Duration;

use authgate_core::AuditFilter;
use authgate_proto::{AuditEvent, MeResponse, MessageResponse, PublicUser};
use authgate_testkit::reqwest::StatusCode;
use authgate_testkit::{
    PASSWORD, ReceivedMail, SmtpSink, TestApp, assert_error, expect_json, spawn_app_with,
};
use serde_json::json;

use crate::recovery::Captured;

/// The public URL the links are built from.
const PUBLIC_URL: &str = "https://id.example.com";

/// A server sending through `sink`, linking to [`PUBLIC_URL`], with
/// `auth.require_verified_email` set to `required`.
async fn app_with(sink: &SmtpSink, required: bool) -> TestApp {
    let url = sink.url();
    spawn_app_with(move |s| {
        s.email.smtp_url = url;
        s.email.from = "Example ID <no-reply@example.com>".into();
        s.server.public_url = PUBLIC_URL.into();
        s.auth.require_verified_email = required;
    })
    .await
}

/// A fresh address.
fn fresh_email() -> String {
    format!("user-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// The verification link's token in `mail`.
fn token_of(mail: &ReceivedMail) -> String {
    let link = mail
        .link(&format!("{PUBLIC_URL}/email/verify?token="))
        .expect("the message holds a verification link");
    link.rsplit_once("token=").unwrap().1.to_owned()
}

async fn verify(app: &TestApp, token: &str) -> authgate_testkit::reqwest::Response {
    app.post_json("/auth/email/verify", &json!({ "token": token }))
        .await
}

async fn resend(app: &TestApp, email: &str) -> (StatusCode, Vec<u8>) {
    let response = app
        .post_json("/auth/email/verify/resend", &json!({ "email": email }))
        .await;
    let status = response.status();
    (status, response.bytes().await.unwrap().to_vec())
}

/// Verification messages queued for `email` in the last hour.
async fn queued_for(app: &TestApp, email: &str) -> u64 {
    app.store()
        .await
        .count_mail_to(
            email,
            "email_verification",
            app.now() - time::Duration::hours(1),
        )
        .await
        .unwrap()
}

async fn events(app: &TestApp) -> Vec<AuditEvent> {
    app.state
        .auth
        .audit_events(&AuditFilter {
            limit: 1000,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
}

/// The caller's user as `GET /me` shows it.
async fn me(app: &TestApp, email: &str) -> PublicUser {
    let login = app.login_ok(email, PASSWORD).await;
    let me: MeResponse = expect_json(app.me(&login.access_token).await, StatusCode::OK).await;
    me.user
}

#[tokio::test]
async fn registration_mails_a_link_that_verifies_the_address_once() {
    let log = Captured::get();
    let mut sink = SmtpSink::start().await;
    let app = app_with(&sink, false).await;
    let email = fresh_email();
    let user = app.register_ok(&email, PASSWORD, None).await;
    assert!(!user.email_verified, "not verified at registration");

    let mail = sink.next_mail().await;
    assert_eq!(mail.from, "no-reply@example.com");
    assert_eq!(mail.to, vec![email.clone()]);
    assert_eq!(mail.header("To").as_deref(), Some(email.as_str()));
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Confirm your email address")
    );
    assert!(mail.header("List-Unsubscribe").is_none());
    assert!(
        mail.header("Content-Type")
            .unwrap()
            .starts_with("multipart/alternative")
    );
    let text = mail.decoded();
    assert!(text.contains("text/plain") && text.contains("text/html"));
    assert!(text.contains("(24 hours after it was sent)"), "{text}");
    let token = token_of(&mail);
    assert!(token.len() >= 22, "at least 128 bits: {token}");

    // Without `require_verified_email` an unverified account logs in.
    assert!(!me(&app, &email).await.email_verified);

    let done: MessageResponse = expect_json(verify(&app, &token).await, StatusCode::OK).await;
    assert_eq!(done.message, "Email address verified.");
    assert!(me(&app, &email).await.email_verified);

    // Single use.
    let again = assert_error(
        verify(&app, &token).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    assert!(!again.description.contains(&token));
    // Unknown tokens too.
    assert_error(
        verify(&app, "made-up").await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;

    let all = events(&app).await;
    let verified = all
        .iter()
        .find(|e| e.kind.as_str() == "email.verified")
        .expect("email.verified is audited");
    assert_eq!(verified.user_id, Some(user.id));
    assert!(
        all.iter().any(
            |e| e.kind.as_str() == "email.verification_requested" && e.user_id == Some(user.id)
        )
    );
    let audit = serde_json::to_string(&all).unwrap();
    assert!(!audit.contains(&token), "no token in the audit trail");
    let log = log.text();
    assert!(
        log.contains(&format!("email verified user_id={}", user.id)),
        "the log is captured"
    );
    assert!(!log.contains(&token), "no token in the log");
}

#[tokio::test]
async fn a_link_expires_after_24_hours_and_asking_again_replaces_it() {
    let mut sink = SmtpSink::start().await;
    let app = app_with(&sink, false).await;
    let email = fresh_email();
    app.register_ok(&email, PASSWORD, None).await;
    let first = token_of(&sink.next_mail().await);
    let (status, _) = resend(&app, &email).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let second = token_of(&sink.next_mail().await);
    assert_ne!(first, second);
    assert_error(
        verify(&app, &first).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;

    app.advance(Duration::from_secs(24 * 3600 + 1));
    assert_error(
        verify(&app, &second).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    assert!(!me(&app, &email).await.email_verified);

    // A new link works again.
    resend(&app, &email).await;
    let third = token_of(&sink.next_mail().await);
    expect_json::<MessageResponse>(verify(&app, &third).await, StatusCode::OK).await;
    assert!(me(&app, &email).await.email_verified);
}

#[tokio::test]
async fn with_require_verified_email_an_unverified_account_cannot_log_in_until_it_verifies() {
    let mut sink = SmtpSink::start().await;
    let app = app_with(&sink, true).await;
    let email = fresh_email();
    let user = app.register_ok(&email, PASSWORD, Some("verifier")).await;
    let token = token_of(&sink.next_mail().await);

    for login in [email.as_str(), "verifier"] {
        let refused = assert_error(
            app.login(login, PASSWORD).await,
            StatusCode::FORBIDDEN,
            "email_not_verified",
        )
        .await;
        assert!(
            refused
                .description
                .contains("POST /auth/email/verify/resend"),
            "says how to get a new link: {}",
            refused.description
        );
    }
    // A wrong password is still a wrong password: nothing is told.
    assert_error(
        app.login(&email, "not-the-password-at-all").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert!(
        events(&app)
            .await
            .iter()
            .any(|e| e.kind.as_str() == "login.failed"
                && e.user_id == Some(user.id)
                && e.details.get("reason").and_then(|r| r.as_str()) == Some("email_not_verified"))
    );

    // The way to resend works by username too.
    let (status, _) = resend(&app, "verifier").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let newer = token_of(&sink.next_mail().await);
    assert_error(
        verify(&app, &token).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    expect_json::<MessageResponse>(verify(&app, &newer).await, StatusCode::OK).await;
    let login = app.login_ok(&email, PASSWORD).await;
    assert!(login.user.email_verified);
}

#[tokio::test]
async fn asking_again_answers_the_same_for_unknown_verified_and_unverified_addresses() {
    let mut sink = SmtpSink::start().await;
    let app = app_with(&sink, false).await;
    let waiting = fresh_email();
    let verified = fresh_email();
    let unknown = fresh_email();
    app.register_ok(&waiting, PASSWORD, None).await;
    app.register_ok(&verified, PASSWORD, None).await;
    for _ in 0..2 {
        let mail = sink.next_mail().await;
        if mail.to == vec![verified.clone()] {
            expect_json::<MessageResponse>(verify(&app, &token_of(&mail)).await, StatusCode::OK)
                .await;
        }
    }

    let answers = [
        resend(&app, &waiting).await,
        resend(&app, &verified).await,
        resend(&app, &unknown).await,
    ];
    assert_eq!(answers[0].0, StatusCode::ACCEPTED);
    assert_eq!(answers[0], answers[1], "same status, same body");
    assert_eq!(answers[0], answers[2], "same status, same body");
    let body: MessageResponse = serde_json::from_slice(&answers[0].1).unwrap();
    assert!(body.message.starts_with("If an account with this address"));

    // Only the address awaiting verification gets a message.
    assert_eq!(queued_for(&app, &waiting).await, 2);
    assert_eq!(queued_for(&app, &verified).await, 1);
    assert_eq!(queued_for(&app, &unknown).await, 0);
    assert_eq!(sink.next_mail().await.to, vec![waiting.clone()]);
    app.state.deliver_mail().await;
    assert!(sink.is_empty(), "nothing for the others");

    // Every request is audited, with what it did.
    let outcomes: Vec<String> = events(&app)
        .await
        .into_iter()
        .filter(|e| e.kind.as_str() == "email.verification_requested")
        .filter_map(|e| {
            e.details
                .get("outcome")
                .and_then(|o| o.as_str())
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| *o == "nothing_to_verify")
            .count(),
        2
    );

    // A name that cannot be one is a 400, whoever asks.
    assert_error(
        app.post_json("/auth/email/verify/resend", &json!({ "email": "" }))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn an_address_gets_three_verification_messages_an_hour() {
    let mut sink = SmtpSink::start().await;
    let app = app_with(&sink, false).await;
    let email = fresh_email();
    app.register_ok(&email, PASSWORD, None).await;
    let first = resend(&app, &email).await;
    for _ in 0..3 {
        assert_eq!(resend(&app, &email).await, first, "the same answer");
    }
    assert_eq!(
        queued_for(&app, &email).await,
        3,
        "the registration's and two more"
    );
    let mut last = String::new();
    for _ in 0..3 {
        last = token_of(&sink.next_mail().await);
    }
    let limited = events(&app)
        .await
        .into_iter()
        .filter(|e| e.details.get("outcome").and_then(|o| o.as_str()) == Some("address_limited"))
        .count();
    assert_eq!(limited, 2);

    app.advance(Duration::from_secs(3601));
    resend(&app, &email).await;
    assert_eq!(queued_for(&app, &email).await, 1);
    let newest = token_of(&sink.next_mail().await);
    assert_error(
        verify(&app, &last).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    expect_json::<MessageResponse>(verify(&app, &newest).await, StatusCode::OK).await;
}

async fn change_email(
    app: &TestApp,
    access: &str,
    password: &str,
    new_email: &str,
) -> authgate_testkit::reqwest::Response {
    app.client
        .post(app.url("/auth/email/change"))
        .bearer_auth(access)
        .json(&json!({ "current_password": password, "new_email": new_email }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_email_change_takes_effect_once_the_new_address_is_verified_and_the_old_one_is_told() {
    let mut sink = SmtpSink::start().await;
    let app = app_with(&sink, false).await;
    let user = app.new_user().await;
    sink.next_mail().await; // the registration's verification message
    let other = app.new_user().await;
    sink.next_mail().await;
    let new_email = fresh_email();

    assert_error(
        change_email(&app, &user.access, "not-the-password-at-all", &new_email).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let same = assert_error(
        change_email(&app, &user.access, PASSWORD, &user.email).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    assert!(
        same.description.starts_with("new_email"),
        "{}",
        same.description
    );
    assert_error(
        change_email(&app, &user.access, PASSWORD, &other.email).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_error(
        change_email(&app, "not-a-token", PASSWORD, &new_email).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;

    let accepted: MessageResponse = expect_json(
        change_email(&app, &user.access, PASSWORD, &new_email).await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert!(
        accepted
            .message
            .starts_with("A link to confirm the new address")
    );
    let mail = sink.next_mail().await;
    assert_eq!(mail.to, vec![new_email.clone()]);
    assert!(mail.decoded().contains("asked to use this address"));
    let token = token_of(&mail);
    // Nothing changed yet.
    assert_eq!(me(&app, &user.email).await.email, user.email);

    expect_json::<MessageResponse>(verify(&app, &token).await, StatusCode::OK).await;
    let now = me(&app, &new_email).await;
    assert_eq!(now.email, new_email);
    assert!(now.email_verified);
    assert_error(
        app.login(&user.email, PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let notice = sink.next_mail().await;
    assert_eq!(notice.to, vec![user.email.clone()]);
    assert_eq!(
        notice.header("Subject").as_deref(),
        Some("Your email address was changed")
    );
    assert!(notice.decoded().contains(&new_email));
    assert!(
        !notice.decoded().contains("token="),
        "no link to the old address"
    );
    assert!(
        events(&app)
            .await
            .iter()
            .any(|e| e.kind.as_str() == "email.verified"
                && e.user_id == Some(user.user.id)
                && e.details.get("changed") == Some(&json!(true)))
    );
}

#[tokio::test]
async fn an_account_gets_three_verification_messages_an_hour_whatever_the_addresses() {
    let mut sink = SmtpSink::start().await;
    let app = app_with(&sink, false).await;
    let user = app.new_user().await;
    sink.next_mail().await; // the registration's: one of the three
    let addresses: Vec<String> = (0..3).map(|_| fresh_email()).collect();
    for address in &addresses {
        expect_json::<MessageResponse>(
            change_email(&app, &user.access, PASSWORD, address).await,
            StatusCode::ACCEPTED,
        )
        .await;
    }
    assert_eq!(queued_for(&app, &addresses[0]).await, 1);
    assert_eq!(queued_for(&app, &addresses[1]).await, 1);
    assert_eq!(
        queued_for(&app, &addresses[2]).await,
        0,
        "the account's allowance is spent, not the address's"
    );
    assert!(
        events(&app).await.iter().any(|e| {
            e.details.get("outcome").and_then(|o| o.as_str()) == Some("account_limited")
        })
    );
    sink.next_mail().await;
    sink.next_mail().await;
}

/// The verification link's token in `mail`, built from the default public URL.
pub(crate) fn token_of_default(mail: &ReceivedMail) -> String {
    let link = mail
        .link("http://127.0.0.1:8080/email/verify?token=")
        .expect("the message holds a verification link");
    link.rsplit_once("token=").unwrap().1.to_owned()
}
