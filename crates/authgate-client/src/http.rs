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

/// Sends requests to one authgate server with reqwest (rustls).
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    /// The HTTP client (connection pool, TLS, proxies).
    client: HttpClient,
    /// The server's URL as [`server_url`] normalised it.
    base_url: String,
}

impl ReqwestTransport {
    /// A transport to `server` with a default client: a 30 s timeout and
    /// the `authgate-client/VERSION` user agent.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`], or [`Error::Transport`] if no TLS client can
    /// be built.
    pub fn new(server: &str) -> Result<Self, Error> {
        // No redirects: a 307/308 would resend the body (a password, a
        // refresh token) to wherever the Location points.
        let client = HttpClient::builder()
            .user_agent(USER_AGENT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Transport(e.to_string()))?;
        Self::with_client(server, client)
    }

    /// A transport to `server` through a client configured by the caller
    /// (proxies, certificates, timeouts). Build it with
    /// `redirect(Policy::none())` as [`ReqwestTransport::new`] does: a
    /// followed 307/308 resends a password or refresh token elsewhere.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`].
    pub fn with_client(server: &str, client: HttpClient) -> Result<Self, Error> {
        Ok(Self {
            client,
            base_url: server_url(server)?,
        })
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
