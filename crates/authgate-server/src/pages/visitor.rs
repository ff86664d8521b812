//! Who is visiting: a browser session and the cookie secret its form
//! tokens derive from (the route guard that finds it is `guard.rs`).

use zeroize::Zeroizing;

use super::cookies::Jar;

/// A visitor with a live browser session.
#[derive(Debug, Clone)]
pub(crate) struct Visitor {
    /// The session and its user (current roles).
    pub(crate) browser: authgate_core::BrowserSession,
    /// The cookie's secret, from which the form token is derived.
    secret: Zeroizing<String>,
}

impl Visitor {
    /// The visitor whose cookie holds `secret`, naming `browser`.
    pub(crate) fn new(browser: authgate_core::BrowserSession, secret: Zeroizing<String>) -> Self {
        Self { browser, secret }
    }

    /// The token this session's forms carry.
    pub(crate) fn csrf(&self) -> String {
        super::csrf::token(Jar::Session, &self.secret)
    }

    /// Whether `presented` is this session's form token.
    pub(crate) fn csrf_matches(&self, presented: &str) -> bool {
        super::csrf::token_matches(Jar::Session, &self.secret, presented)
    }
}
