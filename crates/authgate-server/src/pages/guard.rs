//! Who is visiting, and the route guard: a protected page asked for
//! without a session answers 303 to `/login?return_to=<that path>`, and a
//! `return_to` is honoured only as a same-site relative path.

use axum::extract::FromRequestParts;
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};

use super::cookies::{self, Jar};
pub(crate) use super::visitor::Visitor;
use crate::state::AppState;

/// Longest `return_to` honoured.
const MAX_RETURN_TO: usize = 1024;

/// The visitor, if their session cookie names a live session. A cookie
/// naming none (ended, revoked, idle, disabled user) is `stale`: the
/// response deletes it. A store that cannot be read is the 503 page.
#[derive(Debug)]
pub(crate) struct MaybeVisitor {
    /// The visitor, when logged in.
    pub(crate) visitor: Option<Visitor>,
    /// Whether a cookie came that names no live session.
    pub(crate) stale: bool,
}

impl FromRequestParts<AppState> for MaybeVisitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(secret) = cookies::read(&parts.headers, &state.web, Jar::Session) else {
            return Ok(Self {
                visitor: None,
                stale: false,
            });
        };
        match state.auth.browser_session(&secret, state.web.idle).await {
            Ok(Some(browser)) => Ok(Self {
                visitor: Some(Visitor::new(browser, secret)),
                stale: false,
            }),
            Ok(None) => Ok(Self {
                visitor: None,
                stale: true,
            }),
            Err(e) => Err(super::view::failure_page(state, None, &e)),
        }
    }
}

/// A visitor who must be logged in: otherwise 303 to the login page with
/// `return_to` set to the path asked for (a form's page for a POST).
#[derive(Debug)]
pub(crate) struct RequireVisitor(pub(crate) Visitor);

impl FromRequestParts<AppState> for RequireVisitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let maybe = MaybeVisitor::from_request_parts(parts, state).await?;
        if let Some(visitor) = maybe.visitor {
            return Ok(Self(visitor));
        }
        let wanted = if parts.method == axum::http::Method::GET {
            parts
                .uri
                .path_and_query()
                .map_or("/account", |pq| pq.as_str())
        } else {
            "/account"
        };
        let mut response = to_login(Some(wanted));
        if maybe.stale {
            response
                .headers_mut()
                .append(header::SET_COOKIE, cookies::clear(&state.web, Jar::Session));
        }
        Err(response)
    }
}

/// 303 to the login page, carrying `return_to` when it is a safe path.
pub(crate) fn to_login(return_to: Option<&str>) -> Response {
    let location = match return_to.and_then(safe_return_to) {
        Some(path) => {
            let encoded: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("return_to", path)
                .finish();
            format!("/login?{encoded}")
        }
        None => "/login".to_owned(),
    };
    see_other(&location)
}

/// A 303 to `location` (a path of ours).
pub(crate) fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// `return_to` if it is a same-site relative path: one `/` then not a
/// second `/` or a `\` (which browsers read as `/`), only printable ASCII
/// (no control character or space; browsers send other characters
/// percent-encoded, and a `Location` may hold no other), no backslash
/// anywhere, at most 1 KiB. Anything else is `None`
/// (the caller lands on `/account`).
pub(crate) fn safe_return_to(return_to: &str) -> Option<&str> {
    let bytes = return_to.as_bytes();
    let ok = !return_to.is_empty()
        && return_to.len() <= MAX_RETURN_TO
        && bytes[0] == b'/'
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && return_to
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'\\');
    ok.then_some(return_to)
}

/// Where a visitor goes after logging in: `return_to` when safe, else `/account`.
pub(crate) fn landing(return_to: Option<&str>) -> &str {
    return_to.and_then(safe_return_to).unwrap_or("/account")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_same_site_relative_paths_are_honoured() {
        for good in [
            "/account",
            "/x",
            "/admin/users?page=2",
            "/a/b#c",
            "/%2F%2Fevil.example",
        ] {
            assert_eq!(safe_return_to(good), Some(good), "{good}");
        }
        for bad in [
            "",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "http:/evil.example",
            "javascript:alert(1)",
            "evil.example",
            "/\tevil",
            "/x\r\nSet-Cookie: a=b",
            "/x\u{0}",
            "/x\u{85}",
            "/ x",
            "/a\\b",
            "/caf\u{e9}",
        ] {
            assert_eq!(safe_return_to(bad), None, "{bad:?}");
        }
        assert_eq!(safe_return_to(&format!("/{}", "a".repeat(2000))), None);
        assert_eq!(landing(Some("//evil.example")), "/account");
        assert_eq!(landing(None), "/account");
    }

    #[test]
    fn the_login_redirect_carries_the_path_encoded() {
        let r = to_login(Some("/account?x=1&y=2"));
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            r.headers()[header::LOCATION],
            "/login?return_to=%2Faccount%3Fx%3D1%26y%3D2"
        );
        assert_eq!(
            to_login(Some("//evil")).headers()[header::LOCATION],
            "/login"
        );
    }
}
