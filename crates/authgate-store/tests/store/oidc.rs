//! `OidcStore`: relying parties, single-use codes and consents, and the
//! lane of signing keys (migration 0005); the sessions bound to a client
//! and the purge of codes (migration 0009).

use std::sync::Arc;

use authgate_core::oidc::client::OidcClient;
use authgate_core::oidc::code::{AuthorizationCode, CodeUse};
use authgate_core::oidc::store::OidcStore;
use authgate_core::{ClientGrant, KeyStore, SessionStore, StoreError, TokenHash, UserStore};
use authgate_proto::KeyLane;
use uuid::Uuid;

use crate::fixtures::{at, key, session, user};
use crate::sessions::create;

fn client(id: &str, public: bool) -> OidcClient {
    OidcClient {
        id: id.into(),
        name: format!("rp {id}"),
        secret_hash: (!public).then(|| TokenHash::of("secret")),
        redirect_uris: vec!["https://rp.example/cb".into(), "http://127.0.0.1/cb".into()],
        post_logout_redirect_uris: vec!["https://rp.example/bye".into()],
        scopes: vec!["openid".into(), "email".into()],
        first_party: public,
        created_at: at(10),
    }
}

fn code(client_id: &str, user_id: Uuid, secret: &str) -> AuthorizationCode {
    AuthorizationCode {
        hash: TokenHash::of(secret),
        client_id: client_id.into(),
        redirect_uri: "https://rp.example/cb".into(),
        user_id,
        browser_session_id: Uuid::now_v7(),
        scopes: vec!["openid".into(), "email".into()],
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        nonce: Some("n".into()),
        auth_time: at(5),
        created_at: at(20),
        expires_at: at(80),
        used_at: None,
        issued_session_id: None,
    }
}

pub(crate) async fn relying_parties_read_back_list_oldest_first_and_delete(store: &dyn OidcStore) {
    assert_eq!(store.oidc_client("a").await.unwrap(), None);
    store
        .insert_oidc_client_audited(&client("a", false), None)
        .await
        .unwrap();
    let mut b = client("b", true);
    b.created_at = at(20);
    store.insert_oidc_client_audited(&b, None).await.unwrap();
    assert_eq!(
        store.oidc_client("a").await.unwrap(),
        Some(client("a", false))
    );
    assert_eq!(store.oidc_client("b").await.unwrap(), Some(b.clone()));
    let listed = store.oidc_clients().await.unwrap();
    assert_eq!(
        listed.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    let err = store
        .insert_oidc_client_audited(&client("a", true), None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("client_id")), "{err:?}");
    assert!(store.delete_oidc_client_audited("a", None).await.unwrap());
    assert!(!store.delete_oidc_client_audited("a", None).await.unwrap());
    assert_eq!(store.oidc_client("a").await.unwrap(), None);
}

pub(crate) async fn a_code_is_used_once_then_reported_again_with_its_session(
    store: &dyn OidcStore,
    users: &dyn UserStore,
) {
    let u = user("code@example.com", None);
    users.insert_user(&u).await.unwrap();
    store
        .insert_oidc_client_audited(&client("rp", false), None)
        .await
        .unwrap();
    let issued = code("rp", u.id, "the-code");
    store.insert_code(&issued).await.unwrap();
    let session = Uuid::now_v7();
    let CodeUse::First(first) = store.use_code(&issued.hash, session, at(30)).await.unwrap() else {
        panic!("the first use");
    };
    assert_eq!(first.used_at, Some(at(30)));
    assert_eq!(first.nonce.as_deref(), Some("n"));
    assert_eq!(first.scopes, issued.scopes);
    let CodeUse::Again(again) = store
        .use_code(&issued.hash, Uuid::now_v7(), at(31))
        .await
        .unwrap()
    else {
        panic!("reuse");
    };
    assert_eq!(
        again.issued_session_id,
        Some(session),
        "the first exchange's session"
    );
    assert_eq!(again.used_at, Some(at(30)));
    assert_eq!(
        store
            .use_code(&TokenHash::of("unknown"), session, at(32))
            .await
            .unwrap(),
        CodeUse::Unknown
    );
}

pub(crate) async fn racing_uses_of_one_code_have_exactly_one_first(
    store: Arc<dyn OidcStore>,
    users: &dyn UserStore,
) {
    let u = user("race@example.com", None);
    users.insert_user(&u).await.unwrap();
    store
        .insert_oidc_client_audited(&client("rp", false), None)
        .await
        .unwrap();
    let issued = code("rp", u.id, "raced");
    store.insert_code(&issued).await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.use_code(&issued.hash, Uuid::now_v7(), at(30)).await })
        })
        .collect();
    let mut firsts = 0;
    for task in tasks {
        if matches!(task.await.unwrap().unwrap(), CodeUse::First(_)) {
            firsts += 1;
        }
    }
    assert_eq!(firsts, 1);
}

pub(crate) async fn a_consent_is_replaced_and_goes_with_its_client(
    store: &dyn OidcStore,
    users: &dyn UserStore,
) {
    let u = user("consent@example.com", None);
    users.insert_user(&u).await.unwrap();
    store
        .insert_oidc_client_audited(&client("rp", false), None)
        .await
        .unwrap();
    assert_eq!(store.consent(u.id, "rp").await.unwrap(), None);
    let one = vec!["openid".to_owned()];
    store
        .save_consent(u.id, "rp", &one, at(1), None)
        .await
        .unwrap();
    let two = vec!["openid".to_owned(), "email".to_owned()];
    store
        .save_consent(u.id, "rp", &two, at(2), None)
        .await
        .unwrap();
    assert_eq!(store.consent(u.id, "rp").await.unwrap(), Some(two));
    store.delete_oidc_client_audited("rp", None).await.unwrap();
    assert_eq!(store.consent(u.id, "rp").await.unwrap(), None);
}

pub(crate) async fn a_keys_lane_reads_back(store: &dyn KeyStore) {
    let mut id_key = key("rsa-1", at(1));
    id_key.lane = KeyLane::IdToken;
    id_key.alg = "RS256".into();
    store.insert_key(&key("ed-1", at(0))).await.unwrap();
    store.insert_key(&id_key).await.unwrap();
    let lanes: Vec<_> = store
        .keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.kid, k.lane))
        .collect();
    assert_eq!(
        lanes,
        [
            ("ed-1".to_owned(), KeyLane::Access),
            ("rsa-1".to_owned(), KeyLane::IdToken)
        ]
    );
}

pub(crate) async fn a_clients_session_reads_back_its_grant_and_ends_by_logout_or_deletion(
    store: &dyn OidcStore,
    users: &dyn UserStore,
    sessions: &dyn SessionStore,
) {
    let u = user("grant@example.com", None);
    users.insert_user(&u).await.unwrap();
    store
        .insert_oidc_client_audited(&client("rp", false), None)
        .await
        .unwrap();
    let browser = Uuid::now_v7();
    let bound = |browser_session_id: Uuid| {
        let mut s = session(u.id, at(0), 3600);
        s.client = Some(ClientGrant {
            client_id: "rp".into(),
            scopes: vec!["openid".into(), "offline_access".into()],
            browser_session_id,
            auth_time: at(-30),
        });
        s
    };
    let here = create(sessions, &bound(browser), "here").await;
    let elsewhere = create(sessions, &bound(Uuid::now_v7()), "elsewhere").await;
    let own = create(sessions, &session(u.id, at(0), 3600), "own").await;
    assert_eq!(sessions.session(here.id).await.unwrap(), Some(here.clone()));
    assert_eq!(
        sessions.session(own.id).await.unwrap().unwrap().client,
        None
    );

    // Logout: only the client's sessions of that browser session.
    let ended = store
        .revoke_client_sessions_audited(u.id, "rp", browser, at(10), None)
        .await
        .unwrap();
    assert_eq!(ended, vec![here.id]);
    assert_eq!(
        sessions.session(here.id).await.unwrap().unwrap().revoked_at,
        Some(at(10))
    );
    assert!(
        store
            .revoke_client_sessions_audited(u.id, "rp", browser, at(11), None)
            .await
            .unwrap()
            .is_empty(),
        "already ended"
    );
    assert_eq!(
        sessions
            .session(elsewhere.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        None
    );

    // Deleting the client deletes its sessions, not the user's own.
    store.delete_oidc_client_audited("rp", None).await.unwrap();
    assert_eq!(sessions.session(elsewhere.id).await.unwrap(), None);
    assert!(sessions.session(own.id).await.unwrap().is_some());
}

pub(crate) async fn codes_are_purged_once_expired_before_the_instant(
    store: &dyn OidcStore,
    users: &dyn UserStore,
) {
    let u = user("purge@example.com", None);
    users.insert_user(&u).await.unwrap();
    store
        .insert_oidc_client_audited(&client("rp", false), None)
        .await
        .unwrap();
    let spent = code("rp", u.id, "spent");
    let unused = code("rp", u.id, "unused");
    let mut later = code("rp", u.id, "later");
    later.expires_at = at(200);
    for c in [&spent, &unused, &later] {
        store.insert_code(c).await.unwrap();
    }
    store
        .use_code(&spent.hash, Uuid::now_v7(), at(30))
        .await
        .unwrap();
    assert_eq!(store.purge_codes(at(80), 100).await.unwrap(), 0, "not yet");
    assert_eq!(store.purge_codes(at(81), 1).await.unwrap(), 1, "in batches");
    assert_eq!(store.purge_codes(at(81), 100).await.unwrap(), 1);
    for gone in [&spent, &unused] {
        assert_eq!(
            store
                .use_code(&gone.hash, Uuid::now_v7(), at(90))
                .await
                .unwrap(),
            CodeUse::Unknown
        );
    }
    assert!(matches!(
        store
            .use_code(&later.hash, Uuid::now_v7(), at(90))
            .await
            .unwrap(),
        CodeUse::First(_)
    ));
}
