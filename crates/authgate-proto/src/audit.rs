//! Audit events as `GET /admin/audit` and the audit sinks write them.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// One thing that happened, for `GET /admin/audit` and the audit sinks.
///
/// `details` never holds a password, token or secret.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// The event's id (UUID v7, so ids sort by time).
    pub id: Uuid,
    /// When it happened, as RFC 3339 (millisecond precision).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What happened, e.g. `login.failed`.
    pub kind: AuditKind,
    /// The user the event is about; left out when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    /// Who caused it when that is someone else: an admin's user id or a
    /// client id, hence a string; left out when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<String>,
    /// The service client involved; left out when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The session involved; left out when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Uuid>,
    /// The client address of the request; `null` when there was none (an
    /// admin command run on the stores directly).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, required = true, example = "127.0.0.1"))]
    pub ip: Option<IpAddr>,
    /// The `User-Agent` of the request; `null` when there was none.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub user_agent: Option<String>,
    /// Event-specific facts, e.g. `{"reason": "bad_password"}`; empty when
    /// there are none.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// The `kind` of an audit event, a dotted name like `login.failed`.
///
/// The set is open (docs/http-api.md lists the kinds there are "at least"), so this is
/// a string with constants for the known kinds rather than an enum.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AuditKind(Cow<'static, str>);

impl AuditKind {
    /// A user registered.
    pub const USER_REGISTERED: Self = Self::from_static("user.registered");
    /// A login succeeded.
    pub const LOGIN_SUCCEEDED: Self = Self::from_static("login.succeeded");
    /// A login failed.
    pub const LOGIN_FAILED: Self = Self::from_static("login.failed");
    /// A login attempt was refused by the rate limiter.
    pub const LOGIN_RATE_LIMITED: Self = Self::from_static("login.rate_limited");
    /// A refresh token was traded for new tokens.
    pub const TOKEN_REFRESHED: Self = Self::from_static("token.refreshed");
    /// A rotated refresh token was presented again; the session was revoked.
    pub const REFRESH_REUSE_DETECTED: Self = Self::from_static("refresh.reuse_detected");
    /// A session was revoked.
    pub const SESSION_REVOKED: Self = Self::from_static("session.revoked");
    /// A user logged out.
    pub const LOGOUT: Self = Self::from_static("logout");
    /// A user's roles were changed.
    pub const USER_ROLES_CHANGED: Self = Self::from_static("user.roles_changed");
    /// A user was disabled.
    pub const USER_DISABLED: Self = Self::from_static("user.disabled");
    /// A user was enabled.
    pub const USER_ENABLED: Self = Self::from_static("user.enabled");
    /// The signing keys were rotated.
    pub const KEY_ROTATED: Self = Self::from_static("key.rotated");
    /// A service client was created.
    pub const CLIENT_CREATED: Self = Self::from_static("client.created");
    /// A token was introspected.
    pub const TOKEN_INTROSPECTED: Self = Self::from_static("token.introspected");
    /// A service client was deleted.
    pub const CLIENT_DELETED: Self = Self::from_static("client.deleted");
    /// A service client was disabled (it keeps its record and secret).
    pub const CLIENT_DISABLED: Self = Self::from_static("client.disabled");
    /// A disabled service client was enabled again.
    pub const CLIENT_ENABLED: Self = Self::from_static("client.enabled");
    /// A user changed their own password (the secret is never recorded).
    pub const PASSWORD_CHANGE: Self = Self::from_static("password.change");

    /// A kind from a fixed name, usable in `const`s.
    pub const fn from_static(kind: &'static str) -> Self {
        Self(Cow::Borrowed(kind))
    }

    /// A kind from any name.
    pub fn new(kind: impl Into<String>) -> Self {
        Self(Cow::Owned(kind.into()))
    }

    /// The kind's name, e.g. `"login.failed"`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AuditKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Query string of `GET /admin/audit?user_id=&kind=&since=&limit=`.
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Only events about this user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    /// Only events of this kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<AuditKind>,
    /// Only events at or after this time (RFC 3339).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub since: Option<OffsetDateTime>,
    /// At most this many events; the server picks the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl AuditQuery {
    /// The number of events returned when `limit` is absent.
    pub const DEFAULT_LIMIT: u32 = 100;
    /// The most events returned at once; larger limits are lowered to it.
    pub const MAX_LIMIT: u32 = 1000;

    /// The number of events to return: `limit` (or the default) kept
    /// within `1..=MAX_LIMIT`.
    pub fn effective_limit(&self) -> u32 {
        self.limit
            .unwrap_or(Self::DEFAULT_LIMIT)
            .clamp(1, Self::MAX_LIMIT)
    }
}

/// Response of `GET /admin/audit`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditResponse {
    /// The matching events, newest first.
    pub events: Vec<AuditEvent>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use time::macros::datetime;

    #[test]
    fn audit_limits_default_to_100_and_stay_within_1_to_1000() {
        let query = |limit| AuditQuery {
            limit,
            ..AuditQuery::default()
        };
        assert_eq!(query(None).effective_limit(), 100);
        assert_eq!(query(Some(5000)).effective_limit(), 1000);
        assert_eq!(query(Some(0)).effective_limit(), 1);
    }
    use uuid::uuid;

    fn example_json() -> Value {
        json!({"id": "0193a5b2-a000-7000-8000-000000000001",
               "at": "2026-11-22T10:00:00.123Z", "kind": "login.failed",
               "user_id": "0193a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b",
               "ip": "127.0.0.1", "user_agent": "curl/8.0",
               "details": {"reason": "bad_password"}})
    }

    #[test]
    fn api_md_audit_event_example_round_trips() {
        let event: AuditEvent = serde_json::from_value(example_json()).unwrap();
        assert_eq!(event.kind, AuditKind::LOGIN_FAILED);
        assert_eq!(event.at, datetime!(2026-11-22 10:00:00.123 UTC));
        assert_eq!(
            event.user_id,
            Some(uuid!("0193a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b"))
        );
        assert_eq!(event.actor_id, None);
        assert_eq!(event.details["reason"], json!("bad_password"));
        assert_eq!(serde_json::to_value(&event).unwrap(), example_json());
    }

    #[test]
    fn absent_ids_are_left_out_but_ip_and_agent_are_null() {
        let event = AuditEvent {
            id: uuid!("0193a5b2-a000-7000-8000-000000000002"),
            at: datetime!(2026-11-22 10:00:00 UTC),
            kind: AuditKind::KEY_ROTATED,
            user_id: None,
            actor_id: None,
            client_id: None,
            session_id: None,
            ip: None,
            user_agent: None,
            details: serde_json::Map::new(),
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({"id": "0193a5b2-a000-7000-8000-000000000002",
                   "at": "2026-11-22T10:00:00Z", "kind": "key.rotated",
                   "ip": null, "user_agent": null, "details": {}})
        );
    }

    #[test]
    fn an_unlisted_kind_is_accepted() {
        let mut text = example_json();
        text["kind"] = json!("password.changed");
        let event: AuditEvent = serde_json::from_value(text).unwrap();
        assert_eq!(event.kind, AuditKind::new("password.changed"));
        assert_eq!(event.kind.as_str(), "password.changed");
    }

    #[test]
    fn audit_query_round_trips() {
        let text = json!({"user_id": "0193a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b",
                          "kind": "logout", "since": "2026-11-22T00:00:00Z", "limit": 10});
        let query: AuditQuery = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(query.kind, Some(AuditKind::LOGOUT));
        assert_eq!(serde_json::to_value(&query).unwrap(), text);
        assert_eq!(
            serde_json::to_value(AuditQuery::default()).unwrap(),
            json!({})
        );
    }

    #[test]
    fn audit_response_wraps_events() {
        let text = json!({"events": [example_json()]});
        let response: AuditResponse = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(response.events.len(), 1);
        assert_eq!(serde_json::to_value(&response).unwrap(), text);
    }
}
