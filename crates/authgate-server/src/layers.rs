//! The tower layers around every route: request ids, tracing, panic safety.

use axum::http::{HeaderName, Request, Response};
use axum::response::IntoResponse;
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::error::ApiError;

/// Header carrying the request id, set if the client did not send one.
pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub(crate) type Layers = Stack<
    PropagateRequestIdLayer,
    Stack<
        TraceLayer<
            tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
            MakeSpan,
        >,
        Stack<
            SetRequestIdLayer<MakeRequestUuid>,
            Stack<
                CatchPanicLayer<fn(Box<dyn std::any::Any + Send>) -> Response<axum::body::Body>>,
                Identity,
            >,
        >,
    >,
>;

/// The layers, outermost last.
pub(crate) fn stack() -> Layers {
    ServiceBuilder::new()
        .layer(CatchPanicLayer::custom(panic_response as fn(_) -> _))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(TraceLayer::new_for_http().make_span_with(MakeSpan))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .into_inner()
}

/// A span per request with its id, method and path (never headers: they hold tokens).
#[derive(Debug, Clone, Copy)]
pub(crate) struct MakeSpan;

impl<B> tower_http::trace::MakeSpan<B> for MakeSpan {
    fn make_span(&mut self, request: &Request<B>) -> tracing::Span {
        let id = request
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path())
    }
}

/// A panic is a bug: answer 500 in API.md's shape and log it; never the panic text to the client.
fn panic_response(_panic: Box<dyn std::any::Any + Send>) -> Response<axum::body::Body> {
    ApiError::internal(&"a request handler panicked").into_response()
}
