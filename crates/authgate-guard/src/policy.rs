//! [`Policy`]: which requests need no token at all (health checks, public
//! pages), and [`PublicRoutes`], a ready-made policy from a list of routes.

use std::fmt;

/// Decides, from the method and path alone, whether a request skips
/// authentication: the seed's `should_skip_authentication`.
///
/// Used by [`Guard::authenticate_request`](crate::Guard::authenticate_request)
/// and by the [`GuardLayer`](crate::GuardLayer). When it answers `true` no
/// header is read and no principal is produced; when `false`, a valid
/// Bearer token is required. Any `Fn(&str, &str) -> bool` is a policy.
pub trait Policy: Send + Sync {
    /// Whether `method` (as sent, e.g. `GET`) on `path` (the request path,
    /// without query) is public.
    fn should_skip_authentication(&self, method: &str, path: &str) -> bool;
}

impl<F> Policy for F
where
    F: Fn(&str, &str) -> bool + Send + Sync,
{
    fn should_skip_authentication(&self, method: &str, path: &str) -> bool {
        self(method, path)
    }
}

/// The policy that skips nothing: every request must authenticate.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuthenticateAll;

impl Policy for AuthenticateAll {
    fn should_skip_authentication(&self, _method: &str, _path: &str) -> bool {
        false
    }
}

/// How a [`PublicRoutes`] entry matches a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PathMatch {
    /// The path equals this.
    Exact(String),
    /// The path is this, or continues it at a segment boundary.
    Prefix(String),
}

/// One public route: a method (or any) and a path rule.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Route {
    /// `None`: any method.
    method: Option<String>,
    /// Which paths.
    path: PathMatch,
}

/// A [`Policy`] from a list of public (method, path) pairs; everything
/// else must authenticate.
///
/// Deliberately conservative, because a wrong "public" answer lets a request
/// through unauthenticated while a wrong "private" one only costs a 401:
/// - prefixes match whole segments: `/public` matches `/public` and
///   `/public/a`, never `/publicity`;
/// - a path that is not clean is never public, whatever the list says: one
///   not starting with `/`, holding `//`, a `.` or `..` segment, a
///   backslash, or a percent-encoded `.`, `/` or `\`. Another component
///   (a proxy, the router) might read such a path as a different route;
/// - methods are compared exactly (HTTP methods are case-sensitive), `*`
///   means any, and `GET` also covers `HEAD`, which routers serve with the
///   GET handler;
/// - a query string, if the caller passed one, is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicRoutes {
    /// The routes, in the order given; any match makes the request public.
    routes: Vec<Route>,
}

impl PublicRoutes {
    /// An empty list: nothing is public.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes `method` (`*` for any) on exactly `path` public.
    #[must_use]
    pub fn exact(mut self, method: &str, path: &str) -> Self {
        self.routes.push(Route {
            method: parse_method(method),
            path: PathMatch::Exact(path.to_owned()),
        });
        self
    }

    /// Makes `method` (`*` for any) on `prefix` and every path below it public.
    /// A trailing `/` on the prefix is ignored: `/docs/` and `/docs` both
    /// match `/docs` and `/docs/…`.
    #[must_use]
    pub fn prefix(mut self, method: &str, prefix: &str) -> Self {
        self.routes.push(Route {
            method: parse_method(method),
            path: PathMatch::Prefix(prefix.trim_end_matches('/').to_owned()),
        });
        self
    }
}

impl Policy for PublicRoutes {
    fn should_skip_authentication(&self, method: &str, path: &str) -> bool {
        let path = path.split_once('?').map_or(path, |(path, _)| path);
        if !is_clean(path) {
            return false;
        }
        self.routes.iter().any(|route| {
            method_matches(route.method.as_deref(), method)
                && match &route.path {
                    PathMatch::Exact(exact) => path == exact,
                    PathMatch::Prefix(prefix) => path
                        .strip_prefix(prefix.as_str())
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
                }
        })
    }
}

/// `*` is any method; anything else is kept as written.
fn parse_method(method: &str) -> Option<String> {
    (method != "*").then(|| method.to_owned())
}

fn method_matches(allowed: Option<&str>, method: &str) -> bool {
    match allowed {
        None => true,
        Some(allowed) => allowed == method || (allowed == "GET" && method == "HEAD"),
    }
}

/// Whether `path` reads the same to every component: absolute, no empty,
/// `.` or `..` segment (one trailing slash is fine), no backslash, no
/// percent-encoded `.`, `/` or `\`.
fn is_clean(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    if path.contains('\\') || has_encoded_separator(path) {
        return false;
    }
    let segments = rest.strip_suffix('/').unwrap_or(rest);
    if segments.is_empty() {
        return path == "/";
    }
    segments
        .split('/')
        .all(|segment| !matches!(segment, "" | "." | ".."))
}

/// Whether `path` holds `%2e`, `%2f` or `%5c` in any case.
fn has_encoded_separator(path: &str) -> bool {
    path.as_bytes().windows(3).any(|w| {
        w[0] == b'%'
            && matches!(
                (w[1], w[2].to_ascii_lowercase()),
                (b'2', b'e') | (b'2', b'f') | (b'5', b'c')
            )
    })
}

impl fmt::Display for PublicRoutes {
    /// The routes as `METHOD path` or `METHOD prefix/…`, comma-separated, for start-up logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, route) in self.routes.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(route.method.as_deref().unwrap_or("*"))?;
            match &route.path {
                PathMatch::Exact(path) => write!(f, " {path}")?,
                PathMatch::Prefix(prefix) => write!(f, " {prefix}/…")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> PublicRoutes {
        PublicRoutes::new()
            .exact("GET", "/healthz")
            .prefix("*", "/public/")
    }

    #[test]
    fn an_exact_route_matches_only_its_path_and_method() {
        let p = routes();
        assert!(p.should_skip_authentication("GET", "/healthz"));
        assert!(p.should_skip_authentication("HEAD", "/healthz"));
        assert!(!p.should_skip_authentication("POST", "/healthz"));
        assert!(!p.should_skip_authentication("get", "/healthz"));
        assert!(!p.should_skip_authentication("GET", "/healthz/x"));
        assert!(!p.should_skip_authentication("GET", "/healthzz"));
    }

    #[test]
    fn a_prefix_matches_whole_segments_for_any_method() {
        let p = routes();
        assert!(p.should_skip_authentication("GET", "/public"));
        assert!(p.should_skip_authentication("DELETE", "/public/a/b"));
        assert!(p.should_skip_authentication("GET", "/public/"));
        assert!(!p.should_skip_authentication("GET", "/publicity"));
        assert!(!p.should_skip_authentication("GET", "/"));
    }

    #[test]
    fn a_query_string_is_ignored() {
        assert!(routes().should_skip_authentication("GET", "/healthz?verbose=1"));
    }

    #[test]
    fn paths_that_could_be_read_as_another_route_are_never_public() {
        let p = routes();
        for path in [
            "/public/../admin",
            "/public/./x",
            "/public//x",
            "//public/x",
            "/public/%2e%2e/admin",
            "/public/%2E%2E/admin",
            "/public%2fx",
            "/public/a\\..\\b",
            "/public/%5c",
            "public/x",
            "",
        ] {
            assert!(!p.should_skip_authentication("GET", path), "{path:?}");
        }
    }

    #[test]
    fn nothing_is_public_by_default() {
        assert!(!PublicRoutes::new().should_skip_authentication("GET", "/"));
        assert!(!AuthenticateAll.should_skip_authentication("GET", "/healthz"));
    }

    #[test]
    fn a_closure_is_a_policy() {
        let p = |method: &str, _path: &str| method == "OPTIONS";
        assert!(p.should_skip_authentication("OPTIONS", "/x"));
        assert!(!p.should_skip_authentication("GET", "/x"));
    }

    #[test]
    fn the_routes_display_for_logs() {
        assert_eq!(routes().to_string(), "GET /healthz, * /public/…");
    }
}
