//! The [`Transport`] boundary: how the client sends one HTTP request.
//!
//! The client's logic (refresh, retry, error mapping) sits above this
//! trait, so unit tests replace the network with a fake and a wasm build
//! can bring its own transport.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::error::Error;

/// The HTTP methods the user endpoints of docs/http-api.md use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `DELETE`.
    Delete,
}

/// One request to the server, relative to its base URL.
///
/// `Debug` shows neither the bearer token nor the body (which may hold a
/// password).
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The path, starting with `/` (e.g. `/auth/login`).
    pub path: String,
    /// The access token to send as `Authorization: Bearer`, if any.
    pub bearer: Option<String>,
    /// A JSON body (sent with `Content-Type: application/json`), if any.
    pub body: Option<Vec<u8>>,
    /// How long the whole exchange may take before it fails with
    /// [`Error::Transport`]; `None` leaves it to the transport (30 s for
    /// [`ReqwestTransport`](crate::ReqwestTransport)). `POST /auth/refresh`
    /// sets a shorter one: see [`REFRESH_TIMEOUT`](crate::REFRESH_TIMEOUT).
    pub timeout: Option<Duration>,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("bearer", &self.bearer.as_ref().map(|_| "[redacted]"))
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The server's answer: status, the `Retry-After` seconds and the body.
///
/// `Debug` shows the body's length only (it may hold tokens).
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// `Retry-After` in whole seconds, when present (429 responses).
    pub retry_after: Option<u64>,
    /// The body, at most [`MAX_RESPONSE_BYTES`].
    pub body: Vec<u8>,
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("retry_after", &self.retry_after)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// The largest response body a transport accepts (1 MiB): every docs/http-api.md
/// user response is a few KiB, so anything larger is refused rather than
/// buffered.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Sends one request and returns the response, whatever its status.
///
/// Implementations return [`Error::Transport`] only when no response
/// arrived; an error status is a normal [`HttpResponse`]. They honour
/// [`HttpRequest::timeout`] when it is set.
#[async_trait]
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends `request` and waits for the whole response.
    ///
    /// # Errors
    /// [`Error::Transport`] when the server could not be reached or the
    /// response was cut off or too large.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error>;
}
