//! `[web]`: the browser session's timeouts, and what the pages derive from
//! `server.public_url` (whether cookies are `Secure`, the origin forms must
//! come from, the host shown in the header).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::HumanDuration;

/// `[web]`: browser sessions of the hosted pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSettings {
    /// A browser session unused this long ends. Defaults to `30m`.
    pub idle_timeout: HumanDuration,
    /// A browser session ends this long after its login, however active.
    /// Defaults to `12h`.
    pub absolute_lifetime: HumanDuration,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            idle_timeout: HumanDuration(Duration::from_secs(30 * 60)),
            absolute_lifetime: HumanDuration(Duration::from_secs(12 * 3600)),
        }
    }
}

/// The product's name, in every page's header and title.
pub(crate) const PRODUCT: &str = "authgate";

/// What the pages need at run time, derived once from the settings.
#[derive(Debug)]
pub struct WebState {
    /// Idle timeout of a browser session.
    pub(crate) idle: time::Duration,
    /// Absolute lifetime of a browser session.
    pub(crate) absolute: time::Duration,
    /// Whether the server is reached over TLS (`server.public_url` is
    /// `https://`): then cookies are `Secure` with the `__Host-` prefix.
    pub(crate) secure: bool,
    /// The server's origin (`scheme://host[:port]`, default port left out):
    /// what a form's `Origin` or `Referer` must name.
    pub(crate) origin: String,
    /// `host[:port]`, shown in the header so people see where they log in.
    pub(crate) host: String,
    /// The claims of the access token each browser login issued.
    pub(crate) claims: super::claims::ClaimsBook,
}

/// Why `[web]` or `server.public_url` cannot be used for the pages.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WebSettingsError(pub String);

impl WebState {
    /// The state for `web` on a server whose public base URL is `public_url`.
    ///
    /// # Errors
    /// [`WebSettingsError`] when a timeout is zero, the idle timeout exceeds
    /// the lifetime, or `public_url` is not an `http://` or `https://` URL
    /// with a host.
    pub fn new(web: &WebSettings, public_url: &str) -> Result<Self, WebSettingsError> {
        let idle = web.idle_timeout.as_time();
        let absolute = web.absolute_lifetime.as_time();
        if idle <= time::Duration::ZERO || absolute <= time::Duration::ZERO {
            return Err(WebSettingsError(
                "web.idle_timeout and web.absolute_lifetime must be positive".into(),
            ));
        }
        if idle > absolute {
            return Err(WebSettingsError(
                "web.idle_timeout must not be longer than web.absolute_lifetime".into(),
            ));
        }
        let (secure, host) = split_public_url(public_url).ok_or_else(|| {
            WebSettingsError(
                "server.public_url must be an http:// or https:// URL with a host".into(),
            )
        })?;
        let scheme = if secure { "https" } else { "http" };
        Ok(Self {
            idle,
            absolute,
            secure,
            origin: format!("{scheme}://{host}"),
            host,
            claims: super::claims::ClaimsBook::default(),
        })
    }
}

impl WebState {
    /// The origin forms must come from (`scheme://host[:port]`).
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// Whether `url` is `https`, and its `host[:port]` lower-cased, with the
/// scheme's default port left out (as browsers serialise an origin).
fn split_public_url(url: &str) -> Option<(bool, String)> {
    let url = url.trim();
    let (secure, rest) = if let Some(rest) = strip_prefix_ci(url, "https://") {
        (true, rest)
    } else {
        (false, strip_prefix_ci(url, "http://")?)
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') || authority.chars().any(char::is_whitespace)
    {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let default_port = if secure { ":443" } else { ":80" };
    let host = authority
        .strip_suffix(default_port)
        .map(str::to_owned)
        .unwrap_or(authority);
    Some((secure, host))
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_comes_from_the_public_url_without_a_default_port() {
        let state = |url| WebState::new(&WebSettings::default(), url).map(|s| (s.secure, s.origin));
        assert_eq!(
            state("https://Auth.Example:443/").unwrap(),
            (true, "https://auth.example".to_owned())
        );
        assert_eq!(
            state("http://127.0.0.1:8080").unwrap(),
            (false, "http://127.0.0.1:8080".to_owned())
        );
        assert!(state("ftp://x").is_err());
        assert!(state("https://").is_err());
        assert!(state("https://user@host").is_err());
    }

    #[test]
    fn an_idle_timeout_longer_than_the_lifetime_is_refused() {
        let web = WebSettings {
            idle_timeout: HumanDuration(Duration::from_secs(7200)),
            absolute_lifetime: HumanDuration(Duration::from_secs(3600)),
        };
        assert!(WebState::new(&web, "http://localhost").is_err());
    }
}
