//! The axum extractors: 401/403 with RFC 6750 challenges and docs/http-api.md's body,
//! the claims handed to handlers, optional authentication.

use authgate_guard::{Claims, Guard, Principal, RequirePermission, RequireRole, permission, role};
use authgate_proto::AccessClaims;
use axum::Router;
use axum::routing::get;
use serde::Deserialize;
use tower::ServiceExt;

use crate::support::*;

role!(Admin = "admin");
permission!(ReadReports = "reports:read");

/// Claims of this service's own beside authgate's.
#[derive(Debug, Deserialize)]
struct Tenant {
    sub: String,
    tenant: String,
}

fn router(guard: Guard) -> Router {
    Router::new()
        .route(
            "/claims",
            get(|Claims(c): Claims<AccessClaims>| async move { c.sub }),
        )
        .route(
            "/default-claims",
            get(|Claims(c): Claims| async move { c.jti }),
        )
        .route(
            "/tenant",
            get(|Claims(t): Claims<Tenant>| async move { format!("{}@{}", t.sub, t.tenant) }),
        )
        .route(
            "/admin",
            get(|p: RequireRole<Admin>| async move { p.subject().to_owned() }),
        )
        .route(
            "/reports",
            get(|p: RequirePermission<ReadReports>| async move { p.token_id().to_owned() }),
        )
        .route(
            "/maybe",
            get(|p: Option<Principal>| async move {
                p.map_or("anonymous".to_owned(), |p| p.subject().to_owned())
            }),
        )
        .with_state(guard)
}

#[tokio::test]
async fn a_valid_token_hands_its_claims_to_the_handler() {
    let key = key("k1");
    let (guard, _) = guard(&key);
    let token = token(&key, &claims("t1", &["user"]));
    for (path, expected) in [
        ("/claims", "0193a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b"),
        ("/default-claims", "t1"),
    ] {
        let response = router(guard.clone())
            .oneshot(request(path, Some(&bearer(&token))))
            .await
            .unwrap();
        let (status, _, body) = read(response).await;
        assert_eq!((status, body.as_str()), (200, Some(expected)), "{path}");
    }
}

#[tokio::test]
async fn claims_of_the_services_own_are_read_from_the_verified_token() {
    let key = key("k1");
    let (guard, _) = guard(&key);
    let mut c = claims("t1", &["user"]);
    c["tenant"] = "acme".into();
    let response = router(guard)
        .oneshot(request("/tenant", Some(&bearer(&token(&key, &c)))))
        .await
        .unwrap();
    let (status, _, body) = read(response).await;
    assert_eq!(status, 200);
    assert_eq!(body, "0193a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b@acme");
}

#[tokio::test]
async fn a_token_without_the_services_own_claims_is_refused() {
    let key = key("k1");
    let (guard, _) = guard(&key);
    let response = router(guard)
        .oneshot(request(
            "/tenant",
            Some(&bearer(&token(&key, &claims("t1", &[])))),
        ))
        .await
        .unwrap();
    let (status, challenge, body) = read(response).await;
    assert_eq!(status, 401);
    assert_eq!(challenge.as_deref(), Some(INVALID_TOKEN));
    assert_eq!(body["error"], "invalid_token");
}

#[tokio::test]
async fn no_credentials_get_401_with_a_bare_challenge_and_the_api_body() {
    let key = key("k1");
    let (guard, _) = guard(&key);
    let response = router(guard)
        .oneshot(request("/claims", None))
        .await
        .unwrap();
    let (status, challenge, body) = read(response).await;
    assert_eq!(status, 401);
    assert_eq!(challenge.as_deref(), Some(BARE));
    assert_eq!(
        body,
        serde_json::json!({"error": "invalid_token", "error_description": "Authentication is required."})
    );
}

#[tokio::test]
async fn forged_expired_and_malformed_tokens_get_401_invalid_token() {
    let key = key("k1");
    let (guard, clock) = guard(&key);
    let forger = crate::support::key("k1");
    let forged = token(&forger, &claims("t1", &["admin"]));
    let good = token(&key, &claims("t2", &["user"]));
    for header in [
        bearer(&forged),
        "Bearer not.a.jwt".to_owned(),
        "Bearer  two-spaces".to_owned(),
        format!("Bearer {}", "a".repeat(9000)),
    ] {
        let response = router(guard.clone())
            .oneshot(request("/claims", Some(&header)))
            .await
            .unwrap();
        let (status, challenge, body) = read(response).await;
        assert_eq!(status, 401, "{}", &header[..20]);
        assert_eq!(challenge.as_deref(), Some(INVALID_TOKEN));
        assert_eq!(body["error"], "invalid_token");
    }
    clock.advance(time::Duration::seconds(900 + 60));
    let response = router(guard)
        .oneshot(request("/claims", Some(&bearer(&good))))
        .await
        .unwrap();
    assert_eq!(read(response).await.0, 401, "expired");
}

#[tokio::test]
async fn a_missing_role_is_403_insufficient_scope() {
    let key = key("k1");
    let (guard, _) = guard(&key);
    let user = token(&key, &claims("t1", &["user", "analyst"]));
    let response = router(guard.clone())
        .oneshot(request("/admin", Some(&bearer(&user))))
        .await
        .unwrap();
    let (status, challenge, body) = read(response).await;
    assert_eq!(status, 403);
    assert_eq!(challenge.as_deref(), Some(INSUFFICIENT));
    assert_eq!(body["error"], "insufficient_scope");

    let admin = token(&key, &claims("t2", &["admin"]));
    let response = router(guard)
        .oneshot(request("/admin", Some(&bearer(&admin))))
        .await
        .unwrap();
    assert_eq!(read(response).await.0, 200);
}

#[tokio::test]
async fn a_permission_is_granted_by_a_mapped_role_or_admin_and_nothing_else() {
    let key = key("k1");
    let (guard, _) = guard(&key);
    for (roles, expected) in [
        (&["analyst"][..], 200),
        (&["admin"][..], 200),
        (&["user"][..], 403),
        (&[][..], 403),
    ] {
        let token = token(&key, &claims("t", roles));
        let response = router(guard.clone())
            .oneshot(request("/reports", Some(&bearer(&token))))
            .await
            .unwrap();
        let (status, challenge, _) = read(response).await;
        assert_eq!(status, expected, "{roles:?}");
        if expected == 403 {
            assert_eq!(challenge.as_deref(), Some(INSUFFICIENT));
        }
    }
}

#[tokio::test]
async fn optional_authentication_is_anonymous_without_a_header_but_never_with_a_bad_one() {
    let key = key("k1");
    let (guard, _) = guard(&key);
    let response = router(guard.clone())
        .oneshot(request("/maybe", None))
        .await
        .unwrap();
    assert_eq!(read(response).await, (200, None, "anonymous".into()));
    let response = router(guard.clone())
        .oneshot(request("/maybe", Some("Bearer garbage")))
        .await
        .unwrap();
    assert_eq!(read(response).await.0, 401);
    let good = token(&key, &claims("t1", &[]));
    let response = router(guard)
        .oneshot(request("/maybe", Some(&bearer(&good))))
        .await
        .unwrap();
    assert_eq!(
        read(response).await.2,
        "0193a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b"
    );
}
