//! A guard whose key source is introspection (RFC 7662) against authgate's
//! real `/oauth/introspect`: active tokens pass, logged-out ones are refused
//! once the guard's short positive cache has lapsed.

use std::time::Duration;

use authgate_guard::{Guard, GuardError, IntrospectionConfig, VerifierConfig};
use authgate_testkit::spawn_app;

use crate::support::{AUDIENCE, bearer};

#[tokio::test]
async fn introspection_against_the_real_server_follows_logouts_after_its_cache() {
    let app = spawn_app().await;
    let client = app.new_client(&[]).await;
    let mut config =
        IntrospectionConfig::new(app.url("/oauth/introspect"), &client.id, &client.secret);
    config.cache_ttl_secs = 10;
    let guard = Guard::builder(VerifierConfig::new(
        app.state.auth.settings().issuer.clone(),
        AUDIENCE,
    ))
    .introspection(config)
    .clock(app.clock.clone())
    .build()
    .unwrap();

    let alice = app.new_user().await;
    let principal = guard
        .authenticate(Some(&bearer(&alice.access)))
        .await
        .unwrap();
    assert_eq!(principal.subject(), alice.user.id.to_string());

    app.logout(&alice.access, None).await;
    // Within the positive cache the guard still trusts its last answer…
    assert!(
        guard
            .authenticate(Some(&bearer(&alice.access)))
            .await
            .is_ok()
    );
    // …and once it has lapsed, authgate says inactive.
    app.advance(Duration::from_secs(11));
    assert!(matches!(
        guard.authenticate(Some(&bearer(&alice.access))).await,
        Err(GuardError::Inactive)
    ));
    assert!(
        guard
            .authenticate(Some(&bearer("not.a.token")))
            .await
            .is_err()
    );
}
