//! Refresh against the real server: the margin, single flight, rotation,
//! and the end of a session.

use std::time::Duration;

use authgate_client::{AuditKind, AuthChange, Client, Error};
use authgate_testkit::{PASSWORD, TestApp, spawn_app};

use crate::Counting;

/// A logged-in client whose refresh requests are counted.
async fn counted_client(app: &TestApp) -> (Client, Counting) {
    let user = app.new_user().await;
    let transport = Counting::new(app.client_transport(), "/auth/refresh");
    let client = Client::builder(transport.clone())
        .clock(app.client_clock())
        .build();
    client.login(&user.email, PASSWORD).await.unwrap();
    (client, transport)
}

#[tokio::test]
async fn a_token_with_more_than_the_margin_left_is_not_refreshed() {
    let app = spawn_app().await;
    let (client, refreshes) = counted_client(&app).await;
    app.advance(Duration::from_secs(15 * 60 - 120));
    client.me().await.unwrap();
    assert_eq!(refreshes.calls(), 0);
}

#[tokio::test]
async fn a_token_inside_the_margin_is_refreshed_and_the_rotated_token_used_next() {
    let app = spawn_app().await;
    let (client, refreshes) = counted_client(&app).await;
    let first = client.store().tokens().unwrap();
    app.advance(Duration::from_secs(15 * 60 - 30));
    client.me().await.unwrap();
    assert_eq!(refreshes.calls(), 1);
    let second = client.store().tokens().unwrap();
    assert_ne!(second.access, first.access);
    assert_ne!(second.refresh, first.refresh);

    // Next time round the rotated refresh token is the one that works.
    app.advance(Duration::from_secs(15 * 60));
    client.me().await.unwrap();
    assert_eq!(refreshes.calls(), 2);
    assert!(client.store().is_authenticated());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_requests_with_a_nearly_expired_token_cause_exactly_one_refresh() {
    let app = spawn_app().await;
    let (client, refreshes) = counted_client(&app).await;
    app.advance(Duration::from_secs(15 * 60 - 10));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.me().await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(refreshes.calls(), 1);
    let refreshed = client
        .audit_log()
        .latest(100)
        .iter()
        .filter(|r| r.kind == AuditKind::Refreshed)
        .count();
    assert_eq!(refreshed, 1);
}

#[tokio::test]
async fn a_revoked_refresh_token_logs_the_store_out() {
    let app = spawn_app().await;
    let (client, _) = counted_client(&app).await;
    let changes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = changes.clone();
    let _sub = client
        .store()
        .subscribe(move |c| sink.lock().unwrap().push(c.clone()));
    // The user logs out everywhere from another device.
    let access = client.store().token().unwrap();
    let all = serde_json::json!({"all": true});
    assert_eq!(app.logout(&access, Some(&all)).await.status(), 200);

    let err = client.me().await.unwrap_err();
    assert!(err.is_session_over(), "{err:?}");
    assert!(!client.store().is_authenticated());
    assert_eq!(*changes.lock().unwrap(), [AuthChange::LoggedOut]);
    assert_eq!(
        client.audit_log().latest(1)[0].kind,
        AuditKind::SessionExpired
    );
}

#[tokio::test]
async fn a_forced_refresh_rotates_and_the_old_refresh_token_stops_working_after_the_grace() {
    let app = spawn_app().await;
    let (client, _) = counted_client(&app).await;
    let old = client.store().refresh_token().unwrap();
    client.refresh().await.unwrap();
    assert_ne!(client.store().refresh_token().unwrap(), old);
    app.advance(Duration::from_secs(11));
    // Replaying the old one after the grace window is theft: the session dies.
    assert_eq!(app.refresh(&old).await.status(), 401);
    let err = client.refresh().await.unwrap_err();
    assert!(err.is_session_over(), "{err:?}");
    assert_eq!(client.me().await.unwrap_err(), Error::NotAuthenticated);
}
