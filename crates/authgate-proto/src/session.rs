//! The caller's own sessions: `GET /me` and `GET /auth/sessions`.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::user::PublicUser;

/// Response of `GET /me`: the caller as a [`PublicUser`] (its fields at the
/// top level) plus the session their access token belongs to.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeResponse {
    /// The caller; flattened, so `id`, `email`, … sit beside `session`.
    #[serde(flatten)]
    pub user: PublicUser,
    /// The session (`sid`) of the access token that made the request.
    pub session: CurrentSession,
}

/// The session of the token that called `GET /me`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentSession {
    /// The session id, the `sid` claim of its tokens.
    pub id: Uuid,
    /// When the session started (the login), as RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the session ends unless refreshed on, as RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// One of the caller's active sessions, in `GET /auth/sessions`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The session id; `DELETE /auth/sessions/{id}` revokes it.
    pub id: Uuid,
    /// When the session started (the login).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the session was last refreshed, so users can spot stale ones.
    #[serde(with = "time::serde::rfc3339")]
    pub last_used_at: OffsetDateTime,
    /// When the session ends unless refreshed on.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The `User-Agent` of the login, to recognise the device; `null` when
    /// none was sent.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub user_agent: Option<String>,
    /// The client address of the login; `null` when unknown.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, required = true, example = "127.0.0.1"))]
    pub ip: Option<IpAddr>,
    /// `true` for the session of the token making this request.
    pub current: bool,
}

/// Response of `GET /auth/sessions`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsResponse {
    /// The caller's active (unrevoked, unexpired) sessions.
    pub sessions: Vec<SessionInfo>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::tests::{alice, alice_json};
    use serde_json::json;
    use time::macros::datetime;
    use uuid::uuid;

    const SID: Uuid = uuid!("0193a5b2-8000-7000-8000-000000000001");

    #[test]
    fn me_response_puts_user_fields_beside_session() {
        let mut text = alice_json();
        text["session"] = json!({"id": SID.to_string(), "created_at": "2026-11-22T10:00:00Z",
                                 "expires_at": "2026-12-22T10:00:00Z"});
        let me: MeResponse = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(me.user, alice());
        assert_eq!(me.session.id, SID);
        assert_eq!(me.session.expires_at, datetime!(2026-12-22 10:00:00 UTC));
        assert_eq!(serde_json::to_value(&me).unwrap(), text);
    }

    #[test]
    fn sessions_response_round_trips_with_unknown_agent_and_ip() {
        let text = json!({"sessions": [
            {"id": SID.to_string(), "created_at": "2026-11-22T10:00:00Z",
             "last_used_at": "2026-11-22T10:05:00.5Z", "expires_at": "2026-12-22T10:00:00Z",
             "user_agent": "curl/8.0", "ip": "127.0.0.1", "current": true},
            {"id": SID.to_string(), "created_at": "2026-11-22T10:00:00Z",
             "last_used_at": "2026-11-22T10:00:00Z", "expires_at": "2026-12-22T10:00:00Z",
             "user_agent": null, "ip": null, "current": false}
        ]});
        let sessions: SessionsResponse = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(sessions.sessions[0].ip, Some(IpAddr::from([127, 0, 0, 1])));
        assert_eq!(sessions.sessions[1].user_agent, None);
        assert_eq!(serde_json::to_value(&sessions).unwrap(), text);
    }

    #[test]
    fn a_session_id_that_is_not_a_uuid_is_rejected() {
        let text = json!({"id": "s1", "created_at": "2026-11-22T10:00:00Z",
                          "expires_at": "2026-12-22T10:00:00Z"});
        assert!(serde_json::from_value::<CurrentSession>(text).is_err());
    }
}
