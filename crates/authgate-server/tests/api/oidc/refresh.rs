//! `offline_access`: a relying party's refresh token, bound to the client
//! that got it, rotated at `/oauth/token` with reuse detection, its scope
//! kept or narrowed, a new ID token each time (OIDC Core §11, §12).

use std::time::Duration;

use super::*;

const OFFLINE: &str = "openid email offline_access";

/// Signs `user` in to `rp` asking for `scope`; the token response.
async fn offline_tokens(app: &TestApp, rp: &Rp, user: &TestUser, scope: &str) -> Value {
    let mut browser = Browser::new(app);
    let location = sign_in(&mut browser, user, &authorize(rp, &[("scope", scope)])).await;
    let code = param(&location, "code").unwrap_or_else(|| panic!("a code in {location}"));
    let response = exchange(app, rp, &code, VERIFIER).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// `grant_type=refresh_token` at `/oauth/token` as `rp` (or unauthenticated).
async fn refresh_as(
    app: &TestApp,
    rp: Option<&Rp>,
    refresh_token: &str,
    scope: Option<&str>,
) -> authgate_testkit::reqwest::Response {
    let mut fields = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    if let Some(scope) = scope {
        fields.push(("scope", scope));
    }
    let mut request = app.client.post(app.url("/oauth/token"));
    match rp {
        Some(Rp {
            id,
            secret: Some(secret),
        }) => request = request.basic_auth(id, Some(secret)),
        Some(Rp { id, secret: None }) => fields.push(("client_id", id)),
        None => {}
    }
    request.form(&fields).send().await.unwrap()
}

/// The claims of an ID token, verified against the published JWKS.
async fn id_claims(app: &TestApp, rp: &Rp, id_token: &str) -> Value {
    let jwks: jsonwebtoken::jwk::JwkSet = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let head = jsonwebtoken::decode_header(id_token).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(jwks.find(head.kid.as_deref().unwrap()).unwrap())
        .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[app.state.auth.settings().issuer.as_str()]);
    validation.set_audience(&[rp.id.as_str()]);
    jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .unwrap()
        .claims
}

async fn userinfo_status(app: &TestApp, access: &str) -> StatusCode {
    app.get_with_auth("/oauth/userinfo", &format!("Bearer {access}"))
        .await
        .status()
}

fn text<'v>(tokens: &'v Value, name: &str) -> &'v str {
    tokens[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {tokens}"))
}

#[tokio::test]
async fn with_offline_access_granted_the_client_refreshes_and_gets_a_new_id_token_of_the_same_sign_in()
 {
    let app = oidc_app().await;
    let rp = register_with(&app, false, false, &["email", "offline_access"]).await;
    let user = app.new_user().await;
    let first = offline_tokens(&app, &rp, &user, OFFLINE).await;
    assert_eq!(first["scope"], OFFLINE);
    let refresh = text(&first, "refresh_token");
    assert!(first["refresh_expires_in"].as_i64().unwrap() > 86_400);
    let original = id_claims(&app, &rp, text(&first, "id_token")).await;

    app.advance(Duration::from_secs(30));
    let response = refresh_as(&app, Some(&rp), refresh, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    let second: Value = response.json().await.unwrap();
    assert_eq!(second["scope"], OFFLINE, "the scope is kept");
    assert_ne!(text(&second, "refresh_token"), refresh, "rotated");
    assert_ne!(text(&second, "access_token"), text(&first, "access_token"));
    assert_eq!(
        userinfo_status(&app, text(&second, "access_token")).await,
        StatusCode::OK
    );
    let renewed = id_claims(&app, &rp, text(&second, "id_token")).await;
    for same in ["iss", "sub", "aud", "azp", "auth_time", "sid", "email"] {
        assert_eq!(renewed[same], original[same], "{same}");
    }
    assert!(renewed["iat"].as_i64() > original["iat"].as_i64());
    assert!(renewed.get("nonce").is_none(), "{renewed}");

    // The audit trail names the client.
    let refreshed = app
        .store()
        .await
        .events(&authgate_core::AuditFilter {
            user_id: Some(user.user.id),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.kind.as_str() == "token.refreshed")
        .expect("a token.refreshed event");
    assert_eq!(refreshed.client_id.as_deref(), Some(rp.id.as_str()));
}

#[tokio::test]
async fn a_rotated_refresh_token_presented_again_revokes_the_clients_session() {
    let app = oidc_app().await;
    let rp = register_with(&app, true, true, &["offline_access"]).await;
    let user = app.new_user().await;
    let first = offline_tokens(&app, &rp, &user, "openid offline_access").await;
    let old = text(&first, "refresh_token");
    let second: Value = refresh_as(&app, Some(&rp), old, None)
        .await
        .json()
        .await
        .unwrap();
    let third: Value = refresh_as(&app, Some(&rp), text(&second, "refresh_token"), None)
        .await
        .json()
        .await
        .unwrap();
    let live = text(&third, "refresh_token");
    assert_eq!(
        userinfo_status(&app, text(&third, "access_token")).await,
        StatusCode::OK
    );

    app.advance(Duration::from_secs(11));
    let reuse = refresh_as(&app, Some(&rp), old, None).await;
    assert_eq!(
        error_of(reuse).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into())
    );
    let after = refresh_as(&app, Some(&rp), live, None).await;
    assert_eq!(
        error_of(after).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into()),
        "the whole family is revoked"
    );
    assert_eq!(
        userinfo_status(&app, text(&third, "access_token")).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_refresh_may_narrow_the_scope_but_never_widen_it() {
    let app = oidc_app().await;
    let rp = register_with(&app, false, true, &["profile", "email", "offline_access"]).await;
    let user = app.new_user().await;
    let first = offline_tokens(&app, &rp, &user, OFFLINE).await;
    let refresh = text(&first, "refresh_token");

    for wider in ["openid profile", "openid email offline_access admin", ""] {
        let response = refresh_as(&app, Some(&rp), refresh, Some(wider)).await;
        assert_eq!(
            error_of(response).await,
            (StatusCode::BAD_REQUEST, "invalid_scope".into()),
            "{wider:?}"
        );
    }
    // Nothing changed: the token still refreshes, narrowed.
    let narrowed: Value = refresh_as(&app, Some(&rp), refresh, Some("openid"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(narrowed["scope"], "openid", "{narrowed}");
    let info: Value = app
        .get_with_auth(
            "/oauth/userinfo",
            &format!("Bearer {}", text(&narrowed, "access_token")),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info, json!({"sub": user.user.id.to_string()}));
    let claims = id_claims(&app, &rp, text(&narrowed, "id_token")).await;
    assert!(claims.get("email").is_none(), "{claims}");
    // The grant itself is not narrowed: the next refresh gets it all again.
    let again: Value = refresh_as(&app, Some(&rp), text(&narrowed, "refresh_token"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["scope"], OFFLINE);
}

#[tokio::test]
async fn no_refresh_token_without_offline_access_requested_and_allowed() {
    let app = oidc_app().await;
    let user = app.new_user().await;
    let allowed = register_with(&app, false, true, &["email", "offline_access"]).await;
    let tokens = offline_tokens(&app, &allowed, &user, "openid email").await;
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");

    let not_allowed = register_with(&app, false, true, &["email"]).await;
    let mut browser = Browser::new(&app);
    let refused = browser
        .get(&authorize(&not_allowed, &[("scope", OFFLINE)]))
        .await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    let location = refused.location();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(param(location, "error").as_deref(), Some("invalid_scope"));
    assert!(param(location, "code").is_none());
}

#[tokio::test]
async fn offline_access_is_on_the_consent_page_and_a_denial_gives_no_token() {
    let app = oidc_app().await;
    let rp = register_with(&app, false, false, &["offline_access"]).await;
    let user = app.new_user().await;
    let mut browser = Browser::new(&app);
    let first = browser
        .get(&authorize(&rp, &[("scope", "openid offline_access")]))
        .await;
    let return_to = param(first.location(), "return_to").unwrap();
    let done = browser.login_to(&user.email, PASSWORD, &return_to).await;
    let consent = browser.get(&continue_target(&done.body)).await;
    assert_eq!(consent.status, StatusCode::OK);
    assert!(
        consent.body.contains("Stay signed in"),
        "offline access in words: {}",
        consent.body
    );
    let denied = browser
        .post(
            "/oauth/authorize/consent",
            &[
                ("csrf", &consent.csrf()),
                ("request", &hidden(&consent.body, "request")),
                ("decision", "deny"),
            ],
        )
        .await;
    let location = continue_target(&denied.body);
    assert_eq!(param(&location, "error").as_deref(), Some("access_denied"));
}

#[tokio::test]
async fn a_clients_refresh_token_is_refused_to_another_client_to_auth_refresh_and_without_authentication()
 {
    let app = oidc_app().await;
    let rp = register_with(&app, false, true, &["offline_access"]).await;
    let other = register_with(&app, false, true, &["offline_access"]).await;
    let public = register_with(&app, true, true, &["offline_access"]).await;
    let user = app.new_user().await;
    let tokens = offline_tokens(&app, &rp, &user, "openid offline_access").await;
    let refresh = text(&tokens, "refresh_token");

    for (who, response) in [
        (
            "another client",
            refresh_as(&app, Some(&other), refresh, None).await,
        ),
        (
            "a public client",
            refresh_as(&app, Some(&public), refresh, None).await,
        ),
        ("no client", refresh_as(&app, None, refresh, None).await),
    ] {
        assert_eq!(
            error_of(response).await,
            (StatusCode::BAD_REQUEST, "invalid_grant".into()),
            "{who}"
        );
    }
    let first_party = app.refresh(refresh).await;
    assert_eq!(
        error_of(first_party).await,
        (StatusCode::UNAUTHORIZED, "invalid_grant".into()),
        "/auth/refresh keeps its own status"
    );
    let wrong_secret = Rp {
        id: rp.id.clone(),
        secret: Some("not-the-secret".into()),
    };
    let response = refresh_as(&app, Some(&wrong_secret), refresh, None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()[header::WWW_AUTHENTICATE],
        r#"Basic realm="authgate""#
    );

    // None of that was reuse or changed anything: the client still refreshes.
    let response = refresh_as(&app, Some(&rp), refresh, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        userinfo_status(&app, text(&tokens, "access_token")).await,
        StatusCode::OK
    );

    // And a user's own refresh token is not a client's.
    let response = refresh_as(&app, Some(&rp), &user.refresh, None).await;
    assert_eq!(
        error_of(response).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into())
    );
    assert_eq!(app.refresh(&user.refresh).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn deleting_the_client_ends_its_sessions_and_their_tokens() {
    let app = oidc_app().await;
    let rp = register_with(&app, true, true, &["offline_access"]).await;
    let user = app.new_user().await;
    let tokens = offline_tokens(&app, &rp, &user, "openid offline_access").await;
    app.state
        .auth
        .delete_oidc_client(None, &rp.id, &authgate_core::Origin::default())
        .await
        .unwrap();
    app.advance(Duration::from_secs(2));
    assert_eq!(
        userinfo_status(&app, text(&tokens, "access_token")).await,
        StatusCode::UNAUTHORIZED
    );
    let service = app.new_client(&[]).await;
    for token in ["access_token", "refresh_token"] {
        let answer: Value = app
            .post_form(
                "/oauth/introspect",
                &[("token", text(&tokens, token))],
                Some(&service),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(answer, json!({"active": false}), "{token}");
    }
    // The user's own login is untouched.
    assert_eq!(app.refresh(&user.refresh).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_public_client_refreshes_with_its_client_id_alone() {
    let app = oidc_app().await;
    let rp = register_with(&app, true, true, &["profile", "offline_access"]).await;
    let user = app.new_user().await;
    let tokens = offline_tokens(&app, &rp, &user, "openid profile offline_access").await;
    let response = refresh_as(&app, Some(&rp), text(&tokens, "refresh_token"), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let refreshed: Value = response.json().await.unwrap();
    assert!(refreshed["id_token"].is_string());
    assert!(refreshed["refresh_token"].is_string());
}
