//! GET /auth/sessions and DELETE /auth/sessions/{id}: a user's own sessions.

use authgate_jwt::decode_unverified;
use authgate_proto::{AccessClaims, LoginResponse, MeResponse, SessionsResponse};
use authgate_testkit::reqwest::{Method, StatusCode, header};
use authgate_testkit::{
    PASSWORD, USER_AGENT, assert_error, assert_invalid_token, expect_json, spawn_app,
};
use serde_json::json;
use uuid::Uuid;

fn sid(access: &str) -> Uuid {
    decode_unverified::<AccessClaims>(access)
        .unwrap()
        .claims
        .sid
        .unwrap()
}

#[tokio::test]
async fn the_session_list_marks_the_callers_session_and_shows_where_each_came_from() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let response = app
        .request(Method::POST, "/auth/login")
        .header(header::USER_AGENT, "second-browser/2.0")
        .json(&json!({"email": alice.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let phone: LoginResponse = expect_json(response, StatusCode::OK).await;

    let list: SessionsResponse =
        expect_json(app.sessions(&alice.access).await, StatusCode::OK).await;
    assert_eq!(list.sessions.len(), 2);
    let mine = list.sessions.iter().find(|s| s.current).unwrap();
    let other = list.sessions.iter().find(|s| !s.current).unwrap();
    assert_eq!(mine.id, sid(&alice.access));
    assert_eq!(other.id, sid(&phone.access_token));
    assert_eq!(mine.user_agent.as_deref(), Some(USER_AGENT));
    assert_eq!(other.user_agent.as_deref(), Some("second-browser/2.0"));
    for session in &list.sessions {
        assert_eq!(session.ip, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(
            session.expires_at - session.created_at,
            time::Duration::days(30)
        );
    }
    assert_eq!(list.sessions[0].id, other.id, "newest first");

    // Seen from the other session, the other one is current.
    let list: SessionsResponse =
        expect_json(app.sessions(&phone.access_token).await, StatusCode::OK).await;
    let current: Vec<_> = list.sessions.iter().filter(|s| s.current).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].id, sid(&phone.access_token));
}

#[tokio::test]
async fn deleting_ones_other_session_ends_it_and_its_tokens() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let phone = app.login_ok(&alice.email, PASSWORD).await;
    let phone_sid = sid(&phone.access_token);

    let response = app
        .delete_session(&alice.access, &phone_sid.to_string())
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.bytes().await.unwrap().is_empty());

    assert_invalid_token(app.me(&phone.access_token).await).await;
    assert_invalid_token(app.sessions(&phone.access_token).await).await;
    assert_error(
        app.refresh(&phone.refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
    )
    .await;

    // The caller's own session is untouched, and lists only itself.
    let list: SessionsResponse =
        expect_json(app.sessions(&alice.access).await, StatusCode::OK).await;
    assert_eq!(list.sessions.len(), 1);
    assert!(list.sessions[0].current);
    app.refresh_ok(&alice.refresh).await;
}

#[tokio::test]
async fn deleting_ones_own_current_session_logs_out() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let response = app
        .delete_session(&alice.access, &sid(&alice.access).to_string())
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_invalid_token(app.me(&alice.access).await).await;
}

#[tokio::test]
async fn deleting_someone_elses_session_is_not_found_and_leaves_it_alone() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let bob = app.new_user().await;
    assert_error(
        app.delete_session(&alice.access, &sid(&bob.access).to_string())
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_json::<MeResponse>(app.me(&bob.access).await, StatusCode::OK).await;
    app.refresh_ok(&bob.refresh).await;
}

#[tokio::test]
async fn deleting_a_session_that_does_not_exist_or_is_not_an_id_is_not_found() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    for id in [
        Uuid::now_v7().to_string(),
        "not-a-uuid".to_owned(),
        "1".to_owned(),
        // Not UTF-8 once decoded: still no such session, in docs/http-api.md's shape.
        "%FF".to_owned(),
        "%C3%28".to_owned(),
    ] {
        assert_error(
            app.delete_session(&alice.access, &id).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
}

#[tokio::test]
async fn deleting_a_session_needs_a_valid_access_token() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let response = app
        .request(
            Method::DELETE,
            &format!("/auth/sessions/{}", sid(&alice.access)),
        )
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::UNAUTHORIZED, "invalid_token").await;
    assert_invalid_token(
        app.delete_session("garbage", &sid(&alice.access).to_string())
            .await,
    )
    .await;
    expect_json::<MeResponse>(app.me(&alice.access).await, StatusCode::OK).await;
}

#[tokio::test]
async fn sessions_that_ended_over_a_day_ago_are_purged_with_their_tokens() {
    let app = spawn_app().await;
    let (gone, kept) = (app.new_user().await, app.new_user().await);
    assert_eq!(
        app.logout(&gone.access, None).await.status(),
        StatusCode::OK
    );
    let sessions = app.store().await;
    let (gone_sid, kept_sid) = (sid(&gone.access), sid(&kept.access));

    // A revoked session stays while its access tokens could still be shown.
    app.advance(std::time::Duration::from_secs(3600));
    assert_eq!(app.state.purge_ended().await, 0);
    assert!(sessions.session(gone_sid).await.unwrap().is_some());

    app.advance(std::time::Duration::from_secs(86_400));
    // The server's own upkeep may purge first (it runs every few seconds
    // and purges once ten minutes of its clock have passed): either way
    // the session is gone after this call.
    let purged = app.state.purge_ended().await;
    assert!(purged <= 1, "{purged}");
    assert_eq!(sessions.session(gone_sid).await.unwrap(), None);
    // Its refresh token is gone too: presenting it is an unknown token.
    assert_error(
        app.refresh(&gone.refresh).await,
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
    )
    .await;

    // A live session (30 days of refresh) is untouched and still refreshes.
    assert!(sessions.session(kept_sid).await.unwrap().is_some());
    assert_eq!(app.refresh(&kept.refresh).await.status(), StatusCode::OK);
}

/// `GET /auth/sessions` with `query` (`limit=…&cursor=…`).
async fn sessions_page(
    app: &authgate_testkit::TestApp,
    access: &str,
    query: &str,
) -> authgate_testkit::reqwest::Response {
    app.request(Method::GET, &format!("/auth/sessions?{query}"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_session_list_pages_by_cursor_newest_first_until_a_null_cursor() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    for _ in 0..4 {
        app.advance(std::time::Duration::from_secs(1));
        let _: LoginResponse =
            expect_json(app.login(&alice.email, PASSWORD).await, StatusCode::OK).await;
    }
    let everything: SessionsResponse =
        expect_json(app.sessions(&alice.access).await, StatusCode::OK).await;
    assert_eq!(
        everything.sessions.len(),
        5,
        "the default page holds them all"
    );
    assert_eq!(everything.next_cursor, None);

    let mut walked = Vec::new();
    let mut query = "limit=2".to_owned();
    let mut pages = 0;
    loop {
        let page: SessionsResponse = expect_json(
            sessions_page(&app, &alice.access, &query).await,
            StatusCode::OK,
        )
        .await;
        assert!(page.sessions.len() <= 2);
        pages += 1;
        walked.extend(page.sessions);
        match page.next_cursor {
            Some(cursor) => query = format!("limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(walked, everything.sessions, "each session once, in order");
    assert!(
        walked
            .windows(2)
            .all(|w| w[0].created_at >= w[1].created_at),
        "newest first"
    );
}

#[tokio::test]
async fn an_oversized_limit_is_lowered_and_a_malformed_cursor_or_limit_is_400() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let page: SessionsResponse = expect_json(
        sessions_page(&app, &alice.access, "limit=100000").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page.sessions.len(), 1);
    for cursor in ["garbage", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "%00"] {
        let error = assert_error(
            sessions_page(&app, &alice.access, &format!("cursor={cursor}")).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        )
        .await;
        assert!(
            error.description.contains("cursor"),
            "{}",
            error.description
        );
    }
    let error = assert_error(
        sessions_page(&app, &alice.access, "limit=many").await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    assert!(error.description.contains("limit"), "{}", error.description);
}
