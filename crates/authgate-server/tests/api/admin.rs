//! `/admin/*`: every route, its permission boundary (a plain user, a
//! `support` role with read permissions, an admin, a service client), and
//! what each change does to the users' sessions and the audit trail.

use authgate_proto::{
    AuditResponse, DashboardResponse, KeyState, KeysResponse, PublicUser, RotateKeysResponse,
    UsersPage,
};
use authgate_testkit::reqwest::{Method, StatusCode, header};
use authgate_testkit::{
    TestApp, assert_error, assert_invalid_token, assert_no_store, expect_json, spawn_app_with,
};
use serde_json::{Value, json};

/// A server whose `[roles]` define `support` with read permissions,
/// `manager` that reads and writes users, and `integrator` that creates clients.
async fn app() -> TestApp {
    spawn_app_with(|s| {
        s.roles.insert(
            "support".into(),
            vec![
                "users:read".into(),
                "audit:read".into(),
                "admin:read".into(),
            ],
        );
        s.roles.insert(
            "manager".into(),
            vec!["users:read".into(), "users:write".into()],
        );
        s.roles
            .insert("integrator".into(), vec!["clients:write".into()]);
    })
    .await
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> authgate_testkit::reqwest::Response {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn get(app: &TestApp, path: &str, token: &str) -> authgate_testkit::reqwest::Response {
    send(app, Method::GET, path, token, None).await
}

async fn assert_forbidden(response: authgate_testkit::reqwest::Response) {
    let error = assert_error(response, StatusCode::FORBIDDEN, "insufficient_scope").await;
    assert_eq!(
        error.headers.get(header::WWW_AUTHENTICATE).unwrap(),
        r#"Bearer realm="authgate", error="insufficient_scope""#
    );
}

/// Every admin route with a body that would be valid, and its permission.
fn routes(user_id: &str) -> Vec<(Method, String, Option<Value>, &'static str)> {
    vec![
        (Method::GET, "/admin/dashboard".into(), None, "admin:read"),
        (Method::GET, "/admin/users".into(), None, "users:read"),
        (
            Method::GET,
            format!("/admin/users/{user_id}"),
            None,
            "users:read",
        ),
        (
            Method::PUT,
            format!("/admin/users/{user_id}/roles"),
            Some(json!({"roles": ["user"]})),
            "users:write",
        ),
        (
            Method::POST,
            format!("/admin/users/{user_id}/disable"),
            None,
            "users:write",
        ),
        (
            Method::POST,
            format!("/admin/users/{user_id}/enable"),
            None,
            "users:write",
        ),
        (Method::GET, "/admin/audit".into(), None, "audit:read"),
        (Method::GET, "/admin/keys".into(), None, "keys:read"),
        (
            Method::POST,
            "/admin/keys/rotate".into(),
            None,
            "keys:write",
        ),
        (
            Method::POST,
            "/admin/clients".into(),
            Some(json!({"name": "svc"})),
            "clients:write",
        ),
    ]
}

#[tokio::test]
async fn a_plain_user_gets_403_insufficient_scope_on_every_admin_route() {
    let app = app().await;
    let user = app.new_user().await;
    let target = app.new_user().await;
    for (method, path, body, _) in routes(&target.user.id.to_string()) {
        assert_forbidden(send(&app, method, &path, &user.access, body).await).await;
    }
    // Nothing changed: the target is still active with the same roles.
    let admin = app.new_user_with_roles(&["admin"]).await;
    let seen: PublicUser = expect_json(
        get(
            &app,
            &format!("/admin/users/{}", target.user.id),
            &admin.access,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen, target.user);
}

#[tokio::test]
async fn no_or_bad_credentials_on_admin_routes_are_401_invalid_token() {
    let app = app().await;
    let response = app.get("/admin/dashboard").await;
    assert_error(response, StatusCode::UNAUTHORIZED, "invalid_token").await;
    assert_invalid_token(get(&app, "/admin/users", "not.a.jwt").await).await;
}

#[tokio::test]
async fn support_role_reads_but_cannot_write() {
    let app = app().await;
    let support = app.new_user_with_roles(&["support"]).await;
    let target = app.new_user().await;
    for (method, path, body, permission) in routes(&target.user.id.to_string()) {
        let response = send(&app, method.clone(), &path, &support.access, body).await;
        if ["users:read", "audit:read", "admin:read"].contains(&permission) {
            assert_eq!(response.status(), StatusCode::OK, "{method} {path}");
        } else {
            assert_forbidden(response).await;
        }
    }
}

#[tokio::test]
async fn a_service_client_is_authorised_by_its_roles() {
    let app = app().await;
    let reader = app.new_client(&["support"]).await;
    let token = app.client_token(&reader).await;
    assert_eq!(
        get(&app, "/admin/users", &token).await.status(),
        StatusCode::OK
    );
    assert_forbidden(get(&app, "/admin/keys", &token).await).await;
    let admin_client = app.new_client(&["admin"]).await;
    let token = app.client_token(&admin_client).await;
    let keys: KeysResponse =
        expect_json(get(&app, "/admin/keys", &token).await, StatusCode::OK).await;
    assert!(keys.keys.iter().any(|k| k.state == KeyState::Active));
}

#[tokio::test]
async fn a_demoted_admin_loses_the_admin_routes_at_once() {
    let app = app().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let other_admin = app.new_user_with_roles(&["admin"]).await;
    let response = send(
        &app,
        Method::PUT,
        &format!("/admin/users/{}/roles", admin.user.id),
        &other_admin.access,
        Some(json!({"roles": ["user"]})),
    )
    .await;
    let demoted: PublicUser = expect_json(response, StatusCode::OK).await;
    assert_eq!(demoted.roles, ["user"]);
    // The old token still says "admin", but the server reads the current roles.
    assert_forbidden(get(&app, "/admin/dashboard", &admin.access).await).await;
}

#[tokio::test]
async fn a_user_manager_cannot_grant_or_touch_more_than_they_hold() {
    let app = app().await;
    let manager = app.new_user_with_roles(&["manager"]).await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let bob = app.new_user().await;
    let roles_of = |id: uuid::Uuid| format!("/admin/users/{id}/roles");

    // Not themselves, not anyone: `admin`, or a role with a permission they lack.
    for (target, roles) in [
        (manager.user.id, json!(["admin"])),
        (bob.user.id, json!(["admin"])),
        (bob.user.id, json!(["support"])),
        (bob.user.id, json!(["user", "manager", "support"])),
    ] {
        let response = send(
            &app,
            Method::PUT,
            &roles_of(target),
            &manager.access,
            Some(json!({ "roles": roles })),
        )
        .await;
        assert_forbidden(response).await;
    }
    // Nor demote, disable or enable someone who holds more.
    let response = send(
        &app,
        Method::PUT,
        &roles_of(admin.user.id),
        &manager.access,
        Some(json!({"roles": ["user"]})),
    )
    .await;
    assert_forbidden(response).await;
    for action in ["disable", "enable"] {
        let path = format!("/admin/users/{}/{action}", admin.user.id);
        assert_forbidden(send(&app, Method::POST, &path, &manager.access, None).await).await;
    }
    for (who, roles) in [
        (&manager, ["manager"]),
        (&bob, ["user"]),
        (&admin, ["admin"]),
    ] {
        let seen: PublicUser = expect_json(
            get(
                &app,
                &format!("/admin/users/{}", who.user.id),
                &admin.access,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(seen.roles, roles, "unchanged");
        assert!(seen.is_active);
    }
    assert_eq!(app.me(&admin.access).await.status(), StatusCode::OK);

    // Within their own powers they work as before.
    let response = send(
        &app,
        Method::PUT,
        &roles_of(bob.user.id),
        &manager.access,
        Some(json!({"roles": ["user", "manager"]})),
    )
    .await;
    let bob_now: PublicUser = expect_json(response, StatusCode::OK).await;
    assert_eq!(bob_now.roles, ["user", "manager"]);
    let path = format!("/admin/users/{}/disable", bob.user.id);
    let disabled: PublicUser = expect_json(
        send(&app, Method::POST, &path, &manager.access, None).await,
        StatusCode::OK,
    )
    .await;
    assert!(!disabled.is_active);
}

#[tokio::test]
async fn a_client_creator_cannot_create_a_client_more_powerful_than_they_are() {
    let app = app().await;
    let integrator = app.new_user_with_roles(&["integrator"]).await;
    for roles in [json!(["admin"]), json!(["manager"])] {
        let response = send(
            &app,
            Method::POST,
            "/admin/clients",
            &integrator.access,
            Some(json!({"name": "escalator", "roles": roles})),
        )
        .await;
        assert_forbidden(response).await;
    }
    let response = send(
        &app,
        Method::POST,
        "/admin/clients",
        &integrator.access,
        Some(json!({"name": "plain", "roles": ["user"]})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    // Only the plain client was created, by the audit trail.
    let admin = app.new_user_with_roles(&["admin"]).await;
    let audit: AuditResponse = expect_json(
        get(&app, "/admin/audit?kind=client.created", &admin.access).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(audit.events.len(), 1);
    assert_eq!(audit.events[0].details["name"], json!("plain"));
}

#[tokio::test]
async fn dashboard_counts_users_sessions_keys_and_failed_logins() {
    let app = app().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let alice = app.new_user().await;
    for _ in 0..3 {
        assert_error(
            app.login(&alice.email, "wrong-password-123").await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    let d: DashboardResponse = expect_json(
        get(&app, "/admin/dashboard", &admin.access).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(d.total_users, 2);
    // admin: registration login + roles login; alice: one login.
    assert_eq!(d.active_sessions, 3);
    assert_eq!(d.failed_logins_24h, 3);
    assert_eq!(d.active_keys, 1, "a fresh server has its one active key");
    // A day later the failures have left the window.
    app.advance(std::time::Duration::from_secs(24 * 3600 + 1));
    app.state.sync_keys().await;
    let admin_again = app.login_ok(&admin.email, &admin.password).await;
    let d: DashboardResponse = expect_json(
        get(&app, "/admin/dashboard", &admin_again.access_token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(d.failed_logins_24h, 0);
}

#[tokio::test]
async fn users_are_paged_with_a_cursor_and_searched_by_prefix() {
    let app = app().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    for name in ["carol", "carl", "dave"] {
        app.register_ok(
            &format!("{name}@example.com"),
            authgate_testkit::PASSWORD,
            Some(&format!("{name}_x")),
        )
        .await;
    }
    let page: UsersPage = expect_json(
        get(&app, "/admin/users?limit=2", &admin.access).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page.users.len(), 2);
    let next = page.next.clone().expect("a next page");
    let rest: UsersPage = expect_json(
        get(
            &app,
            &format!("/admin/users?limit=2&after={next}"),
            &admin.access,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rest.users.len(), 2);
    assert_eq!(rest.next, None, "four users, two pages");
    let mut all: Vec<_> = page.users.iter().chain(&rest.users).map(|u| u.id).collect();
    let total = all.len();
    all.dedup();
    assert_eq!(all.len(), total, "pages do not overlap");

    let found: UsersPage = expect_json(
        get(&app, "/admin/users?q=CAR", &admin.access).await,
        StatusCode::OK,
    )
    .await;
    let emails: Vec<_> = found.users.iter().map(|u| u.email.as_str()).collect();
    assert_eq!(emails, ["carol@example.com", "carl@example.com"]);
    let by_username: UsersPage = expect_json(
        get(&app, "/admin/users?q=dave_", &admin.access).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(by_username.users.len(), 1);

    assert_error(
        get(&app, "/admin/users?after=garbage", &admin.access).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    assert_error(
        get(&app, "/admin/users?limit=many", &admin.access).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    let big: UsersPage = expect_json(
        get(&app, "/admin/users?limit=100000", &admin.access).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(big.users.len(), 4, "limit is capped, not refused");
}

#[tokio::test]
async fn unknown_users_are_404_and_unknown_roles_400() {
    let app = app().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let alice = app.new_user().await;
    assert_error(
        get(
            &app,
            &format!("/admin/users/{}", uuid::Uuid::now_v7()),
            &admin.access,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        get(&app, "/admin/users/not-a-uuid", &admin.access).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let path = format!("/admin/users/{}/roles", alice.user.id);
    let error = assert_error(
        send(
            &app,
            Method::PUT,
            &path,
            &admin.access,
            Some(json!({"roles": ["user", "root"]})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    assert!(
        error.description.starts_with("roles:")
            && error.description.contains("position 1")
            && !error.description.contains("root"),
        "names the field and the position, never the text sent: {}",
        error.description
    );
    let unchanged: PublicUser = expect_json(
        get(
            &app,
            &format!("/admin/users/{}", alice.user.id),
            &admin.access,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(unchanged.roles, ["user"]);
    let set: PublicUser = expect_json(
        send(
            &app,
            Method::PUT,
            &path,
            &admin.access,
            Some(json!({"roles": ["support", "user", "support"]})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(set.roles, ["support", "user"], "deduplicated, in order");
    assert_error(
        send(
            &app,
            Method::PUT,
            &path,
            &admin.access,
            Some(json!({"roles": "admin"})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn disabling_a_user_revokes_every_session_at_once_and_enabling_lets_them_back() {
    let app = app().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let alice = app.new_user().await;
    let second = app.login_ok(&alice.email, &alice.password).await;
    // Both tokens verified once: the verified-token cache holds them, so
    // "at once" is tested against a warm cache, not only a cold one.
    for access in [&alice.access, &second.access_token] {
        assert_eq!(app.me(access).await.status(), StatusCode::OK);
    }
    let disabled: PublicUser = expect_json(
        send(
            &app,
            Method::POST,
            &format!("/admin/users/{}/disable", alice.user.id),
            &admin.access,
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(!disabled.is_active);
    assert_invalid_token(app.me(&alice.access).await).await;
    assert_invalid_token(app.me(&second.access_token).await).await;
    assert_error(
        app.refresh(&alice.refresh).await,
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
    )
    .await;
    assert_error(
        app.login(&alice.email, &alice.password).await,
        StatusCode::FORBIDDEN,
        "account_disabled",
    )
    .await;

    let enabled: PublicUser = expect_json(
        send(
            &app,
            Method::POST,
            &format!("/admin/users/{}/enable", alice.user.id),
            &admin.access,
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(enabled.is_active);
    let back = app.login_ok(&alice.email, &alice.password).await;
    assert_eq!(app.me(&back.access_token).await.status(), StatusCode::OK);
    // Old sessions stay dead.
    assert_error(
        app.refresh(&second.refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn admin_changes_are_in_the_audit_trail_with_the_actor() {
    let app = app().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let alice = app.new_user().await;
    let path = format!("/admin/users/{}", alice.user.id);
    send(
        &app,
        Method::PUT,
        &format!("{path}/roles"),
        &admin.access,
        Some(json!({"roles": ["support"]})),
    )
    .await;
    send(
        &app,
        Method::POST,
        &format!("{path}/disable"),
        &admin.access,
        None,
    )
    .await;
    send(
        &app,
        Method::POST,
        &format!("{path}/enable"),
        &admin.access,
        None,
    )
    .await;
    let audit: AuditResponse = expect_json(
        get(
            &app,
            &format!("/admin/audit?user_id={}", alice.user.id),
            &admin.access,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let kinds: Vec<_> = audit.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        &kinds[..3],
        ["user.enabled", "user.disabled", "user.roles_changed"],
        "newest first: {kinds:?}"
    );
    for event in &audit.events[..3] {
        assert_eq!(
            event.actor_id.as_deref(),
            Some(admin.user.id.to_string().as_str())
        );
        assert_eq!(event.user_id, Some(alice.user.id));
        assert!(event.ip.is_some());
    }
    assert_eq!(audit.events[2].details["roles"], json!(["support"]));

    let only: AuditResponse = expect_json(
        get(
            &app,
            "/admin/audit?kind=user.disabled&limit=5",
            &admin.access,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(only.events.len(), 1);
    let since = (app.now() + time::Duration::hours(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let none: AuditResponse = expect_json(
        get(&app, &format!("/admin/audit?since={since}"), &admin.access).await,
        StatusCode::OK,
    )
    .await;
    assert!(none.events.is_empty());
    assert_error(
        get(&app, "/admin/audit?since=yesterday", &admin.access).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn keys_are_listed_without_material_and_rotated_on_demand() {
    let app = app().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let before: Value = expect_json(
        get(&app, "/admin/keys", &admin.access).await,
        StatusCode::OK,
    )
    .await;
    let text = before.to_string();
    for secret_field in ["\"d\"", "private", "sealed", "\"k\""] {
        assert!(!text.contains(secret_field), "{secret_field} in {text}");
    }
    let before: KeysResponse = serde_json::from_value(before).unwrap();
    let old_active = before
        .keys
        .iter()
        .find(|k| k.state == KeyState::Active)
        .unwrap()
        .kid
        .clone();
    let rotated: RotateKeysResponse = expect_json(
        send(
            &app,
            Method::POST,
            "/admin/keys/rotate",
            &admin.access,
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_ne!(rotated.active.kid, old_active);
    assert_eq!(rotated.active.state, KeyState::Active);
    assert_eq!(rotated.next.state, KeyState::Next);
    assert_ne!(rotated.next.kid, rotated.active.kid);
    let after: KeysResponse = expect_json(
        get(&app, "/admin/keys", &admin.access).await,
        StatusCode::OK,
    )
    .await;
    let old = after.keys.iter().find(|k| k.kid == old_active).unwrap();
    assert_eq!(old.state, KeyState::Retired, "the old key still verifies");
    // New tokens are signed by the new key, and old tokens still verify.
    let fresh = app.login_ok(&admin.email, &admin.password).await;
    let header = authgate_jwt::decode_unverified::<Value>(&fresh.access_token)
        .unwrap()
        .header;
    assert_eq!(header.kid.as_deref(), Some(rotated.active.kid.as_str()));
    assert_eq!(app.me(&admin.access).await.status(), StatusCode::OK);
    let audit: AuditResponse = expect_json(
        get(&app, "/admin/audit?kind=key.rotated", &admin.access).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(audit.events.len(), 1);
    assert_eq!(
        audit.events[0].details["active_kid"],
        json!(rotated.active.kid)
    );
}

#[tokio::test]
async fn created_clients_get_a_secret_once_and_it_works() {
    let app = app().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let response = send(
        &app,
        Method::POST,
        "/admin/clients",
        &admin.access,
        Some(json!({"name": "billing", "roles": ["support"]})),
    )
    .await;
    assert_no_store(response.headers());
    let created: Value = expect_json(response, StatusCode::CREATED).await;
    let id = created["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 43, "256 bits, base64url");
    let client = authgate_testkit::TestClient {
        id: id.clone(),
        secret,
    };
    let token = app.client_token(&client).await;
    assert_eq!(
        get(&app, "/admin/users", &token).await.status(),
        StatusCode::OK
    );
    // The secret is stored only as a hash.
    let stored = app.store().await.client(&id).await.unwrap().unwrap();
    assert_ne!(
        stored.secret_hash.0.to_vec(),
        client.secret.as_bytes().to_vec()
    );
    assert!(!format!("{stored:?}").contains(&client.secret));

    for bad in [
        json!({"name": ""}),
        json!({"name": "x", "roles": ["root"]}),
        json!({"roles": []}),
    ] {
        assert_error(
            send(
                &app,
                Method::POST,
                "/admin/clients",
                &admin.access,
                Some(bad),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        )
        .await;
    }
    let audit: AuditResponse = expect_json(
        get(&app, "/admin/audit?kind=client.created", &admin.access).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(audit.events.len(), 1);
    assert_eq!(audit.events[0].client_id.as_deref(), Some(id.as_str()));
    assert!(
        !serde_json::to_string(&audit)
            .unwrap()
            .contains(&client.secret)
    );
}
