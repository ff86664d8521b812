//! What the JWKS fetcher and the introspection client share: the default
//! HTTP client, the check of the URLs they are given, and reading a
//! response body with a size cap.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::Url;

use crate::GuardError;

/// Default time limit of one request to the authorization server, connect
/// included. A request that waits on it (an unknown `kid`, introspection)
/// waits at most this long.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// The client used unless the builder is handed one.
///
/// It follows no redirect (a JWKS or introspection URL that moves is a
/// configuration to fix, not something to follow silently to another
/// host), uses no proxy (a library does not read `HTTP_PROXY` from the
/// environment; hand over your own client to go through one) and gives up
/// after `timeout`.
pub(crate) fn default_client(timeout: Duration) -> Result<reqwest::Client, GuardError> {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("authgate-guard/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|_| GuardError::InvalidConfig("the HTTP client could not be built"))
}

/// Parses `url` and refuses plain `http` except to a loopback host, unless
/// `allow_http`: keys or introspection answers read over an unencrypted
/// network can be replaced by anyone on the path.
pub(crate) fn parse_url(url: &str, allow_http: bool) -> Result<Url, GuardError> {
    let url = Url::parse(url).map_err(|_| GuardError::InvalidConfig("the URL does not parse"))?;
    // The URL is logged and shown in status: credentials must not be in it.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(GuardError::InvalidConfig(
            "credentials do not belong in the URL",
        ));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_http || is_loopback(&url) => Ok(url),
        "http" => Err(GuardError::InvalidConfig(
            "plain http is only accepted to a loopback host; use https (or insecure_allow_http)",
        )),
        _ => Err(GuardError::InvalidConfig("the URL must be http or https")),
    }
}

/// Whether the URL's host is `localhost` or a loopback address.
fn is_loopback(url: &Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// The body of `response`, refused once it grows past `max` bytes, so a
/// misbehaving server cannot make us buffer without bound.
pub(crate) async fn read_bounded(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, &'static str> {
    if response
        .content_length()
        .is_some_and(|len| len > max as u64)
    {
        return Err("the response body is larger than allowed");
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|_| "the response body could not be read")?
    {
        if body.len() + chunk.len() > max {
            return Err("the response body is larger than allowed");
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Refuses `response` unless it came from `url` itself.
///
/// The default client follows no redirect, but a caller-supplied one may
/// (reqwest's default follows ten, to any host and from `https` to plain
/// `http`): keys or an introspection answer from wherever the configured
/// URL points to would then be trusted. Checking the final URL here holds
/// whatever client is used. It cannot unsend what the client sent on: a
/// client that re-POSTs on a 307 has already shown the token to the new
/// location, which is why a supplied client should follow no redirect.
pub(crate) fn ensure_not_redirected(
    response: &reqwest::Response,
    url: &Url,
) -> Result<(), &'static str> {
    if response.url() == url {
        return Ok(());
    }
    tracing::warn!(
        %url,
        redirected_to = %response.url(),
        "the authorization server redirected the request; redirects are refused"
    );
    Err("the server redirected the request elsewhere")
}

/// A short reason for a failed request, for the error (which reaches
/// logs and metrics); the full error goes to the log beside it.
pub(crate) fn describe(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "the request timed out"
    } else if error.is_connect() {
        "the server could not be reached"
    } else {
        "the request failed"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_always_accepted() {
        assert!(parse_url("https://auth.example/.well-known/jwks.json", false).is_ok());
    }

    #[test]
    fn plain_http_is_accepted_only_to_loopback_unless_allowed() {
        for ok in [
            "http://127.0.0.1:8080/x",
            "http://localhost/x",
            "http://[::1]:80/x",
        ] {
            assert!(parse_url(ok, false).is_ok(), "{ok}");
        }
        assert!(parse_url("http://auth.example/x", false).is_err());
        assert!(parse_url("http://10.0.0.1/x", false).is_err());
        assert!(parse_url("http://auth.example/x", true).is_ok());
    }

    #[test]
    fn urls_with_credentials_are_refused() {
        for url in [
            "https://svc:s3cret@auth.example/.well-known/jwks.json",
            "https://svc@auth.example/x",
        ] {
            assert!(matches!(
                parse_url(url, false),
                Err(GuardError::InvalidConfig(
                    "credentials do not belong in the URL"
                ))
            ));
        }
    }

    #[test]
    fn other_schemes_and_garbage_are_refused() {
        assert!(parse_url("ftp://auth.example/x", true).is_err());
        assert!(parse_url("file:///etc/passwd", true).is_err());
        assert!(parse_url("not a url", true).is_err());
    }
}
