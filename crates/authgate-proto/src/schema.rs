//! OpenAPI schemas (feature `openapi`) for the types whose JSON is written
//! by hand-written serde code, so a derive would describe the Rust type
//! rather than the wire: each schema here says what serde actually writes
//! and reads. The other types derive `utoipa::ToSchema` where they are
//! defined.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::{Audience, AuditKind, GrantType, TokenType, TokenTypeHint};

/// A plain JSON string schema with a description.
fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

/// `grant_type`: the two grants the server supports. Any other string is
/// read too (as `GrantType::Other`) and answered with 400
/// `unsupported_grant_type`, so the enum lists what succeeds.
impl PartialSchema for GrantType {
    fn schema() -> RefOr<Schema> {
        string(
            "The OAuth 2.0 grant (RFC 6749 §4.4, §6). Other values are answered \
             with 400 `unsupported_grant_type`.",
        )
        .enum_values(Some(["client_credentials", "refresh_token"]))
        .into()
    }
}

impl ToSchema for GrantType {}

/// `token_type_hint`: only a hint, so any string is accepted.
impl PartialSchema for TokenTypeHint {
    fn schema() -> RefOr<Schema> {
        string(
            "What kind of token the caller thinks it is (RFC 7009 §2.1); only a \
             hint, any value is accepted.",
        )
        .examples(["access_token", "refresh_token"])
        .into()
    }
}

impl ToSchema for TokenTypeHint {}

/// `token_type`: always written as `"Bearer"` (read case-insensitively).
impl PartialSchema for TokenType {
    fn schema() -> RefOr<Schema> {
        string("The token type; authgate issues only Bearer tokens (RFC 6750).")
            .enum_values(Some(["Bearer"]))
            .into()
    }
}

impl ToSchema for TokenType {}

/// `aud`: one audience as a string, several as an array (RFC 7519 §4.1.3).
impl PartialSchema for Audience {
    fn schema() -> RefOr<Schema> {
        let one = ObjectBuilder::new().schema_type(Type::String);
        let many = ArrayBuilder::new()
            .items(ObjectBuilder::new().schema_type(Type::String))
            .min_items(Some(2));
        OneOfBuilder::new()
            .description(Some(
                "The audience(s) of the token: a string for one, an array for several.",
            ))
            .item(one)
            .item(many)
            .into()
    }
}

impl ToSchema for Audience {}

/// `kind`: an open set of dotted names, so a string with the known ones as
/// examples rather than an enum.
impl PartialSchema for AuditKind {
    fn schema() -> RefOr<Schema> {
        string(
            "What happened, a dotted name. The set is open; known kinds include \
             user.registered, login.succeeded, login.failed, login.rate_limited, \
             token.refreshed, refresh.reuse_detected, session.revoked, logout, \
             user.roles_changed, user.disabled, user.enabled, key.rotated, \
             client.created, token.introspected, token.revoked.",
        )
        .examples(["login.failed", "user.registered"])
        .into()
    }
}

impl ToSchema for AuditKind {}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use utoipa::PartialSchema;

    use crate::{Audience, GrantType, TokenType};

    fn json_of<T: PartialSchema>() -> Value {
        serde_json::to_value(T::schema()).unwrap()
    }

    #[test]
    fn grant_type_schema_lists_the_supported_grants() {
        let schema = json_of::<GrantType>();
        assert_eq!(schema["type"], "string");
        assert_eq!(
            schema["enum"],
            json!(["client_credentials", "refresh_token"])
        );
    }

    #[test]
    fn token_type_schema_is_the_string_bearer() {
        assert_eq!(json_of::<TokenType>()["enum"], json!(["Bearer"]));
    }

    #[test]
    fn audience_schema_is_a_string_or_an_array_of_strings() {
        let schema = json_of::<Audience>();
        let one_of = schema["oneOf"].as_array().unwrap();
        assert_eq!(one_of[0]["type"], "string");
        assert_eq!(one_of[1]["type"], "array");
        assert_eq!(one_of[1]["items"]["type"], "string");
    }

    #[test]
    fn public_user_dates_are_date_time_strings_and_nullable_fields_stay_required() {
        let schema = json_of::<crate::PublicUser>();
        let created_at = &schema["properties"]["created_at"];
        assert_eq!(created_at["type"], "string");
        assert_eq!(created_at["format"], "date-time");
        assert_eq!(schema["properties"]["id"]["format"], "uuid");
        assert_eq!(
            schema["properties"]["username"]["type"],
            json!(["string", "null"])
        );
        let required = schema["required"].as_array().unwrap();
        for field in [
            "id",
            "email",
            "username",
            "name",
            "roles",
            "is_active",
            "created_at",
        ] {
            assert!(required.contains(&json!(field)), "{field} in {required:?}");
        }
    }

    #[test]
    fn audit_event_time_is_a_date_time_and_details_an_object() {
        let schema = json_of::<crate::AuditEvent>();
        assert_eq!(schema["properties"]["at"]["format"], "date-time");
        assert_eq!(schema["properties"]["details"]["type"], "object");
        assert_eq!(
            schema["properties"]["kind"]["$ref"],
            "#/components/schemas/AuditKind"
        );
    }
}
