//! The authorization request's controls over an existing browser login
//! (`prompt`, `max_age`, `login_hint`), remembered consent that covers only
//! what was allowed, and revocation of a relying party's tokens.

use std::time::Duration;

use super::*;

/// A browser logged in as `user` that has just signed in to `rp` once.
async fn signed_in<'a>(app: &'a TestApp, user: &TestUser, rp: &Rp, scope: &str) -> Browser<'a> {
    let mut browser = Browser::new(app);
    let location = sign_in(&mut browser, user, &authorize(rp, &[("scope", scope)])).await;
    assert!(param(&location, "code").is_some(), "{location}");
    browser
}

#[tokio::test]
async fn prompt_login_and_an_old_login_past_max_age_send_the_user_to_log_in_again() {
    let app = oidc_app().await;
    let rp = register(&app, false, true).await;
    let user = app.new_user().await;
    let mut browser = signed_in(&app, &user, &rp, "openid").await;

    let again = browser.get(&authorize(&rp, &[("prompt", "login")])).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert!(
        again.location().starts_with("/login?"),
        "{}",
        again.location()
    );
    assert_eq!(param(again.location(), "prompt").as_deref(), Some("login"));

    app.advance(Duration::from_secs(120));
    let fresh_enough = browser.get(&authorize(&rp, &[("max_age", "600")])).await;
    assert_eq!(fresh_enough.status, StatusCode::SEE_OTHER);
    assert!(param(fresh_enough.location(), "code").is_some());
    let too_old = browser.get(&authorize(&rp, &[("max_age", "60")])).await;
    assert_eq!(too_old.status, StatusCode::SEE_OTHER);
    assert!(
        too_old.location().starts_with("/login?"),
        "{}",
        too_old.location()
    );
    // With prompt=none the client hears it instead, with state and iss.
    let silent = browser
        .get(&authorize(&rp, &[("max_age", "60"), ("prompt", "none")]))
        .await;
    let location = silent.location();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(param(location, "error").as_deref(), Some("login_required"));
    assert_eq!(param(location, "state").as_deref(), Some("st-123"));
    assert_eq!(
        param(location, "iss").as_deref(),
        Some(app.state.auth.settings().issuer.as_str())
    );
}

#[tokio::test]
async fn login_hint_fills_in_the_login_form() {
    let app = oidc_app().await;
    let rp = register(&app, false, true).await;
    let mut browser = Browser::new(&app);
    let first = browser
        .get(&authorize(
            &rp,
            &[("login_hint", "hinted.person@example.com")],
        ))
        .await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let login = browser.get(first.location()).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(
        login.body.contains(r#"value="hinted.person@example.com""#),
        "{}",
        login.body
    );
}

#[tokio::test]
async fn a_remembered_consent_covers_fewer_scopes_but_not_more_and_prompt_none_then_says_consent_required()
 {
    let app = oidc_app().await;
    let rp = register(&app, false, false).await;
    let user = app.new_user().await;
    let mut browser = signed_in(&app, &user, &rp, "openid email").await;

    let fewer = browser
        .get(&authorize(&rp, &[("scope", "openid"), ("prompt", "none")]))
        .await;
    assert!(
        param(fewer.location(), "code").is_some(),
        "{}",
        fewer.location()
    );
    let more = browser
        .get(&authorize(&rp, &[("scope", "openid email profile")]))
        .await;
    assert_eq!(more.status, StatusCode::OK, "the consent page again");
    assert!(more.body.contains("Team Wiki"));
    let silent = browser
        .get(&authorize(
            &rp,
            &[("scope", "openid email profile"), ("prompt", "none")],
        ))
        .await;
    let location = silent.location();
    assert_eq!(
        param(location, "error").as_deref(),
        Some("consent_required")
    );
    assert_eq!(param(location, "state").as_deref(), Some("st-123"));
    assert!(param(location, "iss").is_some());
}

#[tokio::test]
async fn the_user_revokes_a_relying_partys_tokens_at_the_revocation_endpoint() {
    let app = oidc_app().await;
    let rp = register_with(&app, false, true, &["offline_access"]).await;
    let user = app.new_user().await;
    let mut browser = Browser::new(&app);
    let location = sign_in(
        &mut browser,
        &user,
        &authorize(&rp, &[("scope", "openid offline_access")]),
    )
    .await;
    let code = param(&location, "code").unwrap();
    let tokens: Value = exchange(&app, &rp, &code, VERIFIER)
        .await
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let revoke = |token: String| {
        app.client
            .post(app.url("/oauth/revoke"))
            .bearer_auth(&user.access)
            .form(&[("token", token)])
            .send()
    };
    assert_eq!(
        revoke(access.to_owned()).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get_with_auth("/oauth/userinfo", &format!("Bearer {access}"))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        revoke(refresh.to_owned()).await.unwrap().status(),
        StatusCode::OK
    );
    let refreshed = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(&rp.id, rp.secret.as_deref())
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(refreshed).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into())
    );
}
