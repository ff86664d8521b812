//! What happens to authorization codes after their exchange: a second use
//! revokes everything the first gave (the refresh token of
//! `offline_access` included), and the upkeep purges spent and expired
//! codes once nothing can depend on them.

use std::time::Duration;

use authgate_core::TokenHash;
use authgate_core::oidc::code::CodeUse;

use super::*;

#[tokio::test]
async fn a_reused_code_revokes_the_refresh_token_and_access_token_its_first_exchange_gave() {
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
    let first: Value = exchange(&app, &rp, &code, VERIFIER)
        .await
        .json()
        .await
        .unwrap();
    let access = first["access_token"].as_str().unwrap();
    let refresh = first["refresh_token"].as_str().unwrap();

    let again = exchange(&app, &rp, &code, VERIFIER).await;
    assert_eq!(
        error_of(again).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into())
    );
    assert_eq!(
        app.get_with_auth("/oauth/userinfo", &format!("Bearer {access}"))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
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
    // Introspection agrees: both are dead.
    let service = app.new_client(&[]).await;
    for token in [access, refresh] {
        let answer: Value = app
            .post_form("/oauth/introspect", &[("token", token)], Some(&service))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(answer, json!({"active": false}));
    }
    // The audit trail records the reuse.
    let reused = app
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
        .find(|e| e.kind.as_str() == "oidc.code_reused")
        .expect("an oidc.code_reused event");
    assert_eq!(reused.client_id.as_deref(), Some(rp.id.as_str()));
}

#[tokio::test]
async fn spent_and_expired_codes_are_purged_by_the_upkeep_a_day_after_they_expire() {
    let app = oidc_app().await;
    let rp = register(&app, false, true).await;
    let user = app.new_user().await;
    let spent = code_of(&app, &rp, &user).await;
    assert_eq!(
        exchange(&app, &rp, &spent, VERIFIER).await.status(),
        StatusCode::OK
    );
    let unused = code_of(&app, &rp, &user).await;
    let store = app.store().await;

    // Expired, but kept: a spent code that comes back is still caught.
    app.advance(Duration::from_secs(3600));
    app.state.purge_ended().await;
    let now = app.now();
    assert!(matches!(
        store
            .use_code(&TokenHash::of(&spent), uuid::Uuid::now_v7(), now)
            .await
            .unwrap(),
        CodeUse::Again(_)
    ));

    // A day later both are gone (the server's own upkeep may get there first).
    app.advance(Duration::from_secs(86_400));
    app.state.purge_ended().await;
    let now = app.now();
    for code in [&spent, &unused] {
        assert_eq!(
            store
                .use_code(&TokenHash::of(code), uuid::Uuid::now_v7(), now)
                .await
                .unwrap(),
            CodeUse::Unknown
        );
    }
}
