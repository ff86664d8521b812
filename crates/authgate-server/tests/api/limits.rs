//! Brute-force protection over HTTP: the per-account progressive delay, the
//! per-address limit, and whose `X-Forwarded-For` is believed.

use std::time::Duration;

use authgate_testkit::reqwest::{StatusCode, header};
use authgate_testkit::{PASSWORD, TestApp, assert_error, spawn_app_with};
use serde_json::json;

async fn login_from(
    app: &TestApp,
    forwarded_for: Option<&str>,
    id: &str,
    password: &str,
) -> authgate_testkit::reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/auth/login"))
        .json(&json!({"email": id, "password": password}));
    if let Some(ip) = forwarded_for {
        request = request.header("x-forwarded-for", ip);
    }
    request.send().await.unwrap()
}

async fn assert_rate_limited(response: authgate_testkit::reqwest::Response, retry_after: u64) {
    let error = assert_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert_eq!(
        error
            .headers
            .get(header::RETRY_AFTER)
            .unwrap()
            .to_str()
            .unwrap(),
        retry_after.to_string()
    );
}

#[tokio::test]
async fn an_account_is_delayed_after_five_failures_and_the_delay_doubles() {
    let app = spawn_app_with(|_| {}).await;
    let alice = app.new_user().await;
    for _ in 0..5 {
        assert_error(
            app.login(&alice.email, "wrong-password-1").await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    // Delayed: even the right password waits.
    assert_rate_limited(app.login(&alice.email, &alice.password).await, 1).await;
    app.advance(Duration::from_secs(1));
    assert_error(
        app.login(&alice.email, "wrong-password-1").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_rate_limited(app.login(&alice.email, &alice.password).await, 2).await;
    app.advance(Duration::from_secs(2));
    // A success resets the count: four more failures are not delayed.
    assert_eq!(
        app.login(&alice.email, &alice.password).await.status(),
        StatusCode::OK
    );
    for _ in 0..4 {
        assert_error(
            app.login(&alice.email, "wrong-password-1").await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    assert_eq!(
        app.login(&alice.email, &alice.password).await.status(),
        StatusCode::OK
    );
}

/// `n` failed logins as `id` from `ip` (a trusted proxy's client), each 401.
async fn fail_from(app: &TestApp, ip: &str, id: &str, n: usize) {
    for _ in 0..n {
        assert_error(
            login_from(app, Some(ip), id, "wrong-password-1").await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
}

/// An app that believes `X-Forwarded-For` from the test client, with no
/// per-address quota: each test request comes from the address it names.
async fn behind_a_proxy() -> TestApp {
    spawn_app_with(|s| {
        s.rate_limit.login_per_ip_per_minute = 0;
        s.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await
}

#[tokio::test]
async fn the_identifiers_of_an_account_count_apart_like_unknown_ones() {
    let app = spawn_app_with(|_| {}).await;
    app.register_ok(
        "carol@example.com",
        authgate_testkit::PASSWORD,
        Some("carol"),
    )
    .await;
    let bob = app.new_user().await;
    // Five failures as `carol` (any case) delay `carol`...
    for id in ["carol", "CAROL", "carol", "Carol", "carol"] {
        assert_error(
            app.login(id, "wrong-password-1").await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    assert_rate_limited(app.login("carol", authgate_testkit::PASSWORD).await, 1).await;
    // ...but not `carol@example.com`: the answer must not tell that the two
    // name one account, since for two made-up names it could not.
    assert_error(
        app.login("carol@example.com", "wrong-password-1").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_eq!(
        app.login(&bob.email, &bob.password).await.status(),
        StatusCode::OK
    );
    // Unknown identifiers behave exactly the same way.
    for _ in 0..5 {
        assert_error(
            app.login("nobody", "wrong-password-1").await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    assert_rate_limited(app.login("nobody", "wrong-password-1").await, 1).await;
    assert_error(
        app.login("nobody@example.com", "wrong-password-1").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn a_guessers_address_is_delayed_while_the_owner_logs_in_from_another() {
    let app = behind_a_proxy().await;
    let alice = app.new_user().await;
    fail_from(&app, "198.51.100.66", &alice.email, 5).await;
    // The guesser is delayed, even with the right password...
    assert_rate_limited(
        login_from(&app, Some("198.51.100.66"), &alice.email, &alice.password).await,
        1,
    )
    .await;
    // ...the owner, elsewhere, is not.
    assert_eq!(
        login_from(&app, Some("203.0.113.7"), &alice.email, &alice.password)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_account_wide_threshold_delays_a_distributed_guess() {
    let app = behind_a_proxy().await;
    let alice = app.new_user().await;
    // Fifty failures from ten addresses, five each: none delayed alone.
    for i in 0..10 {
        fail_from(&app, &format!("198.51.100.{i}"), &alice.email, 5).await;
    }
    // Now the account is delayed from everywhere, the owner's address too.
    assert_rate_limited(
        login_from(
            &app,
            Some("198.51.100.200"),
            &alice.email,
            "wrong-password-1",
        )
        .await,
        1,
    )
    .await;
    assert_rate_limited(
        login_from(&app, Some("203.0.113.7"), &alice.email, &alice.password).await,
        1,
    )
    .await;
    app.advance(Duration::from_secs(1));
    assert_eq!(
        login_from(&app, Some("203.0.113.7"), &alice.email, &alice.password)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_address_over_its_limit_gets_429_even_with_the_right_password() {
    let app = spawn_app_with(|s| s.rate_limit.login_per_ip_per_minute = 4).await;
    let alice = app.new_user().await; // a registration and a login
    assert_eq!(
        app.login(&alice.email, &alice.password).await.status(),
        StatusCode::OK
    );
    assert_error(
        app.login(&alice.email, "wrong-password-1").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_rate_limited(app.login(&alice.email, &alice.password).await, 15).await;
    app.advance(Duration::from_secs(15));
    assert_eq!(
        app.login(&alice.email, &alice.password).await.status(),
        StatusCode::OK
    );
    let events = app
        .state
        .auth
        .audit_events(&authgate_core::AuditFilter {
            kind: Some("login.rate_limited".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].details["reason"], "address");
    assert_eq!(events[0].ip, Some("127.0.0.1".parse().unwrap()));
}

#[tokio::test]
async fn registrations_draw_on_the_address_quota_and_create_nothing_when_refused() {
    let app = spawn_app_with(|s| s.rate_limit.login_per_ip_per_minute = 2).await;
    for n in 0..2 {
        app.register_ok(&format!("user{n}@example.com"), PASSWORD, None)
            .await;
    }
    // The third within the minute is refused before anything is looked up
    // (a 409 for a taken email would tell whether it exists) or hashed.
    for email in ["user0@example.com", "user9@example.com"] {
        let response = app
            .post_json(
                "/auth/register",
                &json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_rate_limited(response, 30).await;
    }
    let store = app.store().await;
    let users: &dyn authgate_core::UserStore = store.as_ref();
    assert_eq!(users.count_users().await.unwrap(), 2);
    app.advance(Duration::from_secs(30));
    app.register_ok("user9@example.com", PASSWORD, None).await;
}

#[tokio::test]
async fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
    let app = spawn_app_with(|s| s.rate_limit.login_per_ip_per_minute = 2).await;
    // Not trusted: every request counts against 127.0.0.1, whatever it claims.
    for ip in ["198.51.100.1", "198.51.100.2"] {
        assert_error(
            login_from(&app, Some(ip), "x@example.com", "wrong-password-1").await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    assert_rate_limited(
        login_from(
            &app,
            Some("198.51.100.3"),
            "x@example.com",
            "wrong-password-1",
        )
        .await,
        30,
    )
    .await;

    let app = spawn_app_with(|s| {
        s.rate_limit.login_per_ip_per_minute = 2;
        s.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    for _ in 0..2 {
        assert_error(
            login_from(
                &app,
                Some("198.51.100.1"),
                "x@example.com",
                "wrong-password-1",
            )
            .await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    assert_rate_limited(
        login_from(
            &app,
            Some("198.51.100.1"),
            "x@example.com",
            "wrong-password-1",
        )
        .await,
        30,
    )
    .await;
    // Another client behind the same proxy has its own quota.
    assert_error(
        login_from(
            &app,
            Some("198.51.100.2"),
            "y@example.com",
            "wrong-password-1",
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn concurrent_guesses_cannot_outrun_the_account_delay() {
    // No per-address limit: the guesses could come from as many addresses.
    let app = spawn_app_with(|s| s.rate_limit.login_per_ip_per_minute = 0).await;
    let alice = app.new_user().await;
    let guesses =
        (0..24).map(|_| async { app.login(&alice.email, "wrong-password-1").await.status() });
    let statuses = futures_util::future::join_all(guesses).await;
    let count = |status| statuses.iter().filter(|s| **s == status).count();
    // Each attempt either reserved one of the failures left before the
    // delay, or was refused; every reserved one failed.
    assert_eq!(
        (
            count(StatusCode::UNAUTHORIZED),
            count(StatusCode::TOO_MANY_REQUESTS)
        ),
        (5, 19),
        "{statuses:?}"
    );
    // Delayed now, whatever the password.
    assert_rate_limited(app.login(&alice.email, &alice.password).await, 1).await;
    app.advance(Duration::from_secs(1));
    assert_eq!(
        app.login(&alice.email, &alice.password).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn concurrent_logins_of_one_account_take_turns_and_all_succeed() {
    let app = spawn_app_with(|s| s.rate_limit.login_per_ip_per_minute = 0).await;
    let alice = app.new_user().await;
    let logins = (0..16).map(|_| async { app.login(&alice.email, &alice.password).await.status() });
    let statuses = futures_util::future::join_all(logins).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "more logins at once than the account's five places wait for one: {statuses:?}"
    );
}
