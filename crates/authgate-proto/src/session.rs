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

/// Query string of `GET /auth/sessions?limit=&cursor=`.
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsQuery {
    /// How many sessions to return; defaults to 50
    /// ([`SessionsQuery::DEFAULT_LIMIT`]), at most 200
    /// ([`SessionsQuery::MAX_LIMIT`]): larger values are lowered to it, as
    /// `GET /admin/users` does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page (opaque); absent for the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

impl SessionsQuery {
    /// The page size when `limit` is absent.
    pub const DEFAULT_LIMIT: u32 = 50;
    /// The largest page size served; larger limits are lowered to it.
    pub const MAX_LIMIT: u32 = 200;

    /// The page size to use: `limit` (or the default) kept within
    /// `1..=MAX_LIMIT`.
    pub fn effective_limit(&self) -> u32 {
        self.limit
            .unwrap_or(Self::DEFAULT_LIMIT)
            .clamp(1, Self::MAX_LIMIT)
    }
}

/// Response of `GET /auth/sessions`: one page of the caller's sessions.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsResponse {
    /// The caller's active (unrevoked, unexpired) sessions on this page,
    /// newest first.
    pub sessions: Vec<SessionInfo>,
    /// The cursor to pass as `cursor` for the next page; `null` on the last.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub next_cursor: Option<String>,
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
        ], "next_cursor": null});
        let sessions: SessionsResponse = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(sessions.sessions[0].ip, Some(IpAddr::from([127, 0, 0, 1])));
        assert_eq!(sessions.sessions[1].user_agent, None);
        assert_eq!(serde_json::to_value(&sessions).unwrap(), text);
    }

    #[test]
    fn the_sessions_page_size_defaults_to_50_and_is_capped_at_200() {
        let query = |limit| SessionsQuery {
            limit,
            ..SessionsQuery::default()
        };
        assert_eq!(query(None).effective_limit(), 50);
        assert_eq!(query(Some(0)).effective_limit(), 1);
        assert_eq!(query(Some(7)).effective_limit(), 7);
        assert_eq!(query(Some(10_000)).effective_limit(), 200);
    }

    #[test]
    fn a_session_id_that_is_not_a_uuid_is_rejected() {
        let text = json!({"id": "s1", "created_at": "2026-11-22T10:00:00Z",
                          "expires_at": "2026-12-22T10:00:00Z"});
        assert!(serde_json::from_value::<CurrentSession>(text).is_err());
    }
}
