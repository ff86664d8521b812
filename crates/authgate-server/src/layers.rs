//! The tower layers around every route: request ids, tracing, panic safety,
//! security headers, and the request-target, body-size and body-time limits.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use authgate_proto::ErrorCode;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Response, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state, map_request, map_response};
use axum::response::IntoResponse;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::extract::{BodyTimedOut, MAX_BODY_BYTES};
use crate::state::AppState;

/// Header carrying the request id, set if the client did not send one.
pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest client request id kept; a longer one is replaced.
const MAX_REQUEST_ID_BYTES: usize = 64;

/// The longest request target (path and query) served: longer is 414.
pub(crate) const MAX_URI_BYTES: usize = 8 * 1024;

/// Headers on every response, hyper's own error answers included.
pub(crate) const SECURITY_HEADERS: [(&str, &str); 2] = [
    // Browsers must not guess a JSON answer is a script or a page.
    ("x-content-type-options", "nosniff"),
    // Links followed from anything served here carry no URL of ours.
    ("referrer-policy", "no-referrer"),
];

/// The policy of a response whose handler set none: JSON loads nothing and
/// is framed by nobody. Pages set their own.
const DEFAULT_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// Wraps `router` in the layers, innermost first: the size and time limits,
/// request-id propagation, tracing, request-id assignment, panic safety,
/// and the security headers outermost (so that every answer gets them).
pub(crate) fn wrap(router: Router, body_read_timeout: Duration, state: AppState) -> Router {
    let limits = RequestLimits {
        body_read_timeout,
        state,
    };
    router
        .layer(from_fn_with_state(limits, limit_request))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(MakeSpan))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(map_request(drop_unsafe_request_id))
        .layer(CatchPanicLayer::custom(panic_response as fn(_) -> _))
        .layer(map_response(security_headers))
}

/// A span per request with its id, method and path (never headers: they
/// hold tokens). Debug-formatted: quoted and escaped, so no value can
/// forge a field of the log line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MakeSpan;

impl<B> tower_http::trace::MakeSpan<B> for MakeSpan {
    fn make_span(&mut self, request: &Request<B>) -> tracing::Span {
        let id = request
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        tracing::info_span!("request", request_id = ?id, method = %request.method(), path = ?request.uri().path())
    }
}

/// Whether a client's request id is kept: 1 to 64 of `[A-Za-z0-9._-]`.
fn is_safe_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_REQUEST_ID_BYTES
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(b))
}

/// Removes a client request id that is not one safe value, so that one is
/// generated instead: ids end up in logs and are echoed back.
async fn drop_unsafe_request_id(mut request: Request) -> Request {
    let headers = request.headers_mut();
    let mut values = headers.get_all(REQUEST_ID).iter();
    let safe = values.next().is_some_and(is_safe_request_id) && values.next().is_none();
    if !safe {
        headers.remove(REQUEST_ID);
    }
    request
}

/// What [`limit_request`] needs.
#[derive(Clone)]
struct RequestLimits {
    /// How long a request body may take to arrive.
    body_read_timeout: Duration,
    /// For the pages' own error page.
    state: AppState,
}

/// 414 for a request target over [`MAX_URI_BYTES`] (the HTML error page on
/// the pages' paths, as their other errors); 413 at once for a
/// `Content-Length` over the body limit (nothing of it is read) outside the
/// pages; otherwise
/// the body must arrive in full within `body_read_timeout` (408 when read
/// through [`crate::extract`]).
async fn limit_request(
    State(limits): State<RequestLimits>,
    request: Request,
    next: Next,
) -> axum::response::Response {
    let body_read_timeout = limits.body_read_timeout;
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if target > MAX_URI_BYTES {
        if crate::pages::is_page_path(request.uri().path()) {
            return with_close(crate::pages::uri_too_long_page(&limits.state));
        }
        return closing(
            ApiError::invalid_request("The request target is longer than 8 KiB.")
                .with_status(StatusCode::URI_TOO_LONG),
        );
    }
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    // A page's form answers its own 413 as an HTML page (its extractor
    // applies the same limit); every other route answers at once, unread.
    if announced.is_some_and(|n| n > MAX_BODY_BYTES as u64)
        && !crate::pages::is_page_path(request.uri().path())
    {
        return closing(ApiError::new(
            ErrorCode::PayloadTooLarge,
            "The request body is larger than 64 KiB.",
        ));
    }
    if http_body::Body::is_end_stream(request.body()) {
        return next.run(request).await;
    }
    let request = request.map(|body| Body::new(DeadlineBody::new(body, body_read_timeout)));
    next.run(request).await
}

/// `error` as a response that ends the connection: its request's body was
/// not read, so the connection cannot carry another request.
fn closing(error: ApiError) -> axum::response::Response {
    with_close(error.into_response())
}

/// `response` with `Connection: close`.
fn with_close(mut response: axum::response::Response) -> axum::response::Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Adds [`SECURITY_HEADERS`], the default CSP unless the handler set its
/// own, and `Cache-Control: no-store` unless the handler chose a caching
/// policy (only public documents do: JWKS, discovery): answers carry
/// tokens and personal data, and error answers say who was refused.
async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_CSP),
        );
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// A panic is a bug: answer 500 in docs/http-api.md's shape and log it; never the panic text to the client.
fn panic_response(_panic: Box<dyn std::any::Any + Send>) -> Response<Body> {
    ApiError::internal(&"a request handler panicked").into_response()
}

/// A request body that fails with [`BodyTimedOut`] once its deadline
/// passes, however the bytes trickle in (the deadline is for the whole body,
/// unlike tower-http's per-frame timeout).
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl DeadlineBody {
    fn new(inner: Body, timeout: Duration) -> Self {
        Self {
            inner,
            deadline: Box::pin(tokio::time::sleep(timeout)),
        }
    }
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_ids_of_safe_characters_are_kept() {
        let safe = |s: &str| is_safe_request_id(&HeaderValue::from_str(s).unwrap());
        assert!(safe("req-1.A_b"));
        assert!(safe(&"a".repeat(64)));
        assert!(!safe(&"a".repeat(65)));
        assert!(!safe(""));
        assert!(!safe("evil\" injected=1"));
        assert!(!safe("a b"));
    }
}
