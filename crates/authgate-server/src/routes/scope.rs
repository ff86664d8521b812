//! The `scope` of the client-credentials grant (RFC 6749 §3.3): which
//! scopes a service client may ask for, and what an answer it gets.
//!
//! A client's allowed scopes are the permissions its roles grant by the
//! `[roles]` map (`users:read`, …; `admin` holds every permission). A
//! request names a space-separated subset; the token carries it in its
//! `scope` claim (RFC 9068 §2.2.3) and introspection reports it. Without a
//! `scope` the default applies: everything the roles grant, which the token
//! says by carrying its roles and no `scope` claim (as before scopes).

use authgate_guard::Permissions;
use authgate_proto::ErrorCode;

use crate::error::ApiError;

/// The scope to grant for `requested` to a client holding `roles`: `None`
/// when none was asked for, else the requested scope as sent.
///
/// # Errors
/// 400 `invalid_scope` when `requested` is not space-separated scope
/// tokens (RFC 6749 §3.3: `%x21 / %x23-5B / %x5D-7E`, empty included) or
/// names a permission the roles do not grant.
pub(crate) fn granted(
    permissions: &Permissions,
    roles: &[String],
    requested: Option<&str>,
) -> Result<Option<String>, ApiError> {
    let Some(requested) = requested else {
        return Ok(None);
    };
    for token in requested.split(' ') {
        if !is_scope_token(token) {
            return Err(invalid_scope(
                "scope: space-separated scope tokens, one space between each.",
            ));
        }
        if !permissions.allows(roles, token) {
            return Err(invalid_scope(
                "scope: asks for more than the client's roles grant.",
            ));
        }
    }
    Ok(Some(requested.to_owned()))
}

/// RFC 6749 §3.3's `scope-token`: one or more of `%x21 / %x23-5B / %x5D-7E`.
fn is_scope_token(token: &str) -> bool {
    !token.is_empty()
        && token
            .bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

/// 400 `invalid_scope` (RFC 6749 §5.2).
fn invalid_scope(description: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidScope, description)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> Permissions {
        Permissions::new([("reader", vec!["users:read", "audit:read"])])
    }

    fn roles(names: &[&str]) -> Vec<String> {
        names.iter().map(|&r| r.to_owned()).collect()
    }

    #[test]
    fn a_subset_of_what_the_roles_grant_is_granted_as_asked() {
        let reader = roles(&["reader"]);
        assert_eq!(granted(&map(), &reader, None).unwrap(), None);
        assert_eq!(
            granted(&map(), &reader, Some("audit:read users:read")).unwrap(),
            Some("audit:read users:read".to_owned())
        );
        assert!(granted(&map(), &roles(&["admin"]), Some("users:write")).is_ok());
    }

    #[test]
    fn more_than_the_roles_grant_or_a_malformed_scope_is_invalid_scope() {
        let reader = roles(&["reader"]);
        for bad in [
            "users:write",
            "users:read users:write",
            "",
            " ",
            "a  b",
            "a\"b",
            "é",
        ] {
            assert!(granted(&map(), &reader, Some(bad)).is_err(), "{bad:?}");
        }
    }
}
