//! Test data built from the core types, at fixed times.

use authgate_core::{RefreshToken, Session, StoredKey, TokenHash, User};
use authgate_proto::KeyState;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// The start of every test's timeline (millisecond precision, like the service's clock).
pub(crate) const T0: OffsetDateTime = datetime!(2026-05-01 12:00:00.123 UTC);

/// `secs` seconds after [`T0`].
pub(crate) fn at(secs: i64) -> OffsetDateTime {
    T0 + Duration::seconds(secs)
}

/// An active user with the role `user`, registered at [`T0`].
pub(crate) fn user(email: &str, username: Option<&str>) -> User {
    User {
        id: Uuid::now_v7(),
        email: email.to_owned(),
        username: username.map(str::to_owned),
        name: Some(format!("Name of {email}")),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".to_owned(),
        roles: vec!["user".to_owned()],
        is_active: true,
        email_verified_at: None,
        created_at: T0,
        updated_at: T0,
    }
}

/// A session of `user_id` created at `start`, ending `ttl_secs` later.
pub(crate) fn session(user_id: Uuid, start: OffsetDateTime, ttl_secs: i64) -> Session {
    Session {
        id: Uuid::now_v7(),
        user_id,
        created_at: start,
        last_used_at: start,
        expires_at: start + Duration::seconds(ttl_secs),
        ip: Some("203.0.113.7".to_owned()),
        user_agent: Some("authgate-tests/1".to_owned()),
        audience: "authgate".to_owned(),
        revoked_at: None,
        client: None,
    }
}

/// An unused refresh token of `session`, the hash of `token`.
pub(crate) fn token(
    token: &str,
    session: &Session,
    generation: i64,
    issued_at: OffsetDateTime,
) -> RefreshToken {
    RefreshToken {
        hash: TokenHash::of(token),
        session_id: session.id,
        generation,
        issued_at,
        used_at: None,
        successor: None,
        successor_sealed: None,
        expires_at: session.expires_at,
    }
}

/// An active signing key created at `created_at`.
pub(crate) fn key(kid: &str, created_at: OffsetDateTime) -> StoredKey {
    StoredKey {
        kid: kid.to_owned(),
        alg: "EdDSA".to_owned(),
        state: KeyState::Active,
        lane: authgate_proto::KeyLane::Access,
        private_sealed: format!("sealed {kid}").into_bytes(),
        created_at,
        activates_at: Some(created_at),
        retires_at: None,
        expires_at: None,
    }
}
