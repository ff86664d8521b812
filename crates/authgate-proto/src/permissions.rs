//! [`Permissions`]: which permissions each role grants, the policy that
//! turns a token's `roles` into what its bearer may do.
//!
//! Pure data, shared here so that authgate-core can own the role rules
//! (grant only what you hold, how far a revocation reaches) and the guard
//! can check routes with the same map (it re-exports this module's types).

use std::collections::{BTreeMap, BTreeSet};

/// The role that holds every permission, whatever the map says.
pub const ADMIN_ROLE: &str = "admin";

/// The permissions authgate's own administration checks (docs/http-api.md,
/// "Administration"), named once here so the core services, the API's
/// handlers and the admin pages check the same names.
pub mod names {
    /// The dashboard.
    pub const ADMIN_READ: &str = "admin:read";
    /// List and read users.
    pub const USERS_READ: &str = "users:read";
    /// Change roles, disable and enable users.
    pub const USERS_WRITE: &str = "users:write";
    /// Query the audit trail.
    pub const AUDIT_READ: &str = "audit:read";
    /// List signing keys.
    pub const KEYS_READ: &str = "keys:read";
    /// Rotate signing keys.
    pub const KEYS_WRITE: &str = "keys:write";
    /// Create service clients.
    pub const CLIENTS_WRITE: &str = "clients:write";
    /// List OpenID Connect relying parties.
    pub const CLIENTS_READ: &str = "clients:read";
}

/// Role → permissions, as configured (`[roles]` in authgate's configuration).
///
/// Tokens carry role names, not permissions, so that changing what a role
/// may do needs no new tokens; routes check a permission, never a role name,
/// so that a new role (`support`) can be given part of the admin's powers
/// without touching code. The role [`ADMIN_ROLE`] holds every permission,
/// including ones no map mentions. An unknown role grants nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions {
    /// Role name → the permissions it grants.
    by_role: BTreeMap<String, BTreeSet<String>>,
}

impl Permissions {
    /// A map from role names to the permissions each grants. An entry for
    /// [`ADMIN_ROLE`] is allowed but changes nothing: admin holds all.
    pub fn new<R, P, I>(roles: impl IntoIterator<Item = (R, I)>) -> Self
    where
        R: Into<String>,
        P: Into<String>,
        I: IntoIterator<Item = P>,
    {
        let by_role = roles
            .into_iter()
            .map(|(role, perms)| (role.into(), perms.into_iter().map(Into::into).collect()))
            .collect();
        Self { by_role }
    }

    /// Whether a subject holding `roles` has `permission`.
    pub fn allows<S: AsRef<str>>(&self, roles: &[S], permission: &str) -> bool {
        roles.iter().any(|role| {
            let role = role.as_ref();
            role == ADMIN_ROLE
                || self
                    .by_role
                    .get(role)
                    .is_some_and(|perms| perms.contains(permission))
        })
    }

    /// Whether a subject holding `holder` has every permission that `roles`
    /// grant: what it takes to hand `roles` to someone else, or to change
    /// an account that holds them, without gaining powers one lacks.
    ///
    /// Without this, anyone who may set roles could give themselves
    /// [`ADMIN_ROLE`]. So [`ADMIN_ROLE`] is within reach of admins only, and
    /// an unknown role (which grants nothing) is within everyone's.
    pub fn grants_within<S: AsRef<str>, R: AsRef<str>>(&self, holder: &[S], roles: &[R]) -> bool {
        if holder.iter().any(|role| role.as_ref() == ADMIN_ROLE) {
            return true;
        }
        roles.iter().all(|role| {
            let role = role.as_ref();
            role != ADMIN_ROLE
                && self.by_role.get(role).is_none_or(|perms| {
                    perms
                        .iter()
                        .all(|permission| self.allows(holder, permission))
                })
        })
    }

    /// Whether `role` is known: [`ADMIN_ROLE`] or a role of the map.
    pub fn is_known_role(&self, role: &str) -> bool {
        role == ADMIN_ROLE || self.by_role.contains_key(role)
    }

    /// The known role names: [`ADMIN_ROLE`] first, then the map's roles sorted.
    pub fn roles(&self) -> impl Iterator<Item = &str> {
        let admin = (!self.by_role.contains_key(ADMIN_ROLE)).then_some(ADMIN_ROLE);
        admin
            .into_iter()
            .chain(self.by_role.keys().map(String::as_str))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> Permissions {
        Permissions::new([
            ("user", vec![]),
            ("support", vec!["users:read", "audit:read"]),
        ])
    }

    #[test]
    fn a_role_grants_exactly_its_permissions() {
        let p = map();
        assert!(p.allows(&["support"], "users:read"));
        assert!(p.allows(&["support"], "audit:read"));
        assert!(!p.allows(&["support"], "users:write"));
        assert!(!p.allows(&["user"], "users:read"));
    }

    #[test]
    fn admin_holds_every_permission_even_unmapped_ones() {
        let p = map();
        assert!(p.allows(&["admin"], "keys:write"));
        assert!(p.allows(&["admin"], "orders:cancel"));
        let narrowed = Permissions::new([("admin", Vec::<String>::new())]);
        assert!(narrowed.allows(&["admin"], "users:write"));
    }

    #[test]
    fn unknown_roles_and_no_roles_grant_nothing() {
        let p = map();
        assert!(!p.allows(&["root"], "users:read"));
        assert!(!p.allows::<&str>(&[], "users:read"));
        assert!(
            !p.allows(&["Admin"], "users:read"),
            "role names are case-sensitive"
        );
    }

    #[test]
    fn any_of_several_roles_suffices() {
        assert!(map().allows(&["user", "support"], "audit:read"));
    }

    #[test]
    fn roles_are_within_reach_only_of_who_holds_all_they_grant() {
        let p = Permissions::new([
            ("user", vec![]),
            ("support", vec!["users:read", "users:write"]),
            ("reader", vec!["users:read"]),
            ("auditor", vec!["audit:read"]),
        ]);
        assert!(p.grants_within(&["support"], &["reader", "user", "support"]));
        assert!(p.grants_within(&["support"], &["unknown-role"]));
        assert!(!p.grants_within(&["support"], &["admin"]));
        assert!(!p.grants_within(&["support"], &["auditor"]));
        assert!(!p.grants_within(&["support"], &["reader", "auditor"]));
        assert!(p.grants_within(&["support", "auditor"], &["auditor"]));
        assert!(p.grants_within(&["admin"], &["admin", "auditor"]));
        assert!(!p.grants_within::<&str, &str>(&[], &["reader"]));
        assert!(p.grants_within::<&str, &str>(&[], &[]));
    }

    #[test]
    fn known_roles_include_admin() {
        let p = map();
        assert!(p.is_known_role("admin"));
        assert!(p.is_known_role("support"));
        assert!(!p.is_known_role("root"));
        assert_eq!(p.roles().collect::<Vec<_>>(), ["admin", "support", "user"]);
    }
}
