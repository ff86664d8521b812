//! Cross-site request forgery: every state-changing form carries a token
//! bound to a cookie, and a request naming another origin is refused.
//!
//! The token is a domain-separated SHA-256 of the cookie's secret: a
//! session form's of the session cookie, a login or registration form's of
//! the form cookie. Nothing is stored; the server recomputes it from the
//! cookie that comes with the request and compares in constant time. Another
//! site can neither read the cookie nor the page that shows the token.
//!
//! The `Origin` check comes first: an `Origin` naming another origin, or
//! (without one) a `Referer` of another origin, is refused. The pages send
//! `Referrer-Policy: no-referrer`, under which browsers send a same-origin
//! form's `Origin` as `null` and no `Referer`: such a request has no
//! origin to check and rests on its token alone.

use authgate_core::TokenHash;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroizing;

use super::cookies::{self, Jar};
use super::form::PageForm;
use super::settings::WebState;
use super::view::error_page;
use super::visitor::Visitor;
use crate::state::AppState;

/// The form field that carries the token.
pub(crate) const FIELD: &str = "csrf";

fn digest(jar: Jar, secret: &str) -> TokenHash {
    let purpose = match jar {
        Jar::Session => "session",
        Jar::Form => "form",
    };
    TokenHash::of(&format!("authgate csrf\0{purpose}\0{secret}"))
}

/// The token of forms bound to cookie `jar` whose value is `secret`.
pub(crate) fn token(jar: Jar, secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(jar, secret).0)
}

/// Whether `presented` is the token for `secret`, compared in constant time.
pub(crate) fn token_matches(jar: Jar, secret: &str, presented: &str) -> bool {
    if presented.len() != 43 {
        return false;
    }
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(presented) else {
        return false;
    };
    let Ok(bytes) = <[u8; 32]>::try_from(bytes.as_slice()) else {
        return false;
    };
    digest(jar, secret).ct_eq(&TokenHash(bytes))
}

/// The answer to a form whose token is missing or wrong: the 403 page (in
/// the visitor's layout when there is one), nothing changed, and a log line
/// naming the form (`what`), never the token. Every form refuses through
/// here, so they all answer and log alike.
pub(crate) fn refused(state: &AppState, visitor: Option<&Visitor>, what: &'static str) -> Response {
    tracing::info!(form = what, "form refused: missing or wrong form token");
    error_page(state, visitor, StatusCode::FORBIDDEN)
}

/// Checks a session form (one posted by a logged-in visitor): `None` when
/// its token is this session's, else the [`refused`] answer.
pub(crate) fn session_form_refusal(
    state: &AppState,
    visitor: &Visitor,
    form: &PageForm,
    what: &'static str,
) -> Option<Response> {
    let presented = form.get(FIELD).unwrap_or_default();
    (!visitor.csrf_matches(presented)).then(|| refused(state, Some(visitor), what))
}

/// Checks a form bound to the form cookie (login, registration, password
/// recovery): the cookie's secret when the form's token matches it, else
/// the [`refused`] answer (also without the cookie).
pub(crate) fn checked_form_cookie(
    state: &AppState,
    headers: &HeaderMap,
    form: &PageForm,
    what: &'static str,
) -> Result<Zeroizing<String>, Box<Response>> {
    let presented = form.get(FIELD).unwrap_or_default();
    match cookies::read(headers, &state.web, Jar::Form) {
        Some(secret) if token_matches(Jar::Form, &secret, presented) => Ok(secret),
        _ => Err(Box::new(refused(state, None, what))),
    }
}

/// Whether the request may come from our own pages: its `Origin` is ours,
/// or it has none (or `null`) and its `Referer`, if any, is ours.
pub(crate) fn origin_allowed(headers: &HeaderMap, web: &WebState) -> bool {
    let mut origins = headers.get_all(header::ORIGIN).iter();
    match (origins.next(), origins.next()) {
        (Some(_), Some(_)) => return false,
        (Some(origin), None) if origin.as_bytes() != b"null" => {
            return origin
                .to_str()
                .is_ok_and(|o| o.eq_ignore_ascii_case(&web.origin));
        }
        _ => {}
    }
    let mut referers = headers.get_all(header::REFERER).iter();
    match (referers.next(), referers.next()) {
        (None, _) => true,
        (Some(referer), None) => referer.to_str().is_ok_and(|r| {
            r.get(..web.origin.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(&web.origin))
                && matches!(r.as_bytes().get(web.origin.len()), None | Some(b'/'))
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web() -> WebState {
        WebState::new(
            &super::super::WebSettings::default(),
            "http://127.0.0.1:8080",
        )
        .unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn tokens_match_only_their_own_cookie_and_purpose() {
        let secret = "s".repeat(43);
        let t = token(Jar::Session, &secret);
        assert!(token_matches(Jar::Session, &secret, &t));
        assert!(!token_matches(Jar::Form, &secret, &t));
        assert!(!token_matches(Jar::Session, &"t".repeat(43), &t));
        assert!(!token_matches(Jar::Session, &secret, ""));
        assert!(!token_matches(Jar::Session, &secret, &t[..42]));
        assert!(!token_matches(Jar::Session, &secret, &"!".repeat(43)));
    }

    #[test]
    fn another_origin_is_refused_and_a_null_origin_rests_on_the_token() {
        let web = web();
        let ok = |pairs: &[(&str, &str)]| origin_allowed(&headers(pairs), &web);
        assert!(ok(&[("origin", "http://127.0.0.1:8080")]));
        assert!(!ok(&[("origin", "http://127.0.0.1:8081")]));
        assert!(!ok(&[("origin", "https://127.0.0.1:8080")]));
        assert!(!ok(&[("origin", "http://evil.example")]));
        assert!(ok(&[("origin", "null")]));
        assert!(ok(&[]));
        assert!(ok(&[("referer", "http://127.0.0.1:8080/login")]));
        assert!(!ok(&[("referer", "http://127.0.0.1:8080.evil.example/")]));
        assert!(!ok(&[
            ("origin", "null"),
            ("referer", "http://evil.example/")
        ]));
        assert!(!ok(&[
            ("origin", "http://127.0.0.1:8080"),
            ("origin", "http://evil.example")
        ]));
    }
}
