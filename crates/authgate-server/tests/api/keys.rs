//! Signing keys: the lifecycle walked with the test clock, JWKS as others
//! read it, instances racing a rotation, restarts and master-key mistakes.

use std::time::Duration;

use authgate_jwt::{Claims, JwkSet};
use authgate_proto::KeyState;
use authgate_server::Application;
use authgate_testkit::{TestApp, spawn_app, spawn_app_with};
use reqwest::StatusCode;

const DAY: Duration = Duration::from_secs(86_400);
const MINUTE: Duration = Duration::from_secs(60);

async fn published_kids(app: &TestApp) -> Vec<String> {
    let response = app.get("/.well-known/jwks.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let jwks: JwkSet = response.json().await.unwrap();
    assert!(
        jwks.keys
            .iter()
            .all(|k| k.use_.as_deref() == Some("sig") && k.alg.is_some())
    );
    jwks.keys.into_iter().map(|k| k.kid.unwrap()).collect()
}

fn states(app: &TestApp) -> Vec<(String, KeyState)> {
    app.state.keys.ring().version.clone()
}

fn kid_of(token: &str) -> String {
    authgate_jwt::decode_unverified::<Claims>(token)
        .unwrap()
        .header
        .kid
        .unwrap()
}

async fn me_status(app: &TestApp, access: &str) -> StatusCode {
    app.me(access).await.status()
}

#[tokio::test]
async fn a_key_walks_every_state_and_tokens_verify_exactly_while_it_does() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let k1 = match &states(&app)[..] {
        [(kid, KeyState::Active)] => kid.clone(),
        other => panic!("one active key at start, got {other:?}"),
    };
    assert_eq!(published_kids(&app).await, vec![k1.clone()]);

    // Nothing happens until one publication lead before the rotation.
    app.advance(14 * DAY - MINUTE);
    app.state.sync_keys().await;
    assert_eq!(states(&app).len(), 1);

    // One lead (1 day) before it, the next key is created and published, not signing yet.
    app.advance(MINUTE);
    app.state.sync_keys().await;
    let k2 = match &states(&app)[..] {
        [(a, KeyState::Active), (n, KeyState::Next)] if *a == k1 => n.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(published_kids(&app).await, [k1.clone(), k2.clone()]);
    let before = app.login_ok(&user.email, &user.password).await.access_token;
    assert_eq!(kid_of(&before), k1);

    // At the rotation k2 signs, k1 retires and keeps verifying what it signed.
    app.advance(DAY - MINUTE);
    let late_k1 = app.login_ok(&user.email, &user.password).await.access_token;
    app.advance(MINUTE);
    app.state.sync_keys().await;
    assert_eq!(
        states(&app),
        [
            (k1.clone(), KeyState::Retired),
            (k2.clone(), KeyState::Active)
        ]
    );
    let after = app.login_ok(&user.email, &user.password).await.access_token;
    assert_eq!(kid_of(&after), k2);
    assert_eq!(me_status(&app, &after).await, StatusCode::OK);
    assert_eq!(me_status(&app, &late_k1).await, StatusCode::OK);
    assert_eq!(published_kids(&app).await, [k1.clone(), k2.clone()]);

    // access_ttl + leeway after retiring, k1 expires and leaves JWKS.
    app.advance(16 * MINUTE);
    app.state.sync_keys().await;
    assert_eq!(states(&app)[0], (k1.clone(), KeyState::Expired));
    assert_eq!(published_kids(&app).await, vec![k2.clone()]);

    // A token k1 signs now (valid times, right claims) fails as an unknown key:
    // the key itself is gone, not just its tokens' lifetimes.
    let fresh_claims = {
        let mut claims = authgate_jwt::decode_unverified::<serde_json::Value>(&late_k1)
            .unwrap()
            .claims;
        let now = app.now().unix_timestamp();
        claims["iat"] = now.into();
        claims["nbf"] = now.into();
        claims["exp"] = (now + 600).into();
        claims
    };
    let retired = retired_signing_key(&app, &k1).await;
    let forged = authgate_jwt::sign(&retired, Some("at+jwt"), &fresh_claims).unwrap();
    let err = app
        .state
        .verifier
        .verify_token(&forged, app.now().unix_timestamp())
        .unwrap_err();
    assert_eq!(err.reason(), "unknown_kid");
    let fresh = app.login_ok(&user.email, &user.password).await.access_token;
    assert_eq!(
        (kid_of(&fresh), me_status(&app, &fresh).await),
        (k2, StatusCode::OK)
    );
}

/// Opens a stored private key with the master key, as only a test may:
/// the server never exposes key material.
async fn retired_signing_key(app: &TestApp, kid: &str) -> authgate_jwt::SigningKey {
    let stored = authgate_core::KeyStore::keys(&*open_store(app).await)
        .await
        .unwrap();
    let record = stored.into_iter().find(|k| k.kid == kid).unwrap();
    let (master, _) = authgate_server::master_key::load(&app.settings).unwrap();
    let der = master
        .open(
            authgate_core::Purpose::SigningKey,
            &record.private_sealed,
            kid.as_bytes(),
        )
        .unwrap();
    authgate_jwt::SigningKey::from_pkcs8_der(authgate_jwt::Algorithm::EdDSA, &der)
        .unwrap()
        .with_kid(kid)
}

async fn open_store(app: &TestApp) -> std::sync::Arc<dyn authgate_store::Store> {
    authgate_server::open_store(&app.settings).await.unwrap().0
}

#[tokio::test]
async fn tokens_verify_in_jsonwebtoken_with_nothing_but_the_published_jwks() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let jwks: jsonwebtoken::jwk::JwkSet = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(&user.access).unwrap();
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("the token's kid is published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_issuer(&[app.state.auth.settings().issuer.as_str()]);
    validation.set_audience(&["authgate"]);
    // The test clock is the real time at start, so the library's own clock agrees.
    let data = jsonwebtoken::decode::<serde_json::Value>(&user.access, &key, &validation).unwrap();
    assert_eq!(data.claims["sub"], user.user.id.to_string());
    assert_eq!(data.header.typ.as_deref(), Some("at+jwt"));
}

#[tokio::test]
async fn jwks_is_cacheable_with_an_etag_and_answers_304_when_unchanged() {
    let app = spawn_app().await;
    let first = app.get("/.well-known/jwks.json").await;
    let cache = first.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(cache, "public, max-age=300");
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .request(reqwest::Method::GET, "/.well-known/jwks.json")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);

    // A rotation changes the document, so the old tag no longer matches.
    app.state.keys.rotate_now().await.unwrap();
    let changed = app
        .request(reqwest::Method::GET, "/.well-known/jwks.json")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
}

#[tokio::test]
async fn discovery_names_the_endpoints_and_algorithms() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    let base = app.settings.server.public_url.trim_end_matches('/');
    assert_eq!(doc["issuer"], app.state.auth.settings().issuer);
    assert_eq!(doc["jwks_uri"], format!("{base}/.well-known/jwks.json"));
    assert_eq!(doc["token_endpoint"], format!("{base}/oauth/token"));
    assert_eq!(
        doc["introspection_endpoint"],
        format!("{base}/oauth/introspect")
    );
    assert_eq!(doc["revocation_endpoint"], format!("{base}/oauth/revoke"));
    assert_eq!(
        doc["token_signing_alg_values_supported"],
        serde_json::json!(["EdDSA"])
    );
    assert_eq!(
        doc["grant_types_supported"],
        serde_json::json!(["client_credentials", "refresh_token"])
    );
}

#[tokio::test]
async fn two_instances_racing_a_transition_make_exactly_one_key() {
    let a = spawn_app().await;
    let dir = a.data_dir.clone();
    let b = spawn_app_with(|s| s.storage.data_dir = dir).await;
    assert_eq!(
        states(&a),
        states(&b),
        "the second start created no key of its own"
    );

    // Both reach the publication lead of the next rotation at once.
    a.advance(14 * DAY + MINUTE);
    b.advance(14 * DAY + MINUTE);
    tokio::join!(a.state.sync_keys(), b.state.sync_keys());
    tokio::join!(a.state.sync_keys(), b.state.sync_keys());
    assert_eq!(states(&a).len(), 2, "{:?}", states(&a));
    assert_eq!(states(&a), states(&b));

    // And the rotation itself, due on both (their test clocks started a few
    // ms apart, hence the extra minute); then each polls once more, as the
    // server does, to pick up what the other committed.
    a.advance(DAY + MINUTE);
    b.advance(DAY + MINUTE);
    tokio::join!(a.state.sync_keys(), b.state.sync_keys());
    tokio::join!(a.state.sync_keys(), b.state.sync_keys());
    let after: Vec<KeyState> = states(&a).into_iter().map(|(_, s)| s).collect();
    assert_eq!(after, [KeyState::Retired, KeyState::Active]);
    assert_eq!(states(&a), states(&b));

    // Each serves the other's tokens, signed by the one active key.
    let user = a.new_user().await;
    assert_eq!(me_status(&b, &user.access).await, StatusCode::OK);
}

#[tokio::test]
async fn a_rotation_on_one_instance_is_served_by_the_others_jwks() {
    let a = spawn_app().await;
    let dir = a.data_dir.clone();
    let b = spawn_app_with(|s| s.storage.data_dir = dir).await;
    a.state.rotate_keys().await.unwrap();
    b.state.sync_keys().await;
    assert_eq!(published_kids(&a).await, published_kids(&b).await);
    let user = a.new_user().await;
    assert_eq!(me_status(&b, &user.access).await, StatusCode::OK);
}

#[tokio::test]
async fn a_restart_keeps_the_keyring() {
    let mut app = spawn_app().await;
    app.state.keys.rotate_now().await.unwrap();
    let before = states(&app);
    app.restart().await;
    assert_eq!(states(&app), before);
}

#[tokio::test]
async fn a_wrong_master_key_stops_the_start_with_a_clear_error() {
    let app = spawn_app().await;
    let mut settings = app.settings.clone();
    let (_, other) = authgate_core::MasterKey::generate().unwrap();
    settings.storage.master_key = other.to_string().into();
    let err = Application::build(&settings, app.clock.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("master key"), "{err}");
    assert!(err.contains("does not decrypt"), "{err}");
}

#[tokio::test]
async fn a_corrupted_master_key_file_stops_the_start_with_a_clear_error() {
    let app = spawn_app().await;
    let file = app.data_dir.join("master.key");
    std::fs::write(&file, "not base64 at all!\n").unwrap();
    let err = Application::build(&app.settings, app.clock.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("master.key") && err.contains("base64"),
        "{err}"
    );
}

#[tokio::test]
async fn hmac_keys_rotate_but_are_never_published() {
    let app = spawn_app_with(|s| s.tokens.algorithm = "HS256".into()).await;
    let user = app.new_user().await;
    assert!(published_kids(&app).await.is_empty());
    let first = kid_of(&user.access);
    assert!(first.starts_with("hs-"), "{first}");
    app.state.rotate_keys().await.unwrap();
    let again = app.login_ok(&user.email, &user.password).await.access_token;
    assert_ne!(kid_of(&again), first);
    assert_eq!(
        me_status(&app, &user.access).await,
        StatusCode::OK,
        "the retired secret still verifies"
    );
    assert!(published_kids(&app).await.is_empty());
}

#[tokio::test]
async fn a_new_algorithm_takes_effect_at_the_next_rotation_without_breaking_live_tokens() {
    let mut app = spawn_app().await;
    let user = app.new_user().await;
    app.restart_with(|s| s.tokens.algorithm = "ES256".into())
        .await;
    let still = app.login_ok(&user.email, &user.password).await.access_token;
    assert_eq!(
        authgate_jwt::decode_unverified::<Claims>(&still)
            .unwrap()
            .header
            .alg,
        "EdDSA"
    );
    app.state.rotate_keys().await.unwrap();
    let now_es = app.login_ok(&user.email, &user.password).await.access_token;
    assert_eq!(
        authgate_jwt::decode_unverified::<Claims>(&now_es)
            .unwrap()
            .header
            .alg,
        "ES256"
    );
    let check = |t: &str| {
        app.state
            .verifier
            .verify_token(t, app.now().unix_timestamp())
            .map(|_| ())
            .map_err(|e| e.reason())
    };
    assert_eq!(check(&user.access), Ok(()));
    assert_eq!(check(&now_es), Ok(()));
    assert_eq!(me_status(&app, &user.access).await, StatusCode::OK);
    assert_eq!(me_status(&app, &now_es).await, StatusCode::OK);
}

/// Another instance on `app`'s database and clock that serves requests
/// but runs no upkeep (no polling, no Redis): it learns of a key change only
/// through what a request makes it do. Returns how to ask it `GET /me`.
async fn instance_without_upkeep(
    app: &TestApp,
) -> impl Fn(&str) -> std::pin::Pin<Box<dyn std::future::Future<Output = StatusCode> + '_>> {
    let built = Application::build(&app.settings, app.clock.clone())
        .await
        .unwrap();
    let router = authgate_server::router(built.state().clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    move |access: &str| {
        let request = client.get(format!("{base}/me")).bearer_auth(access);
        Box::pin(async move { request.send().await.unwrap().status() })
    }
}

#[tokio::test]
async fn another_instance_accepts_the_key_of_a_forced_rotation_at_once_reloading_at_most_once_a_second()
 {
    let first = spawn_app().await;
    let me_on_second = instance_without_upkeep(&first).await;

    // No next key waits, so the new key signs at once.
    first.state.rotate_keys().await.unwrap();
    let alice = first.new_user().await;
    assert_eq!(
        me_on_second(&alice.access).await,
        StatusCode::OK,
        "the unknown kid made the second instance reload its keys"
    );

    // Within the same second (the clock stands still) a key it does not
    // hold (created by the second rotation, signing from the third) does
    // not reload again...
    first.state.rotate_keys().await.unwrap();
    first.state.rotate_keys().await.unwrap();
    let bob = first.new_user().await;
    assert_eq!(me_on_second(&bob.access).await, StatusCode::UNAUTHORIZED);
    // ...and one second later it does.
    first.advance(std::time::Duration::from_secs(1));
    assert_eq!(me_on_second(&bob.access).await, StatusCode::OK);
}
