//! The console's relying parties page: register (a confidential client's
//! secret shown once and working at the token endpoint, a public client
//! without one), refusals next to their field with the form kept, escaping,
//! the permission and the form token, and deletion.

use authgate_testkit::reqwest::StatusCode;
use authgate_testkit::spawn_app_with;

use super::Browser;

const PAGE: &str = "/admin/console/relying-parties";
const SCRIPT: &str = "<script>alert(1)</script>";

fn between(body: &str, start: &str, end: &str) -> String {
    let from = body
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {body}"))
        + start.len();
    let len = body[from..].find(end).unwrap();
    body[from..from + len].to_owned()
}

#[tokio::test]
async fn an_administrator_registers_a_relying_party_sees_its_secret_once_and_deletes_it() {
    let app = spawn_app_with(|s| s.oidc.enabled = true).await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let mut boss = Browser::new(&app);
    boss.login(&admin.email).await;
    let form = boss.get(PAGE).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("No relying party yet."));
    let csrf = form.csrf();

    // A bad redirect URI is said next to its field; what was typed stays.
    let refused = boss
        .post(
            PAGE,
            &[
                ("csrf", &csrf),
                ("name", "Wiki"),
                ("redirect_uris", "http://wiki.example/cb"),
                ("scope:email", "on"),
                ("first_party", "on"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains(r#"id="redirect-error""#),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("http://wiki.example/cb</textarea>"));
    assert!(refused.body.contains(r#"name="scope:email" checked"#));
    assert!(refused.body.contains(r#"name="first_party" checked"#));

    let created = boss
        .post(
            PAGE,
            &[
                ("csrf", &csrf),
                ("name", SCRIPT),
                (
                    "redirect_uris",
                    "https://wiki.example/cb\r\nhttp://127.0.0.1/native",
                ),
                ("post_logout_redirect_uris", "https://wiki.example/bye"),
                ("scope:email", "on"),
                ("scope:offline_access", "on"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(!created.body.contains(SCRIPT), "the name is escaped");
    assert!(created.body.contains("&lt;script&gt;") || created.body.contains("&#60;script&#62;"));
    let id = between(&created.body, r#"data-testid="rp-id">"#, "<");
    let secret = between(&created.body, r#"data-testid="rp-secret">"#, "<");
    assert_eq!(secret.len(), 43);
    let client = app.state.auth.oidc_client(&id).await.unwrap();
    assert_eq!(
        client.redirect_uris,
        ["https://wiki.example/cb", "http://127.0.0.1/native"]
    );
    assert_eq!(
        client.post_logout_redirect_uris,
        ["https://wiki.example/bye"]
    );
    assert_eq!(client.scopes, ["openid", "email", "offline_access"]);
    assert!(!client.first_party);
    // The secret is the client's: it authenticates at the token endpoint.
    assert!(
        app.state
            .auth
            .authenticate_oidc_client(&id, Some(&secret))
            .await
            .is_ok()
    );
    let list = boss.get(PAGE).await;
    assert!(list.body.contains(&id));
    assert!(list.body.contains("https://wiki.example/bye"));
    assert!(!list.body.contains(&secret), "the secret is shown once");

    // A public client has no secret.
    let public = boss
        .post(
            PAGE,
            &[
                ("csrf", &csrf),
                ("name", "SPA"),
                ("redirect_uris", "https://spa.example/cb"),
                ("public", "on"),
            ],
        )
        .await;
    assert_eq!(public.status, StatusCode::CREATED);
    assert!(!public.body.contains(r#"data-testid="rp-secret""#));

    // Without the form token nothing is deleted; with it, the client goes.
    let forged = boss
        .post(&format!("{PAGE}/{id}/delete"), &[("csrf", "forged")])
        .await;
    assert_ne!(forged.status, StatusCode::SEE_OTHER);
    assert!(app.state.auth.oidc_client(&id).await.is_ok());
    let done = boss
        .post(&format!("{PAGE}/{id}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(done.location(), format!("{PAGE}?done=deleted"));
    assert!(!boss.get(done.location()).await.body.contains(&id));
    assert!(app.state.auth.oidc_client(&id).await.is_err());
}

#[tokio::test]
async fn the_page_and_its_forms_need_the_clients_write_permission() {
    let app = spawn_app_with(|s| {
        s.oidc.enabled = true;
        s.roles.insert("reader".into(), vec!["users:read".into()]);
    })
    .await;
    let reader = app.new_user_with_roles(&["reader"]).await;
    let mut browser = Browser::new(&app);
    browser.login(&reader.email).await;
    let home = browser.get("/admin").await;
    assert!(!home.body.contains(PAGE), "not linked");
    assert_eq!(browser.get(PAGE).await.status, StatusCode::FORBIDDEN);
    let csrf = browser.account_csrf().await;
    let refused = browser
        .post(
            PAGE,
            &[
                ("csrf", &csrf),
                ("name", "Wiki"),
                ("redirect_uris", "https://wiki.example/cb"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(app.state.auth.oidc_clients().await.unwrap().is_empty());
}
