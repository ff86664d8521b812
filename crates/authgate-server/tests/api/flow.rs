//! The whole life of a session: register, log in, /me, refresh, log out;
//! and what each kind of logout ends.

use std::collections::BTreeSet;
use std::time::Duration;

use authgate_jwt::decode_unverified;
use authgate_proto::{
    AccessClaims, LoginResponse, MeResponse, MessageResponse, RefreshResponse, RegisterResponse,
};
use authgate_testkit::reqwest::StatusCode;
use authgate_testkit::{
    PASSWORD, assert_error, assert_invalid_token, assert_no_store, expect_json, spawn_app,
};
use serde_json::{Value, json};

#[tokio::test]
async fn a_user_registers_logs_in_reads_me_refreshes_and_logs_out() {
    let app = spawn_app().await;

    // Register: 201 with the PublicUser, normalised, with the default roles.
    let response = app
        .register("  Alice@Example.com ", PASSWORD, Some("Alice_1"))
        .await;
    let user = expect_json::<RegisterResponse>(response, StatusCode::CREATED)
        .await
        .user;
    assert_eq!(user.email, "alice@example.com");
    assert_eq!(user.username.as_deref(), Some("alice_1"));
    assert_eq!(user.name, None);
    assert_eq!(user.roles, ["user"]);
    assert!(user.is_active);
    assert_eq!(user.id.get_version_num(), 7, "ids are UUID v7");

    // Login: tokens, not cacheable, with the user.
    let response = app.login("alice@example.com", PASSWORD).await;
    assert_no_store(response.headers());
    let login: LoginResponse = expect_json(response, StatusCode::OK).await;
    assert_eq!(login.expires_in, 900);
    assert_eq!(login.refresh_expires_in, 30 * 86_400);
    assert_eq!(login.user, user);
    let token = decode_unverified::<AccessClaims>(&login.access_token).unwrap();
    assert_eq!(token.header.typ.as_deref(), Some("at+jwt"));
    assert!(token.header.kid.is_some());
    assert_eq!(token.claims.sub, user.id.to_string());
    assert!(token.claims.aud.contains("authgate"));
    let sid = token.claims.sid.expect("user tokens carry a sid");

    // /me: the PublicUser at the top level plus the session, never a hash.
    let me: Value = expect_json(app.me(&login.access_token).await, StatusCode::OK).await;
    let keys: BTreeSet<&str> = me.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "id",
            "email",
            "username",
            "name",
            "roles",
            "is_active",
            "email_verified",
            "created_at",
            "session"
        ])
    );
    assert_eq!(
        me["name"],
        Value::Null,
        "a user without a name has name null"
    );
    let me: MeResponse = serde_json::from_value(me).unwrap();
    assert_eq!(me.user, user);
    assert_eq!(me.session.id, sid);
    assert_eq!(
        me.session.expires_at - me.session.created_at,
        time::Duration::days(30)
    );

    // Refresh: a new refresh token and a new access token for the same session.
    app.advance(Duration::from_secs(60));
    let response = app.refresh(&login.refresh_token).await;
    assert_no_store(response.headers());
    let refreshed: RefreshResponse = expect_json(response, StatusCode::OK).await;
    assert_ne!(refreshed.refresh_token, login.refresh_token);
    assert_ne!(refreshed.access_token, login.access_token);
    let me: MeResponse = expect_json(app.me(&refreshed.access_token).await, StatusCode::OK).await;
    assert_eq!(me.session.id, sid);

    // Logout (no body): the session's access tokens and refresh tokens all stop working.
    let response = app.logout(&refreshed.access_token, None).await;
    let message: MessageResponse = expect_json(response, StatusCode::OK).await;
    assert_eq!(message.message, "Logged out.");
    assert_invalid_token(app.me(&refreshed.access_token).await).await;
    assert_invalid_token(app.me(&login.access_token).await).await;
    assert_invalid_token(app.sessions(&login.access_token).await).await;
    assert_error(
        app.refresh(&refreshed.refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
    )
    .await;
    assert_error(
        app.refresh(&login.refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn a_user_can_log_in_with_the_username_in_either_field() {
    let app = spawn_app().await;
    app.register_ok("bob@example.com", PASSWORD, Some("bobby"))
        .await;
    for body in [
        json!({"username": "bobby", "password": PASSWORD}),
        json!({"email": "BOBBY", "password": PASSWORD}),
        json!({"username": "bob@example.com", "password": PASSWORD}),
    ] {
        let login: LoginResponse =
            expect_json(app.post_json("/auth/login", &body).await, StatusCode::OK).await;
        assert_eq!(login.user.email, "bob@example.com");
    }
}

#[tokio::test]
async fn each_login_starts_a_new_session() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let again = app.login_ok(&alice.email, PASSWORD).await;
    let sid = |token: &str| {
        decode_unverified::<AccessClaims>(token)
            .unwrap()
            .claims
            .sid
            .unwrap()
    };
    assert_ne!(sid(&alice.access), sid(&again.access_token));
}

#[tokio::test]
async fn logout_with_all_revokes_every_session_of_the_user_and_no_one_elses() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let other_tab = app.login_ok(&alice.email, PASSWORD).await;
    let bob = app.new_user().await;

    let response = app.logout(&alice.access, Some(&json!({"all": true}))).await;
    expect_json::<MessageResponse>(response, StatusCode::OK).await;

    for access in [&alice.access, &other_tab.access_token] {
        assert_invalid_token(app.me(access).await).await;
        assert_invalid_token(app.sessions(access).await).await;
    }
    for refresh in [&alice.refresh, &other_tab.refresh_token] {
        assert_error(
            app.refresh(refresh).await,
            StatusCode::UNAUTHORIZED,
            "invalid_grant",
        )
        .await;
    }
    expect_json::<MeResponse>(app.me(&bob.access).await, StatusCode::OK).await;
    app.refresh_ok(&bob.refresh).await;
}

#[tokio::test]
async fn logout_with_a_refresh_token_ends_that_session_too_but_only_if_it_is_the_callers() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let other_tab = app.login_ok(&alice.email, PASSWORD).await;
    let third_tab = app.login_ok(&alice.email, PASSWORD).await;
    let bob = app.new_user().await;

    let body = json!({"refresh_token": other_tab.refresh_token});
    expect_json::<MessageResponse>(app.logout(&alice.access, Some(&body)).await, StatusCode::OK)
        .await;
    assert_invalid_token(app.me(&other_tab.access_token).await).await;
    assert_error(
        app.refresh(&other_tab.refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
    )
    .await;
    // A session not named stays.
    expect_json::<MeResponse>(app.me(&third_tab.access_token).await, StatusCode::OK).await;

    // Someone else's refresh token in the body is ignored: it is not the caller's to end.
    let body = json!({"refresh_token": bob.refresh});
    expect_json::<MessageResponse>(
        app.logout(&third_tab.access_token, Some(&body)).await,
        StatusCode::OK,
    )
    .await;
    expect_json::<MeResponse>(app.me(&bob.access).await, StatusCode::OK).await;
    app.refresh_ok(&bob.refresh).await;
}
