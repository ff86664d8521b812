//! The two cookies of the pages: the browser session's, and the form
//! cookie that binds the login and registration forms before any session
//! exists. Each holds only 256 random bits (never a JWT).
//!
//! Over TLS (`server.public_url` is `https://`) they are `Secure` and named
//! with the `__Host-` prefix, which browsers accept only from a secure
//! origin, for the whole host (`Path=/`, no `Domain`). On plain http (local
//! development) the same cookies go without both: browsers drop `Secure`
//! cookies there, and the login page says the connection is not secure.

use axum::http::{HeaderMap, HeaderValue, header};
use zeroize::Zeroizing;

use super::settings::WebState;

/// Which of the pages' cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Jar {
    /// The browser session: its secret names the session.
    Session,
    /// The anonymous forms' token binding.
    Form,
}

impl Jar {
    /// The cookie's name on this server.
    pub(crate) fn name(self, web: &WebState) -> &'static str {
        match (self, web.secure) {
            (Jar::Session, true) => "__Host-authgate_session",
            (Jar::Session, false) => "authgate_session",
            (Jar::Form, true) => "__Host-authgate_form",
            (Jar::Form, false) => "authgate_form",
        }
    }
}

/// Length of a cookie value: 256 bits in base64url without padding.
const VALUE_LEN: usize = 43;

/// The value of cookie `jar` in the request, if it has the form of ours
/// (anything else is treated as no cookie).
pub(crate) fn read(headers: &HeaderMap, web: &WebState, jar: Jar) -> Option<Zeroizing<String>> {
    let name = jar.name(web);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| {
            value.len() == VALUE_LEN
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(|value| Zeroizing::new(value.to_owned()))
}

/// A `Set-Cookie` value giving cookie `jar` the value `value` for `max_age` seconds.
pub(crate) fn set(web: &WebState, jar: Jar, value: &str, max_age: i64) -> Option<HeaderValue> {
    let secure = if web.secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
        jar.name(web)
    ))
    .ok()
}

/// A `Set-Cookie` value deleting cookie `jar`.
pub(crate) fn clear(web: &WebState, jar: Jar) -> HeaderValue {
    let secure = if web.secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}",
        jar.name(web)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web(url: &str) -> WebState {
        WebState::new(&super::super::WebSettings::default(), url).unwrap()
    }

    #[test]
    fn over_tls_the_cookie_is_secure_and_host_prefixed() {
        let value = "a".repeat(VALUE_LEN);
        let tls = set(&web("https://auth.example"), Jar::Session, &value, 60).unwrap();
        assert_eq!(
            tls.to_str().unwrap(),
            format!(
                "__Host-authgate_session={value}; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure"
            )
        );
        let plain = set(&web("http://localhost:8080"), Jar::Session, &value, 60).unwrap();
        assert!(plain.to_str().unwrap().starts_with("authgate_session="));
        assert!(!plain.to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn only_values_of_our_shape_are_read() {
        let web = web("http://localhost");
        let good = "b".repeat(VALUE_LEN);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            format!("x=1; authgate_session={good}; other=2")
                .parse()
                .unwrap(),
        );
        assert_eq!(read(&headers, &web, Jar::Session).as_deref(), Some(&good));
        headers.insert(header::COOKIE, "authgate_session=short".parse().unwrap());
        assert!(read(&headers, &web, Jar::Session).is_none());
        headers.insert(
            header::COOKIE,
            format!("authgate_session={}", "<".repeat(VALUE_LEN))
                .parse()
                .unwrap(),
        );
        assert!(read(&headers, &web, Jar::Session).is_none());
    }
}
