//! The OAuth 2.0 endpoints: `/oauth/token` (client credentials, refresh),
//! `/oauth/introspect` (RFC 7662) and `/oauth/revoke` (RFC 7009).

use authgate_testkit::reqwest::{StatusCode, header};
use authgate_testkit::{
    TestApp, TestClient, assert_error, assert_invalid_token, assert_no_store, expect_json,
    spawn_app, spawn_app_with,
};
use serde_json::{Value, json};

async fn introspect(app: &TestApp, client: &TestClient, token: &str) -> Value {
    let response = app
        .post_form("/oauth/introspect", &[("token", token)], Some(client))
        .await;
    expect_json(response, StatusCode::OK).await
}

fn inactive() -> Value {
    json!({"active": false})
}

#[tokio::test]
async fn client_credentials_give_a_client_token_without_a_session() {
    let app = spawn_app_with(|s| {
        s.tokens
            .audiences
            .insert("api".into(), "https://api.example".into());
    })
    .await;
    let client = app.new_client(&["user"]).await;
    let response = app
        .post_form(
            "/oauth/token",
            &[("grant_type", "client_credentials"), ("audience", "api")],
            Some(&client),
        )
        .await;
    assert_no_store(response.headers());
    let body: Value = expect_json(response, StatusCode::OK).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body.get("refresh_token").is_none());
    let claims = authgate_jwt::decode_unverified::<Value>(body["access_token"].as_str().unwrap())
        .unwrap()
        .claims;
    assert_eq!(claims["sub"], client.id);
    assert_eq!(claims["client_id"], client.id);
    assert_eq!(claims["aud"], "https://api.example");
    assert_eq!(claims["roles"], json!(["user"]));
    assert!(claims.get("sid").is_none());

    // Form fields work as well as HTTP Basic.
    let response = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &client.id),
                ("client_secret", &client.secret),
            ],
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    // A client token is not a user token: /me refuses it.
    assert_invalid_token(app.me(&app.client_token(&client).await).await).await;
}

#[tokio::test]
async fn token_endpoint_errors_follow_rfc_6749() {
    let app = spawn_app().await;
    let client = app.new_client(&[]).await;
    let wrong = TestClient {
        id: client.id.clone(),
        secret: "not-the-secret".into(),
    };
    let unknown = TestClient {
        id: "svc_nobody".into(),
        secret: client.secret.clone(),
    };
    for creds in [Some(&wrong), Some(&unknown), None] {
        let response = app
            .post_form(
                "/oauth/token",
                &[("grant_type", "client_credentials")],
                creds,
            )
            .await;
        let error = assert_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
        assert!(error.headers.get(header::WWW_AUTHENTICATE).is_some());
    }
    let response = app
        .post_form("/oauth/token", &[("grant_type", "password")], Some(&client))
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "unsupported_grant_type").await;
    let response = app.post_form("/oauth/token", &[], Some(&client)).await;
    let error = assert_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    assert!(
        error.description.contains("grant_type"),
        "{}",
        error.description
    );
    let response = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("grant_type", "refresh_token"),
            ],
            Some(&client),
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    let response = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("audience", "nowhere"),
            ],
            Some(&client),
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    // Both authentication methods at once is ambiguous (RFC 6749 §2.3).
    let response = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &client.id),
            ],
            Some(&client),
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_error(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
}

#[tokio::test]
async fn refresh_grant_rotates_like_auth_refresh_and_needs_no_client() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let response = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &alice.refresh),
            ],
            None,
        )
        .await;
    assert_no_store(response.headers());
    let body: Value = expect_json(response, StatusCode::OK).await;
    let next = body["refresh_token"].as_str().unwrap();
    assert_ne!(next, alice.refresh);
    assert_eq!(
        app.me(body["access_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
    // JSON bodies are accepted too; a garbage token is invalid_grant.
    let response = app
        .post_json(
            "/oauth/token",
            &json!({"grant_type": "refresh_token", "refresh_token": "garbage"}),
        )
        .await;
    // RFC 6749 §5.2's status here (authgate's own /auth/refresh says 401).
    assert_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let response = app
        .post_form("/oauth/token", &[("grant_type", "refresh_token")], None)
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn introspection_of_an_active_user_token_tells_its_facts() {
    let app = spawn_app().await;
    let client = app.new_client(&[]).await;
    let alice = app.new_user().await;
    let answer = introspect(&app, &client, &alice.access).await;
    let claims = authgate_jwt::decode_unverified::<Value>(&alice.access)
        .unwrap()
        .claims;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["token_type"], "Bearer");
    for field in [
        "sub", "exp", "iat", "nbf", "iss", "aud", "jti", "sid", "roles",
    ] {
        assert_eq!(answer[field], claims[field], "{field}");
    }
    assert!(answer.get("client_id").is_none());
    // A client token is active too, and names its client.
    let token = app.client_token(&client).await;
    let answer = introspect(&app, &client, &token).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["client_id"], client.id);
    assert!(answer.get("sid").is_none());
}

#[tokio::test]
async fn introspection_of_a_refresh_token_is_active_until_it_is_rotated() {
    let app = spawn_app().await;
    let client = app.new_client(&[]).await;
    let alice = app.new_user().await;
    let answer = introspect(&app, &client, &alice.refresh).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["token_type"], "refresh_token");
    assert_eq!(answer["sub"], alice.user.id.to_string());
    assert!(answer["sid"].is_string());
    assert!(answer["exp"].as_i64().unwrap() > answer["iat"].as_i64().unwrap());
    assert!(answer.get("roles").is_none());
    app.refresh_ok(&alice.refresh).await;
    assert_eq!(introspect(&app, &client, &alice.refresh).await, inactive());
}

#[tokio::test]
async fn introspection_says_inactive_for_expired_revoked_disabled_and_garbage() {
    let app = spawn_app().await;
    let client = app.new_client(&[]).await;

    for garbage in ["", "garbage", "a.b.c", &"x".repeat(10_000)] {
        assert_eq!(
            introspect(&app, &client, garbage).await,
            inactive(),
            "{garbage:.20}"
        );
    }

    let revoked = app.new_user().await;
    app.logout(&revoked.access, None).await;
    assert_eq!(introspect(&app, &client, &revoked.access).await, inactive());
    assert_eq!(
        introspect(&app, &client, &revoked.refresh).await,
        inactive()
    );

    let disabled = app.new_user().await;
    app.store()
        .await
        .set_active(disabled.user.id, false, app.now())
        .await
        .unwrap();
    app.advance(std::time::Duration::from_secs(2));
    assert_eq!(
        introspect(&app, &client, &disabled.access).await,
        inactive()
    );
    assert_eq!(
        introspect(&app, &client, &disabled.refresh).await,
        inactive()
    );

    // Expired is inactive from `exp` on, not after the verification leeway:
    // the server's own clock decides (RFC 7662 §2.2).
    let expiring = app.new_user().await;
    app.advance(std::time::Duration::from_secs(15 * 60 - 1));
    assert_eq!(
        introspect(&app, &client, &expiring.access).await["active"],
        true
    );
    app.advance(std::time::Duration::from_secs(1));
    assert_eq!(
        introspect(&app, &client, &expiring.access).await,
        inactive()
    );
}

#[tokio::test]
async fn introspection_reports_the_roles_held_now_not_those_signed_into_the_token() {
    let app = spawn_app().await;
    let client = app.new_client(&[]).await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    assert_eq!(
        introspect(&app, &client, &admin.access).await["roles"],
        json!(["admin"])
    );
    app.state
        .auth
        .set_roles(
            None,
            admin.user.id,
            vec!["user".into()],
            &Default::default(),
        )
        .await
        .unwrap();
    let answer = introspect(&app, &client, &admin.access).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["roles"], json!(["user"]), "demoted at once");
}

#[tokio::test]
async fn introspection_requires_client_authentication() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let response = app
        .post_form("/oauth/introspect", &[("token", &alice.access)], None)
        .await;
    assert_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    // A user's Bearer token is not client authentication.
    let response = app
        .client
        .post(app.url("/oauth/introspect"))
        .bearer_auth(&alice.access)
        .form(&[("token", &alice.access)])
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    // Authentication comes first: without credentials a body without a
    // token is 401 too, never a 400 that answers an unauthenticated caller.
    for path in ["/oauth/introspect", "/oauth/revoke"] {
        let response = app.post_form(path, &[], None).await;
        assert_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    }
    // An authenticated client without a token gets 400 (an empty token is
    // only a bad one: inactive).
    let client = app.new_client(&[]).await;
    let response = app.post_form("/oauth/introspect", &[], Some(&client)).await;
    assert_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn revoking_an_access_token_kills_it_everywhere_and_keeps_the_session() {
    let app = spawn_app().await;
    let client = app.new_client(&["admin"]).await;
    let alice = app.new_user().await;
    let response = app
        .post_form("/oauth/revoke", &[("token", &alice.access)], Some(&client))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_invalid_token(app.me(&alice.access).await).await;
    assert_eq!(introspect(&app, &client, &alice.access).await, inactive());
    // Only that token: the session refreshes into a working one.
    let fresh = app.refresh_ok(&alice.refresh).await;
    assert_eq!(app.me(&fresh.access_token).await.status(), StatusCode::OK);
    // And it stays dead after a restart (the database is the source of truth).
    let mut app = app;
    app.restart().await;
    assert_invalid_token(app.me(&alice.access).await).await;
}

#[tokio::test]
async fn revoking_a_refresh_token_ends_its_session() {
    let app = spawn_app().await;
    let client = app.new_client(&["admin"]).await;
    let alice = app.new_user().await;
    let response = app
        .post_form(
            "/oauth/revoke",
            &[
                ("token", &alice.refresh),
                ("token_type_hint", "refresh_token"),
            ],
            Some(&client),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_error(
        app.refresh(&alice.refresh).await,
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
    )
    .await;
    assert_invalid_token(app.me(&alice.access).await).await;
}

#[tokio::test]
async fn revoking_a_client_token_kills_it() {
    let app = spawn_app().await;
    let client = app.new_client(&["admin"]).await;
    let token = app.client_token(&client).await;
    let admin_get = || async {
        app.client
            .get(app.url("/admin/keys"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
    };
    assert_eq!(admin_get().await.status(), StatusCode::OK);
    let response = app
        .post_form("/oauth/revoke", &[("token", &token)], Some(&client))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_invalid_token(admin_get().await).await;
}

#[tokio::test]
async fn a_client_revokes_only_its_own_tokens_unless_its_roles_may_write_users() {
    let app = spawn_app_with(|s| {
        s.roles
            .insert("user-admin".into(), vec!["users:write".into()]);
    })
    .await;
    let plain = app.new_client(&[]).await;
    let other = app.new_client(&["admin"]).await;
    let other_token = app.client_token(&other).await;
    let alice = app.new_user().await;
    // Not issued to it: 200 (RFC 7009 leaves nothing to learn), and nothing happens.
    for token in [&alice.access, &alice.refresh, &other_token] {
        let response = app
            .post_form("/oauth/revoke", &[("token", token.as_str())], Some(&plain))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(app.me(&alice.access).await.status(), StatusCode::OK);
    assert_eq!(introspect(&app, &plain, &other_token).await["active"], true);
    let alice = {
        let fresh = app.refresh_ok(&alice.refresh).await;
        (fresh.access_token, fresh.refresh_token)
    };
    // Its own token it may revoke.
    let own = app.client_token(&plain).await;
    let response = app
        .post_form("/oauth/revoke", &[("token", &own)], Some(&plain))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(introspect(&app, &plain, &own).await, inactive());
    // A client whose roles may write users may revoke anyone's.
    let manager = app.new_client(&["user-admin"]).await;
    for token in [&alice.1, &other_token] {
        let response = app
            .post_form(
                "/oauth/revoke",
                &[("token", token.as_str())],
                Some(&manager),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_invalid_token(app.me(&alice.0).await).await;
    assert_eq!(introspect(&app, &plain, &other_token).await, inactive());
}

#[tokio::test]
async fn a_user_may_revoke_their_own_tokens_with_their_bearer_but_not_others() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let bob = app.new_user().await;
    let revoke = |bearer: String, token: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/oauth/revoke"))
                .bearer_auth(bearer)
                .form(&[("token", token)])
                .send()
                .await
                .unwrap()
        }
    };
    // Bob's token given with Alice's Bearer: 200, but nothing happens to it.
    let response = revoke(alice.access.clone(), bob.refresh.clone()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.me(&bob.access).await.status(), StatusCode::OK);
    app.refresh_ok(&bob.refresh).await;
    // A service client's access token is no Bearer here: any API it was
    // sent to could otherwise replay it to end other people's sessions.
    let client = app.new_client(&[]).await;
    let client_access = app.client_token(&client).await;
    assert_error(
        revoke(client_access, bob.refresh.clone()).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    app.refresh_ok(&bob.refresh).await;
    // Her own refresh token: her session ends.
    let response = revoke(alice.access.clone(), alice.refresh.clone()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_error(
        app.refresh(&alice.refresh).await,
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn revocation_is_200_for_unknown_tokens_and_401_without_authentication() {
    let app = spawn_app().await;
    let client = app.new_client(&[]).await;
    for token in ["garbage", "a.b.c"] {
        let response = app
            .post_form("/oauth/revoke", &[("token", token)], Some(&client))
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{token}");
    }
    let response = app
        .post_form("/oauth/revoke", &[("token", "x")], None)
        .await;
    assert_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let response = app
        .client
        .post(app.url("/oauth/revoke"))
        .bearer_auth("not.a.token")
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let response = app.post_form("/oauth/revoke", &[], Some(&client)).await;
    assert_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn introspections_are_audited_without_the_token() {
    let app = spawn_app().await;
    let client = app.new_client(&[]).await;
    let alice = app.new_user().await;
    introspect(&app, &client, &alice.access).await;
    let events = app
        .state
        .auth
        .audit_events(&authgate_core::AuditFilter {
            kind: Some("token.introspected".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].client_id.as_deref(), Some(client.id.as_str()));
    assert_eq!(events[0].user_id, Some(alice.user.id));
    assert_eq!(events[0].details["active"], true);
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains(&alice.access));
    assert!(!text.contains(&client.secret));
}

#[tokio::test]
async fn a_client_gets_a_scope_its_roles_grant_in_the_token_and_introspection() {
    let app = spawn_app_with(|s| {
        s.roles.insert(
            "reader".into(),
            vec!["users:read".into(), "audit:read".into()],
        );
    })
    .await;
    let client = app.new_client(&["reader"]).await;
    let ask = |scope: &'static str| {
        let (app, client) = (&app, &client);
        async move {
            app.post_form(
                "/oauth/token",
                &[("grant_type", "client_credentials"), ("scope", scope)],
                Some(client),
            )
            .await
        }
    };
    let body: Value = expect_json(ask("users:read").await, StatusCode::OK).await;
    let token = body["access_token"].as_str().unwrap();
    let claims = authgate_jwt::decode_unverified::<Value>(token)
        .unwrap()
        .claims;
    assert_eq!(claims["scope"], "users:read");
    let seen = introspect(&app, &client, token).await;
    assert_eq!(seen["active"], true);
    assert_eq!(seen["scope"], "users:read");

    for bad in [
        "users:write",
        "users:read users:write",
        "",
        "users:read  audit:read",
    ] {
        let response = ask(bad).await;
        assert_error(response, StatusCode::BAD_REQUEST, "invalid_scope").await;
    }

    // Without a scope, the default: all the roles grant, no `scope` claim.
    let token = app.client_token(&client).await;
    let claims = authgate_jwt::decode_unverified::<Value>(&token)
        .unwrap()
        .claims;
    assert!(claims.get("scope").is_none());
}
