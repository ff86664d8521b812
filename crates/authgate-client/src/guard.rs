//! [`route_guard`]: which route to render, given who is logged in.

use crate::store::AuthStore;

/// A guard over `store` that sends unauthenticated visitors to `redirect_to`.
///
/// Every route is protected unless declared public; `redirect_to` is
/// always public, so it can never redirect to itself.
pub fn route_guard(store: &AuthStore, redirect_to: impl Into<String>) -> RouteGuard {
    RouteGuard {
        store: store.clone(),
        redirect_to: redirect_to.into(),
        public: Vec::new(),
        required_role: None,
    }
}

/// Maps a requested route to the route to render; see [`route_guard`].
///
/// Routes are compared by their path: a query (`?…`) or fragment (`#…`)
/// is ignored when matching. A public route ending in `/*` covers every
/// route below it (`/docs/*` covers `/docs` and `/docs/a/b`).
#[derive(Debug, Clone)]
pub struct RouteGuard {
    /// Whose authentication decides.
    store: AuthStore,
    /// Where visitors who may not see a route are sent (the login screen).
    redirect_to: String,
    /// Routes anyone may see. Defaults to none (besides `redirect_to`).
    public: Vec<String>,
    /// A role the user must hold for protected routes. Defaults to none.
    required_role: Option<String>,
}

impl RouteGuard {
    /// Adds routes that anyone may see, logged in or not.
    #[must_use]
    pub fn public_routes<I, S>(mut self, routes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.public.extend(routes.into_iter().map(Into::into));
        self
    }

    /// Requires a role for the protected routes: a logged-in user without
    /// it is sent to `redirect_to` too (to log in as someone who has it).
    #[must_use]
    pub fn require_role(mut self, role: impl Into<String>) -> Self {
        self.required_role = Some(role.into());
        self
    }

    /// The route to render when `requested` is asked for: `requested`
    /// itself if it is public or the user may see it, else `redirect_to`.
    pub fn resolve<'a>(&'a self, requested: &'a str) -> &'a str {
        if self.allows(requested) {
            requested
        } else {
            &self.redirect_to
        }
    }

    /// Whether `requested` may be rendered as it is.
    pub fn allows(&self, requested: &str) -> bool {
        let path = path_of(requested);
        if path == path_of(&self.redirect_to) || self.public.iter().any(|p| covers(p, path)) {
            return true;
        }
        let Some(role) = &self.required_role else {
            return self.store.is_authenticated();
        };
        self.store.is_authenticated()
            && self
                .store
                .user()
                .is_some_and(|user| user.roles.iter().any(|r| r == role))
    }
}

/// The path of a route, without query or fragment.
fn path_of(route: &str) -> &str {
    route.split(['?', '#']).next().unwrap_or(route)
}

/// Whether the public route `pattern` covers `path`.
fn covers(pattern: &str, path: &str) -> bool {
    let pattern = path_of(pattern);
    match pattern.strip_suffix("/*") {
        Some(prefix) => {
            path == prefix
                || path
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/'))
        }
        None => pattern == path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::user;

    fn logged_in(roles: &[&str]) -> AuthStore {
        let store = AuthStore::new();
        store.login("token", user(roles));
        store
    }

    #[test]
    fn an_authenticated_user_gets_the_route_asked_for() {
        let guard = route_guard(&logged_in(&["user"]), "/login");
        assert_eq!(guard.resolve("/dashboard"), "/dashboard");
        assert_eq!(guard.resolve("/login"), "/login");
    }

    #[test]
    fn a_visitor_is_sent_to_the_redirect() {
        let guard = route_guard(&AuthStore::new(), "/login");
        assert_eq!(guard.resolve("/dashboard"), "/login");
        assert_eq!(guard.resolve("/"), "/login");
    }

    #[test]
    fn the_redirect_target_is_never_redirected_even_with_a_query() {
        let guard = route_guard(&AuthStore::new(), "/login").require_role("admin");
        assert_eq!(guard.resolve("/login"), "/login");
        assert_eq!(guard.resolve("/login?next=/x"), "/login?next=/x");
        let guard = route_guard(&logged_in(&["user"]), "/login").require_role("admin");
        assert_eq!(guard.resolve("/login"), "/login");
    }

    #[test]
    fn public_routes_are_open_to_visitors() {
        let guard = route_guard(&AuthStore::new(), "/login").public_routes(["/about", "/docs/*"]);
        assert_eq!(guard.resolve("/about"), "/about");
        assert_eq!(guard.resolve("/docs"), "/docs");
        assert_eq!(guard.resolve("/docs/api#errors"), "/docs/api#errors");
        assert_eq!(guard.resolve("/docsecret"), "/login");
        assert_eq!(guard.resolve("/about/team"), "/login");
    }

    #[test]
    fn a_required_role_turns_away_users_without_it() {
        let guard = route_guard(&logged_in(&["user"]), "/login").require_role("admin");
        assert_eq!(guard.resolve("/admin"), "/login");
        let guard = route_guard(&logged_in(&["user", "admin"]), "/login").require_role("admin");
        assert_eq!(guard.resolve("/admin"), "/admin");
    }

    #[test]
    fn the_guard_follows_the_store_as_it_changes() {
        let store = AuthStore::new();
        let guard = route_guard(&store, "/login");
        assert_eq!(guard.resolve("/dashboard"), "/login");
        store.login("token", user(&[]));
        assert_eq!(guard.resolve("/dashboard"), "/dashboard");
        store.logout();
        assert_eq!(guard.resolve("/dashboard"), "/login");
    }
}
