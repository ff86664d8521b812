//! Password reset by email: the message read from a real SMTP server (the
//! testkit's sink on 127.0.0.1), the reset itself, no enumeration, the
//! token's lifetime and single use, the per-address allowance, the outbox
//! surviving a restart, the outbox folder without SMTP, and no secret in
//! the log or the audit trail.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use authgate_core::AuditFilter;
use authgate_proto::{AuditEvent, MessageResponse};
use authgate_testkit::reqwest::StatusCode;
use authgate_testkit::{
    PASSWORD, ReceivedMail, SmtpSink, TestApp, assert_error, expect_json, spawn_app_with,
};
use serde_json::json;

/// The public URL the links are built from.
const PUBLIC_URL: &str = "https://id.example.com";

/// A new password the policy accepts.
const NEW_PASSWORD: &str = "copper-meadow-lighthouse-82-orbit";

/// A server sending through `sink`, linking to [`PUBLIC_URL`].
async fn app_with(sink: &SmtpSink) -> TestApp {
    let url = sink.url();
    spawn_app_with(move |s| {
        s.email.smtp_url = url;
        s.email.from = "Example ID <no-reply@example.com>".into();
        s.server.public_url = PUBLIC_URL.into();
    })
    .await
}

async fn forgot(app: &TestApp, email: &str) -> (StatusCode, Vec<u8>) {
    let response = app
        .post_json("/auth/password/forgot", &json!({ "email": email }))
        .await;
    let status = response.status();
    (status, response.bytes().await.unwrap().to_vec())
}

async fn reset(app: &TestApp, token: &str, password: &str) -> authgate_testkit::reqwest::Response {
    app.post_json(
        "/auth/password/reset",
        &json!({ "token": token, "new_password": password }),
    )
    .await
}

/// The reset link's token in `mail`.
fn token_of(mail: &ReceivedMail) -> String {
    let link = mail
        .link(&format!("{PUBLIC_URL}/password/reset?token="))
        .expect("the message holds a reset link");
    link.rsplit_once("token=").unwrap().1.to_owned()
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

/// Messages queued for `email` in the last hour.
async fn queued_for(app: &TestApp, email: &str) -> u64 {
    app.store()
        .await
        .count_mail_to(
            email,
            "password_reset",
            app.now() - time::Duration::hours(1),
        )
        .await
        .unwrap()
}

/// Every log line of this test process: a global subscriber (a
/// thread-local one misses lines whose callsite another test's thread
/// first met with no subscriber). Other tests' lines land here too, which
/// the searches below do not mind.
#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// The process's captured log, installed on first use.
    pub(crate) fn get() -> &'static Self {
        static LOG: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
        LOG.get_or_init(|| {
            let captured = Self::default();
            let writer = captured.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber in this test binary");
            captured
        })
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn a_reset_link_arrives_by_smtp_and_sets_a_new_password_ending_every_session() {
    let log = Captured::get();
    let mut sink = SmtpSink::start().await;
    let app = app_with(&sink).await;
    let user = app.new_user().await;
    let other = app.login_ok(&user.email, PASSWORD).await;

    let (status, body) = forgot(&app, &user.email).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let body: MessageResponse = serde_json::from_slice(&body).unwrap();
    assert!(body.message.starts_with("If an account has this address"));

    let mail = sink.next_mail().await;
    assert_eq!(mail.from, "no-reply@example.com");
    assert_eq!(mail.to, vec![user.email.clone()]);
    assert_eq!(
        mail.header("From").as_deref(),
        Some("\"Example ID\" <no-reply@example.com>")
    );
    assert_eq!(mail.header("To").as_deref(), Some(user.email.as_str()));
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Reset your password")
    );
    assert!(mail.header("Date").is_some());
    assert!(mail.header("List-Unsubscribe").is_none());
    let content_type = mail.header("Content-Type").unwrap();
    assert!(
        content_type.starts_with("multipart/alternative"),
        "{content_type}"
    );
    let text = mail.decoded();
    assert!(text.contains("text/plain") && text.contains("text/html"));
    // Sent as 7-bit text: the link stays whole in the raw message.
    assert!(
        mail.data.contains("Content-Transfer-Encoding: 7bit"),
        "{}",
        mail.data
    );
    assert!(
        mail.data
            .contains(&format!("{PUBLIC_URL}/password/reset?token="))
    );
    assert!(text.contains("(30 minutes after it was sent)"), "{text}");
    let token = token_of(&mail);
    assert!(token.len() >= 22, "at least 128 bits: {token}");

    let response = reset(&app, &token, NEW_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);

    // Every session ended: both refresh tokens, both access tokens.
    for refresh in [&user.refresh, &other.refresh_token] {
        assert_error(
            app.refresh(refresh).await,
            StatusCode::UNAUTHORIZED,
            "invalid_grant",
        )
        .await;
    }
    for access in [&user.access, &other.access_token] {
        assert_eq!(app.me(access).await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_error(
        app.login(&user.email, PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    app.login_ok(&user.email, NEW_PASSWORD).await;

    // Single use.
    let again = assert_error(
        reset(&app, &token, "another-fine-password-93-kestrel").await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    assert!(!again.description.contains(&token));
    app.login_ok(&user.email, NEW_PASSWORD).await;

    let all = events(&app).await;
    let reset_event = all
        .iter()
        .find(|e| e.kind.as_str() == "password.reset")
        .expect("password.reset is audited");
    assert_eq!(reset_event.user_id, Some(user.user.id));
    assert!(
        all.iter()
            .any(|e| e.kind.as_str() == "password.reset_requested"
                && e.user_id == Some(user.user.id))
    );
    let audit = serde_json::to_string(&all).unwrap();
    assert!(!audit.contains(&token), "no token in the audit trail");
    assert!(!audit.contains(NEW_PASSWORD));
    let log = log.text();
    assert!(
        log.contains(&format!(
            "password reset user_id={} sessions=2",
            user.user.id
        )),
        "the log is captured: {}",
        log.lines()
            .filter(|l| l.contains("password reset"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(!log.contains(&token), "no token in the log");
    assert!(!log.contains(NEW_PASSWORD));
}

#[tokio::test]
async fn forgot_answers_the_same_and_does_the_same_work_for_known_and_unknown_addresses() {
    let mut sink = SmtpSink::start().await;
    let app = app_with(&sink).await;
    let user = app.new_user().await;
    let unknown = "nobody@example.com";

    let known_answer = forgot(&app, &user.email).await;
    let unknown_answer = forgot(&app, unknown).await;
    assert_eq!(known_answer.0, StatusCode::ACCEPTED);
    assert_eq!(known_answer, unknown_answer, "same status, same body");

    // The same work: one message queued and sent to the address, one
    // audit record, on each path.
    assert_eq!(queued_for(&app, &user.email).await, 1);
    assert_eq!(queued_for(&app, unknown).await, 1);
    let first = sink.next_mail().await;
    let second = sink.next_mail().await;
    let (known_mail, unknown_mail) = if first.to == vec![user.email.clone()] {
        (first, second)
    } else {
        (second, first)
    };
    assert_eq!(unknown_mail.to, vec![unknown.to_owned()]);
    token_of(&known_mail);
    assert!(
        !unknown_mail.decoded().contains("token="),
        "no link for no account"
    );
    assert!(
        unknown_mail
            .decoded()
            .contains("no account has this address")
    );
    let requested: Vec<_> = events(&app)
        .await
        .into_iter()
        .filter(|e| e.kind.as_str() == "password.reset_requested")
        .collect();
    assert_eq!(requested.len(), 2);
    assert_eq!(requested.iter().filter(|e| e.user_id.is_some()).count(), 1);

    // An address that is not one is a 400, whoever asks.
    assert_error(
        app.post_json("/auth/password/forgot", &json!({ "email": "not-an-email" }))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn a_link_expires_after_30_minutes_and_a_newer_request_replaces_it() {
    let mut sink = SmtpSink::start().await;
    let app = app_with(&sink).await;
    let user = app.new_user().await;

    forgot(&app, &user.email).await;
    let first = token_of(&sink.next_mail().await);
    forgot(&app, &user.email).await;
    let second = token_of(&sink.next_mail().await);
    assert_ne!(first, second);
    assert_error(
        reset(&app, &first, NEW_PASSWORD).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;

    app.advance(Duration::from_secs(30 * 60 + 1));
    assert_error(
        reset(&app, &second, NEW_PASSWORD).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    app.login_ok(&user.email, PASSWORD).await;

    // Unknown tokens too, with nothing changed.
    assert_error(
        reset(&app, "made-up", NEW_PASSWORD).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    app.login_ok(&user.email, PASSWORD).await;
}

#[tokio::test]
async fn a_password_changed_after_the_request_makes_the_link_useless() {
    let mut sink = SmtpSink::start().await;
    let app = app_with(&sink).await;
    let user = app.new_user().await;
    forgot(&app, &user.email).await;
    let token = token_of(&sink.next_mail().await);

    // Any change of the stored hash (here as an administrator's tool would).
    let store = app.store().await;
    let current = store.user_by_id(user.user.id).await.unwrap().unwrap();
    assert!(
        store
            .set_password_hash(
                user.user.id,
                &current.password_hash,
                "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$c2V0IGJ5IGFub3RoZXIgcGF0aA",
                app.now()
            )
            .await
            .unwrap()
    );
    assert_error(
        reset(&app, &token, NEW_PASSWORD).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn a_weak_new_password_is_refused_and_the_link_still_works() {
    let mut sink = SmtpSink::start().await;
    let app = app_with(&sink).await;
    let user = app.new_user().await;
    forgot(&app, &user.email).await;
    let token = token_of(&sink.next_mail().await);

    let error = assert_error(
        reset(&app, &token, "short").await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    assert!(
        error.description.starts_with("password"),
        "{}",
        error.description
    );
    app.login_ok(&user.email, PASSWORD).await;
    let _: MessageResponse =
        expect_json(reset(&app, &token, NEW_PASSWORD).await, StatusCode::OK).await;
    app.login_ok(&user.email, NEW_PASSWORD).await;
}

#[tokio::test]
async fn an_address_gets_three_messages_an_hour_and_further_requests_answer_the_same() {
    let mut sink = SmtpSink::start().await;
    let app = app_with(&sink).await;
    let user = app.new_user().await;
    let first = forgot(&app, &user.email).await;
    for _ in 0..3 {
        assert_eq!(forgot(&app, &user.email).await, first);
    }
    assert_eq!(queued_for(&app, &user.email).await, 3);
    for _ in 0..3 {
        sink.next_mail().await;
    }
    app.advance(Duration::from_secs(3601));
    forgot(&app, &user.email).await;
    assert_eq!(queued_for(&app, &user.email).await, 1);
    sink.next_mail().await;
}

#[tokio::test]
async fn a_message_the_relay_refuses_survives_a_restart_and_is_retried_after_its_backoff() {
    let mut sink = SmtpSink::start().await;
    let mut app = app_with(&sink).await;
    let user = app.new_user().await;
    sink.refuse_next(1);
    forgot(&app, &user.email).await;
    sink.next_refusal().await;

    app.restart().await;
    // Not due yet: the first retry waits 30 s.
    assert_eq!(app.state.deliver_mail().await, 0);
    assert!(sink.is_empty());
    app.advance(Duration::from_secs(31));
    app.state.deliver_mail().await;
    let mail = sink.next_mail().await;
    let token = token_of(&mail);
    reset(&app, &token, NEW_PASSWORD).await;
    app.login_ok(&user.email, NEW_PASSWORD).await;
    assert_eq!(app.store().await.pending_mail().await.unwrap(), 0);
}

#[tokio::test]
async fn without_smtp_messages_are_written_to_the_outbox_folder_and_the_log_says_where() {
    let log = Captured::get();
    let app = spawn_app_with(|_| {}).await;
    let user = app.new_user().await;
    forgot(&app, &user.email).await;
    let folder = app.data_dir.join("outbox");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let file = loop {
        let found = std::fs::read_dir(&folder)
            .ok()
            .and_then(|mut entries| entries.find_map(|e| e.ok()))
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"));
        if let Some(file) = found {
            break file;
        }
        assert!(tokio::time::Instant::now() < deadline, "no .eml file");
        // Runs the delivery itself if the worker has not yet.
        app.state.deliver_mail().await;
        tokio::task::yield_now().await;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&folder), 0o700);
    }
    let data = std::fs::read_to_string(&file).unwrap();
    let mail = ReceivedMail {
        from: String::new(),
        to: Vec::new(),
        data,
    };
    let link = mail
        .link("http://127.0.0.1:8080/password/reset?token=")
        .expect("a link built from the default public URL");
    let token = link.rsplit_once("token=").unwrap().1.to_owned();
    let log = log.text();
    assert!(
        log.contains(&file.display().to_string()),
        "the log names the file"
    );
    assert!(!log.contains(&token), "never the link");
    reset(&app, &token, NEW_PASSWORD).await;
    app.login_ok(&user.email, NEW_PASSWORD).await;
}

#[tokio::test]
async fn a_relay_without_starttls_gets_nothing_in_plain_text_when_tls_is_required() {
    let mut sink = SmtpSink::start().await;
    // The sink offers no STARTTLS; the URL does not allow plain text.
    let url = format!("smtp://127.0.0.1:{}", sink.port);
    let app = spawn_app_with(move |s| s.email.smtp_url = url).await;
    let user = app.new_user().await;
    forgot(&app, &user.email).await;
    // An attempt this call runs (the worker may run the first: then move
    // past its back-off) fails and keeps the message for a retry.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while app.state.deliver_mail().await == 0 {
        app.advance(Duration::from_secs(3600));
        assert!(
            tokio::time::Instant::now() < deadline,
            "no attempt was made"
        );
        tokio::task::yield_now().await;
    }
    assert_eq!(
        app.store().await.pending_mail().await.unwrap(),
        1,
        "kept for a retry"
    );
    assert!(sink.is_empty(), "nothing was sent without TLS");
}
