//! The administration rules as the core service enforces them, called
//! directly (no HTTP handler in between): the permission each change needs,
//! "grant only what you hold", no disabling oneself, and service clients
//! listed and deleted under the same rules. The API and the console pages
//! both rely on these checks.

use authgate_core::{AuditFilter, AuthError, Caller, Origin, SessionCaller};
use authgate_testkit::reqwest::StatusCode;
use authgate_testkit::{TestApp, assert_error, spawn_app_with};
use uuid::Uuid;

/// `manager` reads and writes users; `reader` only reads them;
/// `integrator` creates clients; `auditor` reads the audit trail.
async fn app() -> TestApp {
    spawn_app_with(|s| {
        s.roles.insert(
            "manager".into(),
            vec!["users:read".into(), "users:write".into()],
        );
        s.roles.insert("reader".into(), vec!["users:read".into()]);
        s.roles
            .insert("integrator".into(), vec!["clients:write".into()]);
        s.roles.insert("auditor".into(), vec!["audit:read".into()]);
    })
    .await
}

/// A user caller holding `roles` now.
fn caller(user_id: Uuid, roles: &[&str]) -> Caller {
    Caller::User {
        session: SessionCaller {
            user_id,
            session_id: Uuid::now_v7(),
            roles: Vec::new(),
            token_id: String::new(),
        },
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
    }
}

fn roles(names: &[&str]) -> Vec<String> {
    names.iter().map(|r| (*r).to_owned()).collect()
}

#[tokio::test]
async fn changing_users_needs_users_write_and_changes_nothing_without_it() {
    let app = app().await;
    let target = app.new_user().await;
    let id = target.user.id;
    let reader = caller(Uuid::now_v7(), &["reader"]);
    let origin = Origin::default();
    let auth = &app.state.auth;
    assert!(matches!(
        auth.set_roles(Some(&reader), id, roles(&["reader"]), &origin)
            .await,
        Err(AuthError::InsufficientScope)
    ));
    assert!(matches!(
        auth.set_active(Some(&reader), id, false, &origin).await,
        Err(AuthError::InsufficientScope)
    ));
    let after = auth.user(id).await.unwrap();
    assert_eq!(after.roles, roles(&["user"]));
    assert!(after.is_active);
}

#[tokio::test]
async fn a_manager_grants_only_roles_within_their_own_permissions() {
    let app = app().await;
    let target = app.new_user().await;
    let id = target.user.id;
    let manager = caller(Uuid::now_v7(), &["manager"]);
    let origin = Origin::default();
    let auth = &app.state.auth;
    for beyond in [&["admin"][..], &["integrator"], &["user", "auditor"]] {
        assert!(
            matches!(
                auth.set_roles(Some(&manager), id, roles(beyond), &origin)
                    .await,
                Err(AuthError::InsufficientScope)
            ),
            "{beyond:?}"
        );
    }
    assert_eq!(auth.user(id).await.unwrap().roles, roles(&["user"]));
    let changed = auth
        .set_roles(Some(&manager), id, roles(&["user", "reader"]), &origin)
        .await
        .unwrap();
    assert_eq!(changed.roles, roles(&["user", "reader"]));
    // The change is recorded with the manager as the actor.
    let events = auth
        .audit_events(&AuditFilter {
            user_id: Some(id),
            kind: Some("user.roles_changed".into()),
            limit: 5,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor_id, Some(manager.actor_id()));
}

#[tokio::test]
async fn a_manager_cannot_demote_or_disable_an_account_holding_more() {
    let app = app().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let id = admin.user.id;
    let manager = caller(Uuid::now_v7(), &["manager"]);
    let origin = Origin::default();
    let auth = &app.state.auth;
    assert!(matches!(
        auth.set_roles(Some(&manager), id, roles(&["user"]), &origin)
            .await,
        Err(AuthError::InsufficientScope)
    ));
    assert!(matches!(
        auth.set_active(Some(&manager), id, false, &origin).await,
        Err(AuthError::InsufficientScope)
    ));
    let after = auth.user(id).await.unwrap();
    assert_eq!(after.roles, roles(&["admin"]));
    assert!(after.is_active);
}

#[tokio::test]
async fn nobody_disables_their_own_account_but_the_operator_may() {
    let app = app().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let id = admin.user.id;
    let me = caller(id, &["admin"]);
    let origin = Origin::default();
    let auth = &app.state.auth;
    match auth.set_active(Some(&me), id, false, &origin).await {
        Err(AuthError::InvalidInput { field: "id", .. }) => {}
        other => panic!("expected a refusal naming id, got {other:?}"),
    }
    assert!(auth.user(id).await.unwrap().is_active);
    // The operator at the command line is not a caller: no checks apply.
    let (user, _) = auth.set_active(None, id, false, &origin).await.unwrap();
    assert!(!user.is_active);
}

#[tokio::test]
async fn clients_are_created_listed_and_deleted_only_within_reach() {
    let app = app().await;
    let origin = Origin::default();
    let auth = &app.state.auth;
    let integrator = caller(Uuid::now_v7(), &["integrator"]);
    let reader = caller(Uuid::now_v7(), &["reader"]);
    assert!(matches!(
        auth.create_client(Some(&reader), "svc", roles(&[]), &origin)
            .await,
        Err(AuthError::InsufficientScope)
    ));
    assert!(matches!(
        auth.create_client(Some(&integrator), "svc", roles(&["manager"]), &origin)
            .await,
        Err(AuthError::InsufficientScope)
    ));
    assert!(matches!(
        auth.list_clients(Some(&reader)).await,
        Err(AuthError::InsufficientScope)
    ));
    let mine = auth
        .create_client(Some(&integrator), "mine", roles(&["integrator"]), &origin)
        .await
        .unwrap();
    let powerful = auth
        .create_client(None, "powerful", roles(&["manager"]), &origin)
        .await
        .unwrap();
    let listed: Vec<String> = auth
        .list_clients(Some(&integrator))
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&mine.client.id) && listed.contains(&powerful.client.id));

    // A client holding more than the caller is out of reach.
    assert!(matches!(
        auth.delete_client(Some(&integrator), &powerful.client.id, &origin)
            .await,
        Err(AuthError::InsufficientScope)
    ));
    assert!(matches!(
        auth.delete_client(Some(&integrator), "svc_unknown", &origin)
            .await,
        Err(AuthError::NotFound)
    ));
    auth.delete_client(Some(&integrator), &mine.client.id, &origin)
        .await
        .unwrap();
    let left: Vec<String> = auth
        .list_clients(None)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(left, vec![powerful.client.id]);
    let events = auth
        .audit_events(&AuditFilter {
            kind: Some("client.deleted".into()),
            limit: 5,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].client_id.as_deref(),
        Some(mine.client.id.as_str())
    );
    assert_eq!(events[0].actor_id, Some(integrator.actor_id()));
}

#[tokio::test]
async fn a_deleted_clients_secret_and_token_stop_working() {
    let app = app().await;
    let client = app.new_client(&["integrator"]).await;
    let token = app.client_token(&client).await;
    app.state
        .auth
        .delete_client(None, &client.id, &Origin::default())
        .await
        .unwrap();
    let refused = app
        .post_form(
            "/oauth/token",
            &[("grant_type", "client_credentials")],
            Some(&client),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let response = app
        .client
        .post(app.url("/admin/clients"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::UNAUTHORIZED, "invalid_token").await;
}
