//! The client's refresh, retry and error logic against a fake server.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use authgate_proto::ErrorCode;

use crate::audit::AuditKind;
use crate::client::Client;
use crate::error::Error;
use crate::fake::{ACCESS_TTL, FakeServer, FakeTransport, PASSWORD, REUSE_GRACE, RefreshMode};
use crate::store::tests::user;
use crate::store::{AuthChange, AuthStore, Tokens};
use crate::transport::{HttpRequest, HttpResponse, Method, Transport};
use authgate_proto::clock::{Clock, ManualClock};

/// A fake server and a client logged in to it, sharing one clock.
async fn logged_in() -> (Arc<FakeServer>, Client) {
    let server = FakeServer::new();
    let client = Client::builder(FakeTransport(Arc::clone(&server)))
        .clock(server.clock.clone())
        .build();
    client.login("alice@example.com", PASSWORD).await.unwrap();
    (server, client)
}

fn kinds(client: &Client) -> Vec<AuditKind> {
    let mut kinds: Vec<_> = client
        .audit_log()
        .latest(100)
        .iter()
        .map(|r| r.kind)
        .collect();
    kinds.reverse();
    kinds
}

#[tokio::test]
async fn login_fills_the_store_and_records_the_event() {
    let (server, client) = logged_in().await;
    assert!(client.store().is_authenticated());
    assert_eq!(client.store().user().unwrap().email, "alice@example.com");
    assert_eq!(
        client.store().refresh_token(),
        Some(server.current_refresh())
    );
    assert_eq!(kinds(&client), [AuditKind::LoginSucceeded]);
}

#[tokio::test]
async fn a_refused_login_is_a_typed_error_and_a_failure_record() {
    let server = FakeServer::new();
    let client = Client::new(FakeTransport(server));
    let err = client.login("alice", "wrong").await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidCredentials));
    assert!(matches!(err, Error::Api { status: 401, .. }));
    assert!(!client.store().is_authenticated());
    let record = &client.audit_log().latest(1)[0];
    assert_eq!(record.kind, AuditKind::LoginFailed);
    assert_eq!(record.user.as_deref(), Some("alice"));
    assert_eq!(record.detail.as_deref(), Some("invalid_credentials"));
}

#[tokio::test]
async fn a_token_far_from_expiry_is_used_without_refreshing() {
    let (server, client) = logged_in().await;
    let before = client.store().token().unwrap();
    server
        .clock
        .advance(time::Duration::seconds(ACCESS_TTL - 61));
    assert_eq!(client.access_token().await.unwrap(), before);
    client.me().await.unwrap();
    assert_eq!(server.calls("/auth/refresh"), 0);
}

#[tokio::test]
async fn a_token_within_the_margin_is_refreshed_first_and_the_rotation_kept() {
    let (server, client) = logged_in().await;
    let old_refresh = client.store().refresh_token().unwrap();
    server
        .clock
        .advance(time::Duration::seconds(ACCESS_TTL - 59));
    client.me().await.unwrap();
    assert_eq!(server.calls("/auth/refresh"), 1);
    assert_eq!(server.calls("/me"), 1);
    let new_refresh = client.store().refresh_token().unwrap();
    assert_ne!(new_refresh, old_refresh);
    assert_eq!(new_refresh, server.current_refresh());
    assert_eq!(
        kinds(&client),
        [AuditKind::LoginSucceeded, AuditKind::Refreshed]
    );
}

#[tokio::test]
async fn an_expired_token_is_refreshed_before_the_request() {
    let (server, client) = logged_in().await;
    server
        .clock
        .advance(time::Duration::seconds(ACCESS_TTL + 3600));
    client.me().await.unwrap();
    assert_eq!(server.calls("/auth/refresh"), 1);
    assert_eq!(server.calls("/me"), 1);
}

/// `callers` concurrent `access_token` calls while the server holds refresh
/// requests: once the first refresh has arrived and the callers had time to
/// queue behind it, `permits` refreshes are let through; their tokens.
async fn access_tokens_behind_a_held_refresh(
    server: &FakeServer,
    client: &Client,
    callers: usize,
    permits: usize,
) -> Vec<String> {
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.access_token().await })
        })
        .collect();
    while server.calls("/auth/refresh") == 0 {
        tokio::task::yield_now().await;
    }
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    server.gate.add_permits(permits);
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.unwrap().unwrap());
    }
    tokens
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_callers_with_a_nearly_expired_token_share_one_refresh() {
    let (server, client) = logged_in().await;
    server
        .clock
        .advance(time::Duration::seconds(ACCESS_TTL - 10));
    server.hold_refresh.store(true, Ordering::SeqCst);
    // Hold the one refresh until every caller is waiting for it.
    let tokens = access_tokens_behind_a_held_refresh(&server, &client, 50, 50).await;
    assert_eq!(server.calls("/auth/refresh"), 1);
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    assert_eq!(client.store().token().as_ref(), Some(&tokens[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_requests_that_meet_a_401_cause_one_refresh() {
    let (server, client) = logged_in().await;
    // The server stops accepting the token well before its expiry.
    server.reject_current_access();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.me().await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(server.calls("/auth/refresh"), 1);
    let me_calls = server.calls("/me");
    assert!(
        (51..=100).contains(&me_calls),
        "at most one retry each: {me_calls}"
    );
}

#[tokio::test]
async fn a_401_is_retried_once_after_a_refresh_and_not_again() {
    let (server, client) = logged_in().await;
    server.reject_all.store(true, Ordering::SeqCst);
    let err = client.me().await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidToken));
    assert_eq!(server.calls("/me"), 2);
    assert_eq!(server.calls("/auth/refresh"), 1);
    assert!(client.store().is_authenticated());
}

#[tokio::test]
async fn invalid_grant_logs_the_store_out_and_is_audited() {
    let (server, client) = logged_in().await;
    let changes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Arc::clone(&changes);
    let _sub = client
        .store()
        .subscribe(move |c| sink.lock().unwrap().push(c.clone()));
    server.issue(); // the client's refresh token is no longer the current one
    server.clock.advance(time::Duration::seconds(ACCESS_TTL));
    let err = client.me().await.unwrap_err();
    assert!(err.is_session_over(), "{err:?}");
    assert!(!client.store().is_authenticated());
    assert_eq!(*changes.lock().unwrap(), [AuthChange::LoggedOut]);
    assert_eq!(
        client.audit_log().latest(1)[0].kind,
        AuditKind::SessionExpired
    );
    assert_eq!(client.me().await.unwrap_err(), Error::NotAuthenticated);
}

#[tokio::test]
async fn a_passing_refresh_failure_keeps_the_session_and_the_still_valid_token() {
    let (server, client) = logged_in().await;
    let token = client.store().token().unwrap();
    *server.refresh_mode.lock().unwrap() = RefreshMode::Unavailable;
    server
        .clock
        .advance(time::Duration::seconds(ACCESS_TTL - 30));
    assert_eq!(client.access_token().await.unwrap(), token);
    assert!(client.store().is_authenticated());
    assert_eq!(
        client.audit_log().latest(1)[0].kind,
        AuditKind::RefreshFailed
    );
    // Once expired, the failure is the caller's error.
    server.clock.advance(time::Duration::seconds(60));
    let err = client.access_token().await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Unavailable));
    assert!(client.store().is_authenticated());
}

/// After a failed proactive refresh (`refreshes` so far): 4 s on, `token`
/// is still served without asking; at 5 s one more refresh is tried.
async fn pause_ends_after_five_seconds(
    server: &FakeServer,
    client: &Client,
    token: &str,
    refreshes: u32,
) {
    server.clock.advance(time::Duration::seconds(4));
    assert_eq!(client.access_token().await.unwrap(), token);
    assert_eq!(server.calls("/auth/refresh"), refreshes);
    server.clock.advance(time::Duration::seconds(1));
    assert_eq!(client.access_token().await.unwrap(), token);
    assert_eq!(server.calls("/auth/refresh"), refreshes + 1);
}

#[tokio::test]
async fn a_failed_proactive_refresh_waits_a_few_seconds_before_the_next_try() {
    let (server, client) = logged_in().await;
    let token = client.store().token().unwrap();
    *server.refresh_mode.lock().unwrap() = RefreshMode::Unavailable;
    server
        .clock
        .advance(time::Duration::seconds(ACCESS_TTL - 50));
    for _ in 0..10 {
        assert_eq!(client.access_token().await.unwrap(), token);
    }
    assert_eq!(server.calls("/auth/refresh"), 1);
    pause_ends_after_five_seconds(&server, &client, &token, 1).await;
    // The server is back: the next try after the pause refreshes.
    *server.refresh_mode.lock().unwrap() = RefreshMode::Rotate;
    assert_eq!(client.access_token().await.unwrap(), token);
    server.clock.advance(time::Duration::seconds(5));
    let fresh = client.access_token().await.unwrap();
    assert_ne!(fresh, token);
    assert_eq!(server.calls("/auth/refresh"), 3);
    // A token that expires during the pause is refreshed at once.
    *server.refresh_mode.lock().unwrap() = RefreshMode::Unavailable;
    server
        .clock
        .advance(time::Duration::seconds(ACCESS_TTL - 2));
    assert_eq!(client.access_token().await.unwrap(), fresh);
    assert_eq!(server.calls("/auth/refresh"), 4);
    server.clock.advance(time::Duration::seconds(3));
    let err = client.access_token().await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Unavailable));
    assert_eq!(server.calls("/auth/refresh"), 5);
}

#[tokio::test]
async fn the_pause_after_a_failed_refresh_counts_from_when_it_failed() {
    let (server, client) = logged_in().await;
    let token = client.store().token().unwrap();
    *server.refresh_mode.lock().unwrap() = RefreshMode::Unavailable;
    server.hold_refresh.store(true, Ordering::SeqCst);
    server
        .clock
        .advance(time::Duration::seconds(ACCESS_TTL - 59));
    let pending = tokio::spawn({
        let client = client.clone();
        async move { client.access_token().await }
    });
    while server.calls("/auth/refresh") == 0 {
        tokio::task::yield_now().await;
    }
    server.clock.advance(time::Duration::seconds(20)); // a slow failure
    server.gate.add_permits(1);
    assert_eq!(pending.await.unwrap().unwrap(), token);
    server.hold_refresh.store(false, Ordering::SeqCst);
    pause_ends_after_five_seconds(&server, &client, &token, 1).await;
}

#[tokio::test]
async fn a_refresh_asks_for_an_answer_well_within_the_reuse_grace() {
    let (server, client) = logged_in().await;
    client.refresh().await.unwrap();
    let timeout = server.timeout("/auth/refresh").unwrap();
    // Room for the try and one more before the server's grace ends.
    assert!(
        timeout * 2 <= Duration::from_secs(REUSE_GRACE as u64),
        "{timeout:?}"
    );
    client.me().await.unwrap();
    assert_eq!(
        server.timeout("/me"),
        None,
        "other requests keep the transport's"
    );
}

#[tokio::test]
async fn a_refresh_whose_response_is_lost_is_sent_again_at_once_and_the_session_lives_on() {
    let (server, client) = logged_in().await;
    // The server rotates the token, but its answer never arrives.
    server.lose_refresh_responses.store(1, Ordering::SeqCst);
    let token = client.refresh().await.unwrap();
    assert_eq!(server.calls("/auth/refresh"), 2);
    assert_eq!(client.store().token(), Some(token));
    assert_eq!(
        client.store().refresh_token(),
        Some(server.current_refresh())
    );
    // Long after the grace the kept refresh token still works: the parent
    // was not sent again late, which the server would take for theft.
    server
        .clock
        .advance(time::Duration::seconds(REUSE_GRACE + 60));
    client.refresh().await.unwrap();
    client.me().await.unwrap();
    assert_eq!(
        kinds(&client),
        [
            AuditKind::LoginSucceeded,
            AuditKind::Refreshed,
            AuditKind::Refreshed
        ]
    );
}

#[tokio::test]
async fn a_refresh_is_sent_again_only_once_and_only_when_no_answer_came() {
    let (server, client) = logged_in().await;
    server.lose_refresh_responses.store(2, Ordering::SeqCst);
    let err = client.refresh().await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert_eq!(server.calls("/auth/refresh"), 2);
    assert!(client.store().is_authenticated());
    // An error status is the server's answer: not sent again.
    *server.refresh_mode.lock().unwrap() = RefreshMode::Unavailable;
    let err = client.refresh().await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Unavailable));
    assert_eq!(server.calls("/auth/refresh"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn callers_waiting_for_a_refresh_whose_response_is_lost_share_its_second_try() {
    let (server, client) = logged_in().await;
    server
        .clock
        .advance(time::Duration::seconds(ACCESS_TTL - 10));
    server.lose_refresh_responses.store(1, Ordering::SeqCst);
    server.hold_refresh.store(true, Ordering::SeqCst);
    let tokens = access_tokens_behind_a_held_refresh(&server, &client, 20, 2).await;
    assert_eq!(server.calls("/auth/refresh"), 2);
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    assert_eq!(client.store().token().as_ref(), Some(&tokens[0]));
}

#[tokio::test]
async fn a_refresh_that_ends_after_logout_does_not_log_back_in() {
    let (server, client) = logged_in().await;
    server.hold_refresh.store(true, Ordering::SeqCst);
    let refreshing = tokio::spawn({
        let client = client.clone();
        async move { client.refresh().await }
    });
    while server.calls("/auth/refresh") == 0 {
        tokio::task::yield_now().await;
    }
    client.store().logout();
    server.gate.add_permits(1);
    assert_eq!(refreshing.await.unwrap(), Err(Error::NotAuthenticated));
    assert!(!client.store().is_authenticated());
}

/// Makes `store` switch to a new session at the fake (as another task's
/// logout and login would), returning that session's tokens.
fn switch_session(server: &Arc<FakeServer>, store: &AuthStore) -> impl FnOnce() + Send + 'static {
    let (server, store) = (Arc::clone(server), store.clone());
    move || {
        store.logout();
        let (access, refresh) = server.issue();
        store.login(Tokens::new(access, refresh), user(&["user"]));
    }
}

#[tokio::test]
async fn a_logout_and_login_while_a_refresh_reads_the_session_leave_the_new_session_alone() {
    let (_server, client) = logged_in().await;
    let store = client.store().clone();
    let other = Tokens::new("access-b", "refresh-b");
    store.set_after_read({
        let (store, other) = (store.clone(), other.clone());
        move || {
            store.logout();
            store.login(other, user(&["user"]));
        }
    });
    // The fake still accepts the first session's refresh token.
    assert_eq!(client.refresh().await, Err(Error::NotAuthenticated));
    assert_eq!(store.tokens(), Some(other));
}

#[tokio::test]
async fn logging_out_leaves_alone_a_session_that_replaced_it_meanwhile() {
    let (server, client) = logged_in().await;
    let store = client.store().clone();
    store.set_after_read(switch_session(&server, &store));
    client.logout().await.unwrap();
    assert_eq!(server.calls("/auth/logout"), 0);
    assert!(store.is_authenticated());
    assert_eq!(store.refresh_token(), Some(server.current_refresh()));
}

#[tokio::test]
async fn a_refresh_begun_in_an_earlier_session_is_not_joined_by_the_next_one() {
    let (server, client) = logged_in().await;
    server.hold_refresh.store(true, Ordering::SeqCst);
    let earlier = tokio::spawn({
        let client = client.clone();
        async move { client.refresh().await }
    });
    while server.calls("/auth/refresh") == 0 {
        tokio::task::yield_now().await;
    }
    client.store().logout();
    client.login("alice@example.com", PASSWORD).await.unwrap();
    server.gate.add_permits(2);
    let fresh = client.refresh().await.unwrap();
    assert_eq!(server.calls("/auth/refresh"), 2);
    assert_eq!(client.store().token(), Some(fresh));
    assert_eq!(
        client.store().refresh_token(),
        Some(server.current_refresh())
    );
    assert!(earlier.await.unwrap().is_err());
}

#[tokio::test]
async fn a_401_is_not_sent_again_as_a_user_who_logged_in_meanwhile() {
    let (server, client) = logged_in().await;
    server.before_response("/me", switch_session(&server, client.store()));
    let err = client.me().await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidToken));
    assert_eq!(server.calls("/me"), 1);
    assert_eq!(server.calls("/auth/refresh"), 0);
    assert!(client.store().is_authenticated());
}

#[tokio::test]
async fn refresh_refusals_that_can_never_succeed_end_the_session() {
    for (status, code) in [
        (401, Some("invalid_token")),
        (401, None),
        (400, Some("invalid_request")),
    ] {
        let (server, client) = logged_in().await;
        let changes = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = Arc::clone(&changes);
        let _sub = client
            .store()
            .subscribe(move |c| sink.lock().unwrap().push(c.clone()));
        *server.refresh_mode.lock().unwrap() = RefreshMode::Refuse(status, code);
        let err = client.refresh().await.unwrap_err();
        assert!(err.is_session_over(), "{status} {code:?}: {err:?}");
        assert!(!client.store().is_authenticated(), "{status} {code:?}");
        assert_eq!(*changes.lock().unwrap(), [AuthChange::LoggedOut]);
        assert_eq!(
            client.audit_log().latest(1)[0].kind,
            AuditKind::SessionExpired
        );
    }
}

#[tokio::test]
async fn refresh_failures_that_may_pass_keep_the_session() {
    for (status, code) in [
        (503, Some("unavailable")),
        (429, Some("rate_limited")),
        (500, Some("internal")),
        (502, None),
        (403, Some("insufficient_scope")),
    ] {
        let (server, client) = logged_in().await;
        *server.refresh_mode.lock().unwrap() = RefreshMode::Refuse(status, code);
        let err = client.refresh().await.unwrap_err();
        assert!(!err.is_session_over(), "{status} {code:?}: {err:?}");
        assert!(client.store().is_authenticated(), "{status} {code:?}");
        assert_eq!(
            client.audit_log().latest(1)[0].kind,
            AuditKind::RefreshFailed
        );
    }
}

#[tokio::test]
async fn logout_tells_the_server_and_empties_the_store() {
    let (server, client) = logged_in().await;
    client.logout().await.unwrap();
    assert_eq!(server.calls("/auth/logout"), 1);
    assert!(!client.store().is_authenticated());
    assert_eq!(client.audit_log().latest(1)[0].kind, AuditKind::LoggedOut);
    // Logging out twice is harmless and sends nothing.
    client.logout().await.unwrap();
    assert_eq!(server.calls("/auth/logout"), 1);
}

#[tokio::test]
async fn logout_with_a_session_the_server_already_ended_still_succeeds() {
    let (server, client) = logged_in().await;
    server.reject_all.store(true, Ordering::SeqCst);
    server.issue(); // refresh is refused too: invalid_grant
    client.logout().await.unwrap();
    assert!(!client.store().is_authenticated());
}

#[tokio::test]
async fn without_a_session_requests_fail_before_reaching_the_server() {
    let server = FakeServer::new();
    let client = Client::new(FakeTransport(Arc::clone(&server)));
    assert_eq!(client.me().await.unwrap_err(), Error::NotAuthenticated);
    assert_eq!(client.refresh().await.unwrap_err(), Error::NotAuthenticated);
    assert_eq!(server.calls("/me") + server.calls("/auth/refresh"), 0);
}

/// Answers every request with the same response.
#[derive(Debug)]
struct Canned(HttpResponse);

#[async_trait::async_trait]
impl Transport for Canned {
    async fn send(&self, _: HttpRequest) -> Result<HttpResponse, Error> {
        Ok(self.0.clone())
    }
}

#[tokio::test]
async fn rate_limiting_carries_retry_after() {
    let client = Client::new(Canned(HttpResponse {
        status: 429,
        retry_after: Some(7),
        body: br#"{"error":"rate_limited","error_description":"Slow down."}"#.to_vec(),
    }));
    let err = client.login("alice", "pw").await.unwrap_err();
    assert_eq!(
        err,
        Error::Api {
            status: 429,
            code: ErrorCode::RateLimited,
            description: "Slow down.".into(),
            retry_after: Some(7),
        }
    );
}

#[tokio::test]
async fn a_body_that_is_not_api_md_is_an_unexpected_response() {
    for (status, body) in [(502, &b"<html>Bad gateway</html>"[..]), (200, &b"{}"[..])] {
        let client = Client::new(Canned(HttpResponse {
            status,
            retry_after: None,
            body: body.to_vec(),
        }));
        let err = client.login("alice", "pw").await.unwrap_err();
        assert!(
            matches!(err, Error::UnexpectedResponse { status: s, .. } if s == status),
            "{err:?}"
        );
    }
}

#[test]
fn requests_never_show_the_token_or_body_in_debug() {
    let request = HttpRequest {
        method: Method::Post,
        path: "/auth/login".into(),
        bearer: Some("secret-token".into()),
        body: Some(br#"{"password":"secret-pw"}"#.to_vec()),
        timeout: None,
    };
    let debug = format!("{request:?}");
    assert!(!debug.contains("secret"), "{debug}");
}

/// A fake server and a client logged in to it whose clock is `skew`
/// seconds off the server's (negative: behind).
async fn logged_in_with_skew(skew: i64) -> (Arc<FakeServer>, Arc<ManualClock>, Client) {
    let server = FakeServer::new();
    let local = Arc::new(ManualClock::at_unix(server.clock.unix() + skew));
    let client = Client::builder(FakeTransport(Arc::clone(&server)))
        .clock(local.clone())
        .build();
    client.login("alice@example.com", PASSWORD).await.unwrap();
    (server, local, client)
}

#[tokio::test]
async fn a_client_clock_minutes_behind_still_refreshes_ahead_of_the_servers_expiry() {
    let (server, local, client) = logged_in_with_skew(-600).await;
    // 59 s before expiry by the server's clock: 659 s by the local one.
    server
        .clock
        .advance(time::Duration::seconds(ACCESS_TTL - 59));
    local.advance(time::Duration::seconds(ACCESS_TTL - 59));
    client.me().await.unwrap();
    assert_eq!(
        server.calls("/auth/refresh"),
        1,
        "refreshed by the server's time"
    );
    assert_eq!(client.server_now(), server.clock.unix());
}

#[tokio::test]
async fn a_client_clock_minutes_ahead_does_not_take_a_fresh_token_for_expired() {
    let (server, local, client) = logged_in_with_skew(1_200).await;
    // By the local clock the new token expired 300 s ago.
    let token = client.access_token().await.unwrap();
    assert!(crate::is_expired(&token, local.unix()));
    client.me().await.unwrap();
    server
        .clock
        .advance(time::Duration::seconds(ACCESS_TTL - 61));
    local.advance(time::Duration::seconds(ACCESS_TTL - 61));
    client.me().await.unwrap();
    assert_eq!(server.calls("/auth/refresh"), 0, "no refresh needed yet");
}
