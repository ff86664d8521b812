//! Administration (`/admin/*`): dashboard, users, keys, service clients.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::redact::REDACTED;
use crate::user::PublicUser;

/// Response of `GET /admin/dashboard`: a few counters for the overview page.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardResponse {
    /// Registered users, active or not.
    pub total_users: u64,
    /// Sessions neither revoked nor expired.
    pub active_sessions: u64,
    /// Signing keys that still verify tokens (next, active and retired).
    pub active_keys: u64,
    /// Failed login attempts in the last 24 hours.
    pub failed_logins_24h: u64,
}

/// Query string of `GET /admin/users?limit=&after=&q=`.
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersQuery {
    /// How many users to return; defaults to 50
    /// ([`UsersQuery::DEFAULT_LIMIT`]), at most 200 ([`UsersQuery::MAX_LIMIT`]):
    /// larger values are lowered to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page; absent for the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// A case-insensitive prefix of the email or username to filter by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
}

impl UsersQuery {
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

/// Response of `GET /admin/users`: one page of users.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersPage {
    /// The users of this page.
    pub users: Vec<PublicUser>,
    /// The cursor to pass as `after` for the next page; `null` on the last.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub next: Option<String>,
}

/// Body of `PUT /admin/users/{id}/roles`: the user's new roles, replacing
/// the old ones.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetRolesRequest {
    /// The complete set of roles; an unknown role is 400.
    pub roles: Vec<String>,
}

/// Where a signing key is in its life: `next → active → retired → expired`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum KeyState {
    /// Published in JWKS ahead of time, not signing yet.
    Next,
    /// The key that signs new tokens.
    Active,
    /// Signs nothing, still verifies tokens it signed until they expire.
    Retired,
    /// Verifies nothing; gone from JWKS.
    Expired,
}

/// Which tokens a signing key signs. Each lane has its own
/// `next → active → retired → expired` cycle on the same schedule.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum KeyLane {
    /// Access tokens, in the configured algorithm (`[keys] algorithm`).
    #[default]
    Access,
    /// OpenID Connect ID tokens, always RS256 (present when `[oidc]` is enabled).
    IdToken,
}

impl KeyLane {
    /// The name stored and shown (`access`, `id_token`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::IdToken => "id_token",
        }
    }
}

/// A signing key as admins see it: never key material.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// The key id, the `kid` of the token headers it signs.
    pub kid: String,
    /// The JWS algorithm, e.g. `"EdDSA"`.
    pub alg: String,
    /// Where the key is in its life.
    pub state: KeyState,
    /// Which tokens it signs. Defaults to `access` when absent.
    #[serde(default)]
    pub lane: KeyLane,
    /// When the key was created; `null` if unknown (docs/http-api.md allows any of
    /// the dates to be null).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub created_at: Option<OffsetDateTime>,
    /// When the key started, or will start, signing; `null` if not planned.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub activates_at: Option<OffsetDateTime>,
    /// When the key stopped, or will stop, signing; `null` if not planned.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub retires_at: Option<OffsetDateTime>,
    /// When the key stops verifying and leaves JWKS; `null` if not planned.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub expires_at: Option<OffsetDateTime>,
}

/// Response of `GET /admin/keys`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeysResponse {
    /// Every key the server knows, in any state.
    pub keys: Vec<KeyInfo>,
}

/// Response of `POST /admin/keys/rotate`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotateKeysResponse {
    /// The key that now signs (the former `next`).
    pub active: KeyInfo,
    /// The freshly created key waiting to become active.
    pub next: KeyInfo,
}

/// Body of `POST /admin/clients`: a new service client.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateClientRequest {
    /// A name for people to recognise the client by.
    pub name: String,
    /// The roles its tokens carry. Defaults to none.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// Response of `POST /admin/clients` (201). The secret is shown only this
/// once; `Debug` hides it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateClientResponse {
    /// The client's id: its `sub` and `client_id` claim.
    pub client_id: String,
    /// The client's secret, for HTTP Basic or the `client_secret` field.
    pub client_secret: String,
}

impl fmt::Debug for CreateClientResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateClientResponse")
            .field("client_id", &self.client_id)
            .field("client_secret", &REDACTED)
            .finish()
    }
}

/// A service client as `POST /admin/clients/{id}/disable` and `/enable`
/// return it: never its secret or the secret's hash.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceClientInfo {
    /// The client's id: its `sub` and `client_id` claim.
    pub client_id: String,
    /// The name people recognise it by.
    pub name: String,
    /// The roles its tokens carry.
    pub roles: Vec<String>,
    /// `false` once an admin disabled it: it gets no tokens and its tokens
    /// are refused until it is enabled again.
    pub is_active: bool,
    /// When it was created, as RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::tests::{alice, alice_json};
    use serde_json::json;
    use time::macros::datetime;

    #[test]
    fn dashboard_round_trips() {
        let text = json!({"total_users": 3, "active_sessions": 2, "active_keys": 2,
                          "failed_logins_24h": 7});
        let dashboard: DashboardResponse = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(dashboard.failed_logins_24h, 7);
        assert_eq!(serde_json::to_value(&dashboard).unwrap(), text);
    }

    #[test]
    fn the_last_users_page_has_next_null() {
        let page = UsersPage {
            users: vec![alice()],
            next: None,
        };
        let text = json!({"users": [alice_json()], "next": null});
        assert_eq!(serde_json::to_value(&page).unwrap(), text);
        assert_eq!(serde_json::from_value::<UsersPage>(text).unwrap(), page);
    }

    #[test]
    fn users_query_limit_defaults_to_50_and_is_capped_at_200() {
        let query = |limit| UsersQuery {
            limit,
            ..UsersQuery::default()
        };
        assert_eq!(query(None).effective_limit(), 50);
        assert_eq!(query(Some(10)).effective_limit(), 10);
        assert_eq!(query(Some(1000)).effective_limit(), 200);
        assert_eq!(query(Some(0)).effective_limit(), 1);
    }

    #[test]
    fn set_roles_request_round_trips() {
        let text = json!({"roles": ["user", "admin"]});
        let request: SetRolesRequest = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(serde_json::to_value(&request).unwrap(), text);
    }

    #[test]
    fn key_info_round_trips_with_null_dates_and_lowercase_state() {
        let text = json!({"kid": "k2", "alg": "EdDSA", "state": "next", "lane": "access",
                          "created_at": "2026-11-22T10:00:00Z",
                          "activates_at": "2026-11-23T10:00:00Z",
                          "retires_at": null, "expires_at": null});
        let key: KeyInfo = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(key.state, KeyState::Next);
        assert_eq!(key.activates_at, Some(datetime!(2026-11-23 10:00:00 UTC)));
        assert_eq!(key.retires_at, None);
        assert_eq!(serde_json::to_value(&key).unwrap(), text);
    }

    #[test]
    fn every_key_state_is_lowercase_on_the_wire() {
        for (state, name) in [
            (KeyState::Next, "next"),
            (KeyState::Active, "active"),
            (KeyState::Retired, "retired"),
            (KeyState::Expired, "expired"),
        ] {
            assert_eq!(serde_json::to_value(state).unwrap(), json!(name));
        }
        assert!(serde_json::from_value::<KeyState>(json!("Active")).is_err());
    }

    #[test]
    fn key_info_with_missing_dates_reads_them_as_null() {
        let key: KeyInfo =
            serde_json::from_value(json!({"kid": "k1", "alg": "ES256", "state": "expired"}))
                .unwrap();
        assert_eq!(key.created_at, None);
        assert_eq!(key.expires_at, None);
        assert_eq!(
            key.lane,
            KeyLane::Access,
            "keys listed before lanes sign access tokens"
        );
    }

    #[test]
    fn rotate_keys_response_has_active_and_next() {
        let key = |kid: &str, state| KeyInfo {
            kid: kid.into(),
            alg: "EdDSA".into(),
            state,
            lane: KeyLane::Access,
            created_at: Some(datetime!(2026-11-22 10:00:00 UTC)),
            activates_at: None,
            retires_at: None,
            expires_at: None,
        };
        let response = RotateKeysResponse {
            active: key("k1", KeyState::Active),
            next: key("k2", KeyState::Next),
        };
        let value = serde_json::to_value(&response).unwrap();
        assert_eq!(value["active"]["state"], json!("active"));
        assert_eq!(value["next"]["kid"], json!("k2"));
        assert_eq!(
            serde_json::from_value::<RotateKeysResponse>(value).unwrap(),
            response
        );
    }

    #[test]
    fn create_client_request_roles_default_to_empty() {
        let request: CreateClientRequest =
            serde_json::from_value(json!({"name": "billing"})).unwrap();
        assert!(request.roles.is_empty());
    }

    #[test]
    fn create_client_response_debug_hides_the_secret() {
        let response = CreateClientResponse {
            client_id: "svc_billing".into(),
            client_secret: "s3cr3t-s3cr3t".into(),
        };
        let debug = format!("{response:?}");
        assert!(!debug.contains("s3cr3t-s3cr3t"), "{debug}");
        assert!(debug.contains("svc_billing"), "{debug}");
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            json!({"client_id": "svc_billing", "client_secret": "s3cr3t-s3cr3t"})
        );
    }
}
