//! [`ReqwestTransport`]: the [`Transport`] over a real network (reqwest, rustls).

use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use reqwest::{Client as HttpClient, Url};

use crate::error::Error;
use crate::transport::{HttpRequest, HttpResponse, MAX_RESPONSE_BYTES, Method, Transport};

/// How long one request may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The `User-Agent` the client sends, so sessions show what made them.
const USER_AGENT: &str = concat!("authgate-client/", env!("CARGO_PKG_VERSION"));

/// Checks and normalises a server URL: `http` or `https`, a host, no
/// query or fragment, and no trailing slash (`https://auth.example.com`).
///
/// # Errors
/// [`Error::InvalidUrl`] for anything else.
pub fn server_url(raw: &str) -> Result<String, Error> {
    let url = Url::parse(raw.trim()).map_err(|e| Error::InvalidUrl(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::InvalidUrl(format!(
            "scheme {} is not http or https",
            url.scheme()
        )));
    }
    if url.host_str().is_none() || url.query().is_some() || url.fragment().is_some() {
        return Err(Error::InvalidUrl(
            "expected scheme://host[:port][/path] without query or fragment".to_owned(),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::InvalidUrl(
            "credentials do not belong in the URL".to_owned(),
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Where plain `http://` may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HttpPolicy {
    /// Only to this machine (the default).
    LoopbackOnly,
    /// To any host: the caller has said the network is trusted.
    Anywhere,
}

/// Whether requests to `base_url` (normalised) are protected: `https`, or
/// plain `http` to this machine, whose traffic never leaves it.
fn transport_is_private(base_url: &str) -> bool {
    base_url.starts_with("https://") || is_loopback(base_url)
}

/// Whether `base_url` (normalised) names this machine: `localhost` or a
/// loopback address, IPv4-mapped IPv6 ones included.
fn is_loopback(base_url: &str) -> bool {
    let Ok(url) = Url::parse(base_url) else {
        return false;
    };
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// The client [`ReqwestTransport::new`] uses. No redirects: a 307/308 would
/// resend the body (a password, a refresh token) to wherever the Location
/// points. No proxy for a server on this machine: `HTTP_PROXY` or
/// `ALL_PROXY` would otherwise carry its plain-http traffic off the machine.
fn default_client(loopback: bool) -> Result<HttpClient, Error> {
    let mut builder = HttpClient::builder()
        .user_agent(USER_AGENT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none());
    if loopback {
        builder = builder.no_proxy();
    }
    builder.build().map_err(|e| Error::Transport(e.to_string()))
}

/// Sends requests to one authgate server with reqwest (rustls).
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    /// The HTTP client (connection pool, TLS, proxies).
    client: HttpClient,
    /// The server's URL as [`server_url`] normalised it.
    base_url: String,
}

impl ReqwestTransport {
    /// A transport to `server` with a default client: a 30 s timeout (or
    /// the request's own, [`HttpRequest::timeout`]), the
    /// `authgate-client/VERSION` user agent, and no proxy for a server on
    /// this machine.
    ///
    /// Plain `http://` is refused unless the host is a loopback address
    /// (`localhost`, `127.0.0.0/8`, `::1`): anywhere else the password and
    /// every token would cross the network in clear. See
    /// [`new_over_plain_http`](Self::new_over_plain_http) for the exception.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`], [`Error::PlainHttp`], or [`Error::Transport`]
    /// if no TLS client can be built.
    pub fn new(server: &str) -> Result<Self, Error> {
        Self::with_default_client(server, HttpPolicy::LoopbackOnly)
    }

    /// As [`new`](Self::new), but plain `http://` is allowed to any host:
    /// for a network the caller trusts with passwords and tokens in clear
    /// (a private test network), never across the internet.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`], or [`Error::Transport`] if no TLS client can be built.
    pub fn new_over_plain_http(server: &str) -> Result<Self, Error> {
        Self::with_default_client(server, HttpPolicy::Anywhere)
    }

    /// A transport to `server` through a client configured by the caller
    /// (proxies, certificates, timeouts). Build it with
    /// `redirect(Policy::none())` as [`ReqwestTransport::new`] does: a
    /// followed 307/308 resends a password or refresh token elsewhere; and
    /// for a plain-http server on this machine with `no_proxy()`, or a
    /// proxy sees its traffic in clear.
    ///
    /// Plain `http://` is refused as in [`new`](Self::new).
    ///
    /// # Errors
    /// [`Error::InvalidUrl`], [`Error::PlainHttp`].
    pub fn with_client(server: &str, client: HttpClient) -> Result<Self, Error> {
        Self::build(server_url(server)?, client, HttpPolicy::LoopbackOnly)
    }

    /// As [`with_client`](Self::with_client), but plain `http://` is
    /// allowed to any host (see [`new_over_plain_http`](Self::new_over_plain_http)).
    ///
    /// # Errors
    /// [`Error::InvalidUrl`].
    pub fn with_client_over_plain_http(server: &str, client: HttpClient) -> Result<Self, Error> {
        Self::build(server_url(server)?, client, HttpPolicy::Anywhere)
    }

    /// A transport with [`default_client`] under `policy`.
    fn with_default_client(server: &str, policy: HttpPolicy) -> Result<Self, Error> {
        let base_url = server_url(server)?;
        let client = default_client(is_loopback(&base_url))?;
        Self::build(base_url, client, policy)
    }

    /// The transport, unless `policy` forbids plain http to `base_url`.
    fn build(base_url: String, client: HttpClient, policy: HttpPolicy) -> Result<Self, Error> {
        if policy == HttpPolicy::LoopbackOnly && !transport_is_private(&base_url) {
            return Err(Error::PlainHttp(base_url));
        }
        Ok(Self { client, base_url })
    }

    /// The normalised server URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
}

#[async_trait]
impl Transport for ReqwestTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Delete => reqwest::Method::DELETE,
        };
        let url = format!("{}{}", self.base_url, request.path);
        let mut builder = self.client.request(method, url);
        if let Some(timeout) = request.timeout {
            // Replaces the client's own timeout for this request.
            builder = builder.timeout(timeout);
        }
        if let Some(token) = &request.bearer {
            builder = builder.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(body) = request.body {
            builder = builder
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body);
        }
        // reqwest's error text names the URL, never the headers or body.
        let mut response = builder.send().await.map_err(describe)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(describe)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(Error::Transport(format!(
                    "response body over {MAX_RESPONSE_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            retry_after,
            body,
        })
    }
}

/// A transport error with its causes ("error sending request: connection
/// refused"), without the URL; reqwest's errors never hold headers or bodies.
fn describe(error: reqwest::Error) -> Error {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    Error::Transport(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Client;
    use crate::store::tests::user;
    use crate::store::{AuthStore, Tokens};

    #[tokio::test(start_paused = true)]
    async fn a_refresh_that_gets_no_answer_gives_up_after_two_tries_of_5_s() {
        // The kernel accepts connections to it; nothing ever answers.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", silent.local_addr().unwrap());
        let store = AuthStore::new();
        store.login(Tokens::new("access", "refresh"), user(&["user"]));
        let client = Client::builder(ReqwestTransport::new(&url).unwrap())
            .store(store)
            .build();
        let started = tokio::time::Instant::now();
        let err = client.refresh().await.unwrap_err();
        assert!(matches!(err, Error::Transport(_)), "{err:?}");
        // Within the server's 10 s reuse grace, not 30 s per try.
        assert_eq!(started.elapsed().as_secs(), 10);
        assert!(client.store().is_authenticated());
    }

    #[test]
    fn server_urls_are_normalised_without_a_trailing_slash() {
        assert_eq!(
            server_url(" https://auth.example.com/ ").unwrap(),
            "https://auth.example.com"
        );
        assert_eq!(
            server_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            server_url("https://example.com/auth/").unwrap(),
            "https://example.com/auth"
        );
    }

    #[test]
    fn plain_http_goes_only_to_this_machine_unless_allowed() {
        for local in [
            "http://127.0.0.1:8080",
            "http://127.8.9.10",
            "http://localhost:8080",
            "http://LOCALHOST",
            "http://[::1]:8080",
            "http://[::ffff:127.0.0.1]:8080",
            "HTTP://127.0.0.1",
            "https://auth.example.com",
            "https://10.0.0.5",
        ] {
            let transport = ReqwestTransport::new(local).unwrap();
            assert_eq!(transport.base_url(), server_url(local).unwrap());
        }
        for remote in [
            "http://auth.example.com",
            "http://10.0.0.5:8080",
            "http://[2001:db8::1]",
            "http://localhost.example.com",
            "http://127.0.0.1.example.com",
            "http://0.0.0.0:8080",
            "http://[::ffff:10.0.0.5]",
        ] {
            let refused = ReqwestTransport::new(remote).unwrap_err();
            assert_eq!(refused, Error::PlainHttp(server_url(remote).unwrap()));
            assert!(refused.to_string().contains("in clear"), "{refused}");
            assert!(matches!(
                ReqwestTransport::with_client(remote, HttpClient::new()),
                Err(Error::PlainHttp(_))
            ));
            let allowed = ReqwestTransport::new_over_plain_http(remote).unwrap();
            assert_eq!(allowed.base_url(), server_url(remote).unwrap());
            let allowed =
                ReqwestTransport::with_client_over_plain_http(remote, HttpClient::new()).unwrap();
            assert_eq!(allowed.base_url(), server_url(remote).unwrap());
        }
    }

    #[test]
    fn urls_that_are_not_plain_http_servers_are_refused() {
        for bad in [
            "auth.example.com",
            "ftp://example.com",
            "https://example.com/?x=1",
            "https://user:pw@example.com",
            "",
        ] {
            assert!(
                matches!(server_url(bad), Err(Error::InvalidUrl(_))),
                "{bad}"
            );
        }
    }
}
