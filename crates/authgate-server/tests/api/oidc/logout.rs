//! RP-initiated logout with `[oidc] logout_ends_client_sessions`: the
//! client's sessions of the ended browser login end too, and nothing else.

use super::*;

/// A first-party client's tokens for the visitor of `browser` (logged in
/// already, so no login form and no consent).
async fn tokens_in(app: &TestApp, browser: &mut Browser<'_>, rp: &Rp) -> Value {
    let answer = browser
        .get(&authorize(rp, &[("scope", "openid offline_access")]))
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let code = param(answer.location(), "code").expect("a code");
    exchange(app, rp, &code, VERIFIER)
        .await
        .json()
        .await
        .unwrap()
}

/// Whether `rp` can still refresh with `tokens`' refresh token.
async fn refreshes(app: &TestApp, rp: &Rp, tokens: &Value) -> bool {
    app.client
        .post(app.url("/oauth/token"))
        .basic_auth(&rp.id, rp.secret.as_deref())
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .status()
        == StatusCode::OK
}

fn logout_path(tokens: &Value) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("id_token_hint", tokens["id_token"].as_str().unwrap())
        .append_pair("post_logout_redirect_uri", "https://rp.example/bye")
        .finish();
    format!("/oauth/logout?{query}")
}

/// Signs `user` in on a new browser, then gets `rp`'s tokens there.
async fn signed_in<'a>(app: &'a TestApp, user: &TestUser, rp: &Rp) -> (Browser<'a>, Value) {
    let mut browser = Browser::new(app);
    let location = sign_in(
        &mut browser,
        user,
        &authorize(rp, &[("scope", "openid offline_access")]),
    )
    .await;
    let code = param(&location, "code").unwrap();
    let tokens = exchange(app, rp, &code, VERIFIER)
        .await
        .json()
        .await
        .unwrap();
    (browser, tokens)
}

#[tokio::test]
async fn when_configured_logout_ends_the_clients_sessions_of_that_browser_login_only() {
    let app = spawn_app_with(|s| {
        s.oidc.enabled = true;
        s.oidc.logout_ends_client_sessions = true;
    })
    .await;
    let rp = register_with(&app, false, true, &["offline_access"]).await;
    let other = register_with(&app, false, true, &["offline_access"]).await;
    let user = app.new_user().await;
    let (mut browser, here) = signed_in(&app, &user, &rp).await;
    let other_here = tokens_in(&app, &mut browser, &other).await;
    let (_phone, elsewhere) = signed_in(&app, &user, &rp).await;

    let done = browser.get(&logout_path(&here)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "https://rp.example/bye");

    assert!(
        !refreshes(&app, &rp, &here).await,
        "the client's session ended"
    );
    assert_eq!(
        app.get_with_auth(
            "/oauth/userinfo",
            &format!("Bearer {}", here["access_token"].as_str().unwrap())
        )
        .await
        .status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(
        refreshes(&app, &other, &other_here).await,
        "another client's is kept"
    );
    assert!(
        refreshes(&app, &rp, &elsewhere).await,
        "the client's session of another login is kept"
    );
    let kinds: Vec<String> = app
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
        .map(|e| e.kind.as_str().to_owned())
        .collect();
    assert!(
        kinds.iter().any(|k| k == "oidc.client_sessions_ended"),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn by_default_logout_ends_the_browser_session_and_leaves_the_clients_tokens() {
    let app = oidc_app().await;
    let rp = register_with(&app, false, true, &["offline_access"]).await;
    let user = app.new_user().await;
    let (mut browser, tokens) = signed_in(&app, &user, &rp).await;
    let done = browser.get(&logout_path(&tokens)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        browser.get("/account").await.status,
        StatusCode::SEE_OTHER,
        "logged out of the browser"
    );
    assert!(refreshes(&app, &rp, &tokens).await);
}
