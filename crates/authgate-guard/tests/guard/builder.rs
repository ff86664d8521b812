//! What the builder refuses, so a misconfigured service fails at start-up
//! rather than on its first request.

use std::sync::Arc;

use authgate_guard::{
    Guard, GuardError, IntrospectionConfig, JwksSettings, ManualClock, VerifierConfig,
};
use authgate_jwt::JwkSet;

use crate::support::*;

fn config() -> VerifierConfig {
    VerifierConfig::new(ISS, AUD)
}

fn invalid_config(result: Result<Guard, GuardError>) -> &'static str {
    match result {
        Err(GuardError::InvalidConfig(why)) => why,
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

#[test]
fn a_guard_needs_exactly_one_key_source() {
    let why = invalid_config(Guard::builder(config()).build());
    assert!(why.contains("no key source"), "{why}");
    let key = key("k1");
    let why = invalid_config(
        Guard::builder(config())
            .keys(keyset(&[&key]))
            .jwks(JwkSet::default())
            .build(),
    );
    assert!(why.contains("more than one"), "{why}");
}

#[test]
fn a_jwks_url_over_plain_http_to_another_host_is_refused() {
    let mut settings = JwksSettings::default();
    settings.background_refresh = false;
    let why = invalid_config(
        Guard::builder(config())
            .jwks_url("http://auth.example/.well-known/jwks.json")
            .jwks_settings(settings.clone())
            .build(),
    );
    assert!(why.contains("loopback"), "{why}");
    let allowed = Guard::builder(config())
        .jwks_url("http://auth.example/.well-known/jwks.json")
        .jwks_settings(settings)
        .insecure_allow_http()
        .build();
    assert!(allowed.is_ok());
}

#[test]
fn background_refresh_outside_a_tokio_runtime_is_refused() {
    let why = invalid_config(
        Guard::builder(config())
            .jwks_url("https://auth.example/.well-known/jwks.json")
            .build(),
    );
    assert!(why.contains("Tokio runtime"), "{why}");
}

#[test]
fn an_unusable_issuer_audience_or_key_is_refused() {
    let key = key("k1");
    let mut no_audience = config();
    no_audience.audiences.clear();
    assert!(
        Guard::builder(no_audience)
            .keys(keyset(&[&key]))
            .build()
            .is_err()
    );
    let unnamed = authgate_jwt::SigningKey::generate(authgate_jwt::Algorithm::EdDSA).unwrap();
    let unnamed = authgate_jwt::VerifyingKey::from_public_key_der(
        authgate_jwt::Algorithm::EdDSA,
        &unnamed.verifying_key().to_public_key_der().unwrap(),
    )
    .unwrap();
    let why = invalid_config(Guard::builder(config()).key(unnamed).build());
    assert!(why.contains("kid"), "{why}");
    let mut no_issuer = config();
    no_issuer.issuer.clear();
    let introspection =
        IntrospectionConfig::new("https://auth.example/oauth/introspect", "svc", "s");
    assert!(
        Guard::builder(no_issuer)
            .introspection(introspection)
            .build()
            .is_err()
    );
}

#[test]
fn jwks_settings_that_would_hammer_the_server_are_refused() {
    let mut settings = JwksSettings::default();
    settings.unknown_kid_interval_secs = 0;
    settings.background_refresh = false;
    let why = invalid_config(
        Guard::builder(config())
            .jwks_url("https://auth.example/.well-known/jwks.json")
            .jwks_settings(settings)
            .clock(Arc::new(ManualClock::at_unix(NOW)))
            .build(),
    );
    assert!(why.contains("unknown_kid_interval_secs"), "{why}");
}
