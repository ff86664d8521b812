//! A user as the API shows it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// A user as every endpoint returns it: never a password hash or any other
/// secret, only what the user and admins may see.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicUser {
    /// The user's id (UUID v7); it is the `sub` of every token they hold.
    pub id: Uuid,
    /// The email, stored lower-cased and trimmed; unique.
    pub email: String,
    /// The username, lower-cased and unique; `null` when the user
    /// registered without one (the field is always present).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub username: Option<String>,
    /// The display name; `null` when none was given (always present).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub name: Option<String>,
    /// The user's roles (e.g. `["user"]`); permissions follow from them.
    pub roles: Vec<String>,
    /// `false` once an admin disabled the account: it can no longer log in.
    pub is_active: bool,
    /// Whether the user proved they receive mail at `email` (a
    /// verification link). Absent in the JSON of servers that predate it,
    /// read as `false`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub email_verified: bool,
    /// When the user registered, as RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::{Value, json};
    use time::macros::datetime;
    use uuid::uuid;

    /// The user of docs/http-api.md's `PublicUser` example, shared by other tests.
    pub(crate) fn alice() -> PublicUser {
        PublicUser {
            id: uuid!("0193a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b"),
            email: "alice@example.com".into(),
            username: Some("alice".into()),
            name: Some("Alice".into()),
            roles: vec!["user".into()],
            is_active: true,
            email_verified: true,
            created_at: datetime!(2026-11-22 10:00:00 UTC),
        }
    }

    /// docs/http-api.md's `PublicUser` example as JSON.
    pub(crate) fn alice_json() -> Value {
        json!({"id": "0193a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b", "email": "alice@example.com",
               "username": "alice", "name": "Alice",
               "roles": ["user"], "is_active": true, "email_verified": true,
               "created_at": "2026-11-22T10:00:00Z"})
    }

    #[test]
    fn api_md_public_user_example_round_trips() {
        let user: PublicUser = serde_json::from_value(alice_json()).unwrap();
        assert_eq!(user, alice());
        assert_eq!(serde_json::to_value(&user).unwrap(), alice_json());
    }

    #[test]
    fn created_at_is_written_in_utc_with_a_z() {
        let text = serde_json::to_string(&alice()).unwrap();
        assert!(
            text.contains(r#""created_at":"2026-11-22T10:00:00Z""#),
            "{text}"
        );
    }

    #[test]
    fn a_user_without_username_or_name_has_them_as_null() {
        let user = PublicUser {
            username: None,
            name: None,
            ..alice()
        };
        let value = serde_json::to_value(&user).unwrap();
        assert_eq!(value["username"], Value::Null);
        assert_eq!(value["name"], Value::Null);
        assert!(value.as_object().unwrap().contains_key("username"));
        let back: PublicUser = serde_json::from_value(value).unwrap();
        assert_eq!(back, user);
    }

    #[test]
    fn a_created_at_that_is_not_rfc3339_is_rejected() {
        let mut value = alice_json();
        value["created_at"] = json!("22/11/2026 10:00");
        assert!(serde_json::from_value::<PublicUser>(value).is_err());
    }

    #[test]
    fn a_user_with_an_unknown_extra_field_is_accepted() {
        let mut value = alice_json();
        value["avatar_url"] = json!("https://example.com/a.png");
        let user: PublicUser = serde_json::from_value(value).unwrap();
        assert_eq!(user, alice());
    }
}
