//! The framework-agnostic entry point: policy first, then strict header
//! parsing, then verification.

use authgate_guard::{GuardError, PublicRoutes};

use crate::support::*;

fn policy() -> PublicRoutes {
    PublicRoutes::new()
        .exact("GET", "/healthz")
        .prefix("*", "/public")
}

#[tokio::test]
async fn a_public_route_gives_none_without_reading_the_header() {
    let key = key("k1");
    let (guard, _) = guard(&key);
    for (method, path) in [("GET", "/healthz"), ("POST", "/public/form")] {
        let answer = guard
            .authenticate_request(&policy(), method, path, Some("Bearer garbage"))
            .await;
        assert_eq!(answer, Ok(None), "{method} {path}");
    }
}

#[tokio::test]
async fn a_private_route_gives_the_principal_of_a_valid_token() {
    let key = key("k1");
    let (guard, _) = guard(&key);
    let token = token(&key, &claims("t1", &["user"]));
    let principal = guard
        .authenticate_request(&policy(), "POST", "/healthz", Some(&bearer(&token)))
        .await
        .unwrap()
        .expect("a principal");
    assert_eq!(principal.token_id(), "t1");
    assert!(principal.has_role("user"));
}

#[tokio::test]
async fn a_private_route_refuses_what_is_not_a_valid_bearer_token() {
    let key = key("k1");
    let (guard, _) = guard(&key);
    let token = token(&key, &claims("t1", &[]));
    let cases: [(Option<String>, GuardError); 5] = [
        (None, GuardError::MissingCredentials),
        (Some("Basic YTpi".into()), GuardError::UnsupportedScheme),
        (
            Some(format!("bearer  {token}")),
            GuardError::MalformedHeader,
        ),
        (
            Some(format!("Bearer {token} ")),
            GuardError::MalformedHeader,
        ),
        (
            Some(format!("Bearer {}", "a".repeat(8 * 1024))),
            GuardError::HeaderTooLarge,
        ),
    ];
    for (header, expected) in cases {
        let answer = guard
            .authenticate_request(&policy(), "GET", "/data", header.as_deref())
            .await;
        assert_eq!(answer, Err(expected));
    }
    // The scheme is case-insensitive.
    let answer = guard
        .authenticate_request(&policy(), "GET", "/data", Some(&format!("bEaReR {token}")))
        .await;
    assert!(matches!(answer, Ok(Some(_))));
}

#[test]
fn the_pure_verifier_offers_the_same_entry_point_synchronously() {
    let key = key("k1");
    let (guard, _) = guard(&key);
    let verifier = guard.verifier().expect("a local verifier");
    let token = token(&key, &claims("t1", &[]));
    assert_eq!(
        verifier.authenticate_request(&policy(), "GET", "/healthz", None, NOW),
        Ok(None)
    );
    let principal = verifier
        .authenticate_request(&policy(), "GET", "/data", Some(&bearer(&token)), NOW)
        .unwrap();
    assert_eq!(
        principal.map(|p| p.token_id().to_owned()),
        Some("t1".into())
    );
}

#[tokio::test]
async fn the_cached_entry_point_answers_only_what_needs_no_signature_check() {
    let key = key("k1");
    let (guard, clock) = guard(&key);
    let token = token(&key, &claims("t1", &["user"]));
    let header = bearer(&token);
    let cached = |method, path, header: Option<&str>| {
        guard.authenticate_request_cached(&policy(), method, path, header)
    };
    // Decided without the token: the same answers as the full path.
    assert_eq!(
        cached("GET", "/healthz", Some("Bearer garbage")),
        Some(Ok(None))
    );
    assert_eq!(
        cached("GET", "/data", None),
        Some(Err(GuardError::MissingCredentials))
    );
    assert_eq!(
        cached("GET", "/data", Some("Basic YTpi")),
        Some(Err(GuardError::UnsupportedScheme))
    );
    // Not verified yet: the full path is needed.
    assert_eq!(cached("GET", "/data", Some(&header)), None);
    let full = guard
        .authenticate_request(&policy(), "GET", "/data", Some(&header))
        .await
        .unwrap();
    // Verified once: the cache answers, with the same principal.
    assert_eq!(cached("GET", "/data", Some(&header)), Some(Ok(full)));
    // A forged token (another signature) is never answered from the cache.
    let forged = format!("{}x", &header[..header.len() - 1]);
    assert_eq!(cached("GET", "/data", Some(&forged)), None);
    // The time is re-checked on every hit.
    clock.advance(time::Duration::seconds(900 + 61));
    assert_eq!(
        cached("GET", "/data", Some(&header)),
        Some(Err(GuardError::InvalidToken(authgate_jwt::Error::Expired)))
    );
}
