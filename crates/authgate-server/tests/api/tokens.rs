//! Access tokens: what the Bearer endpoints refuse (forged, `alg: none`,
//! algorithm confusion, expired, misdirected) and the audiences of config.

use std::time::Duration;

use authgate_jwt::{Algorithm, SigningKey, decode_unverified, sign};
use authgate_proto::{AccessClaims, LoginResponse, MeResponse};
use authgate_testkit::reqwest::StatusCode;
use authgate_testkit::{
    PASSWORD, TestApp, TestUser, assert_error, assert_invalid_token, expect_json, spawn_app,
    spawn_app_with,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The claims of a real token, to forge variants of.
fn claims_of(user: &TestUser) -> Value {
    decode_unverified::<Value>(&user.access).unwrap().claims
}

/// Signs `claims` with the server's own signing key, as the server would.
fn sign_as_server(app: &TestApp, typ: Option<&str>, claims: &Value) -> String {
    sign(&app.state.keys.ring().signing, typ, claims).unwrap()
}

/// The `kid` of the server's signing key.
fn server_kid(app: &TestApp) -> String {
    let ring = app.state.keys.ring();
    ring.signing.kid().unwrap().to_owned()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Every Bearer endpoint refuses `token` with 401 `invalid_token`.
async fn assert_refused(app: &TestApp, token: &str) {
    assert_invalid_token(app.me(token).await).await;
    assert_invalid_token(app.sessions(token).await).await;
    assert_invalid_token(app.logout(token, None).await).await;
}

#[tokio::test]
async fn a_token_re_signed_with_the_servers_own_key_is_accepted() {
    // The control for the forgeries below: the harness signs what the server would.
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let token = sign_as_server(&app, Some("at+jwt"), &claims_of(&alice));
    expect_json::<MeResponse>(app.me(&token).await, StatusCode::OK).await;
}

#[tokio::test]
async fn a_token_signed_by_an_unknown_key_is_refused() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let stranger = || SigningKey::generate(Algorithm::EdDSA).unwrap();
    // With the stranger's own kid, and posing as the server's key.
    for key in [stranger(), stranger().with_kid(server_kid(&app))] {
        let token = sign(&key, Some("at+jwt"), &claims_of(&alice)).unwrap();
        assert_refused(&app, &token).await;
    }
    let es256 = SigningKey::generate(Algorithm::ES256)
        .unwrap()
        .with_kid(server_kid(&app));
    let token = sign(&es256, Some("at+jwt"), &claims_of(&alice)).unwrap();
    assert_refused(&app, &token).await;
}

#[tokio::test]
async fn an_unsigned_token_with_alg_none_is_refused() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let payload = URL_SAFE_NO_PAD.encode(claims_of(&alice).to_string());
    let real_signature = alice.access.rsplit('.').next().unwrap();
    for alg in ["none", "None", "NONE"] {
        let header = URL_SAFE_NO_PAD
            .encode(json!({"alg": alg, "typ": "at+jwt", "kid": server_kid(&app)}).to_string());
        assert_refused(&app, &format!("{header}.{payload}.")).await;
        assert_refused(&app, &format!("{header}.{payload}.{real_signature}")).await;
    }
}

#[tokio::test]
async fn an_hs256_token_keyed_with_the_servers_public_key_is_refused() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let kid = server_kid(&app);
    let ring = app.state.keys.ring();
    let public = ring.signing.verifying_key();
    let jwks = ring.verifying.to_jwks();
    let jwk = jwks
        .keys
        .iter()
        .find(|k| k.kid.as_deref() == Some(kid.as_str()))
        .unwrap();
    let raw = URL_SAFE_NO_PAD.decode(jwk.x.as_deref().unwrap()).unwrap();
    let der = public.to_public_key_der().unwrap();
    let pem = public.to_public_key_pem().unwrap();
    let jwk_json = serde_json::to_vec(jwk).unwrap();
    for secret in [raw, der, pem.into_bytes(), jwk_json] {
        let key = SigningKey::from_secret(Algorithm::HS256, &secret)
            .unwrap()
            .with_kid(kid.clone());
        let token = sign(&key, Some("at+jwt"), &claims_of(&alice)).unwrap();
        assert_refused(&app, &token).await;
    }
}

#[tokio::test]
async fn an_access_token_works_until_the_leeway_past_exp_and_not_after() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    // 15 minutes of life, 60 s of leeway.
    app.advance(Duration::from_secs(15 * 60 + 59));
    expect_json::<Value>(app.sessions(&alice.access).await, StatusCode::OK).await;
    app.advance(Duration::from_secs(1));
    assert_refused(&app, &alice.access).await;
}

#[tokio::test]
async fn a_token_that_is_not_yet_valid_is_refused() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let mut claims = claims_of(&alice);
    let later = claims["iat"].as_i64().unwrap() + 120;
    claims["nbf"] = json!(later);
    claims["iat"] = json!(later);
    claims["exp"] = json!(later + 900);
    let token = sign_as_server(&app, Some("at+jwt"), &claims);
    assert_refused(&app, &token).await;
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    for aud in [json!("other"), json!(["other", "elsewhere"]), json!([])] {
        let mut claims = claims_of(&alice);
        claims["aud"] = aud;
        let token = sign_as_server(&app, Some("at+jwt"), &claims);
        assert_refused(&app, &token).await;
    }
}

#[tokio::test]
async fn a_token_from_another_issuer_is_refused() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    for iss in ["https://evil.example", "http://127.0.0.1:8080/", ""] {
        let mut claims = claims_of(&alice);
        claims["iss"] = json!(iss);
        let token = sign_as_server(&app, Some("at+jwt"), &claims);
        assert_refused(&app, &token).await;
    }
}

#[tokio::test]
async fn a_token_without_the_access_token_type_is_refused() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    for typ in [Some("JWT"), Some("jwt"), Some("application/at+jwt+x"), None] {
        let token = sign_as_server(&app, typ, &claims_of(&alice));
        assert_refused(&app, &token).await;
    }
}

#[tokio::test]
async fn a_token_whose_signature_was_tampered_with_is_refused() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    // Promote oneself to admin, keep the server's signature.
    let mut claims = claims_of(&alice);
    claims["roles"] = json!(["admin"]);
    let mut parts: Vec<String> = alice.access.split('.').map(str::to_owned).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    assert_refused(&app, &parts.join(".")).await;
    assert_invalid_token(app.get_with_auth("/me", &bearer(&parts.join("."))).await).await;
}

#[tokio::test]
async fn a_login_for_a_configured_audience_gets_a_token_for_it_that_refresh_keeps() {
    let app = spawn_app_with(|s| {
        s.tokens
            .audiences
            .insert("api".into(), "https://api.example.com".into());
    })
    .await;
    let alice = app.new_user().await;
    let body = json!({"email": alice.email, "password": PASSWORD, "audience": "api"});
    let login: LoginResponse =
        expect_json(app.post_json("/auth/login", &body).await, StatusCode::OK).await;
    let claims = decode_unverified::<AccessClaims>(&login.access_token)
        .unwrap()
        .claims;
    assert_eq!(claims.aud.as_slice(), ["https://api.example.com"]);
    // authgate's own endpoints accept every configured audience.
    expect_json::<MeResponse>(app.me(&login.access_token).await, StatusCode::OK).await;

    let refreshed = app.refresh_ok(&login.refresh_token).await;
    let claims = decode_unverified::<AccessClaims>(&refreshed.access_token)
        .unwrap()
        .claims;
    assert_eq!(claims.aud.as_slice(), ["https://api.example.com"]);
    expect_json::<MeResponse>(app.me(&refreshed.access_token).await, StatusCode::OK).await;

    // Without `audience`, the default one.
    let claims = decode_unverified::<AccessClaims>(&alice.access)
        .unwrap()
        .claims;
    assert_eq!(claims.aud.as_slice(), ["authgate"]);
}

#[tokio::test]
async fn a_login_for_an_unknown_audience_is_invalid_request_naming_audience() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let body = json!({"email": alice.email, "password": PASSWORD, "audience": "nope"});
    let error = assert_error(
        app.post_json("/auth/login", &body).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    assert!(
        error.description.starts_with("audience"),
        "{}",
        error.description
    );
}

#[tokio::test]
async fn a_token_revoked_by_an_instance_whose_clock_is_behind_is_refused_too() {
    // A 1 s grace makes the server poll the store for revocations every second.
    let app = spawn_app_with(|s| {
        s.tokens.refresh_reuse_grace =
            authgate_server::config::HumanDuration(Duration::from_secs(1));
    })
    .await;
    let alice = app.new_user().await;
    assert_eq!(app.me(&alice.access).await.status(), StatusCode::OK);
    let claims = claims_of(&alice);
    let jti = claims["jti"].as_str().unwrap();
    let exp = time::OffsetDateTime::from_unix_timestamp(claims["exp"].as_i64().unwrap()).unwrap();
    // Another instance sharing the store, its clock an hour behind this
    // one's, revokes the token: its row says it was revoked an hour ago.
    let behind = app.now() - time::Duration::hours(1);
    app.store()
        .await
        .revoke_token(jti, exp, behind)
        .await
        .unwrap();
    // The poll runs on real time (it is the store's news, not the clock's):
    // a few periods at most.
    let mut refused = false;
    for _ in 0..100 {
        if app.me(&alice.access).await.status() == StatusCode::UNAUTHORIZED {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(refused, "the revocation was never picked up");
}
