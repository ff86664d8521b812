//! Browser sessions on PostgreSQL: activity moves the idle clock there
//! too, and a database that cannot be reached is the 503 page, never a
//! session trusted blindly. Needs `AUTHGATE_TEST_POSTGRES_URL` (skips
//! without it, like the other PostgreSQL tests).

use std::time::Duration;

use authgate_store::testing::{POSTGRES_URL_VAR, TcpProxy, TestSchema, service_url};
use authgate_testkit::reqwest::StatusCode;
use authgate_testkit::spawn_app_with;

use super::Browser;

#[tokio::test]
#[ignore = "needs PostgreSQL: set AUTHGATE_TEST_POSTGRES_URL (scripts/test does)"]
async fn on_postgres_activity_keeps_a_session_and_an_outage_is_the_503_page() {
    let url = service_url(POSTGRES_URL_VAR, "api::pages::outage");
    let schema = TestSchema::create(&url).await.unwrap();
    let proxy = TcpProxy::start(&schema.server().unwrap()).await.unwrap();
    let url = schema.url(Some(proxy.addr())).unwrap();
    let app = spawn_app_with(|settings| settings.storage.database_url = url).await;
    let user = app.new_user().await;
    let mut browser = Browser::new(&app);
    browser.login(&user.email).await;
    // Seen after 2 minutes (written), then 29 minutes later: 31 minutes
    // after the login but only 29 idle.
    app.advance(Duration::from_secs(2 * 60));
    assert_eq!(browser.get("/account").await.status, StatusCode::OK);
    app.advance(Duration::from_secs(29 * 60));
    assert_eq!(browser.get("/account").await.status, StatusCode::OK);

    proxy.cut().await;
    app.advance(Duration::from_secs(2));
    let page = browser.get("/account").await;
    assert_eq!(
        page.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        page.body
    );
    assert!(page.body.contains("Temporarily unavailable"));
    assert!(page.headers.contains_key("content-security-policy"));
    assert!(browser.session_cookie().is_some(), "the cookie is kept");
}
