//! One connection: hyper serving the router over HTTP/1.1 or h2c (HTTP/2
//! with prior knowledge, as axum::serve did), with the client's address
//! for the handlers, and a watchdog closing it when idle or stuck in a
//! request head, or when a newcomer takes its place.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::Watcher;
use tokio::io::{AsyncRead, AsyncWrite};
use tower::ServiceExt;

use super::Limits;
use super::io::Watched;
use super::tracker::{ConnState, Slot};

/// The largest request head (request line and header fields) read: larger
/// is 431. Also hyper's read buffer, so a connection holds at most this.
const MAX_HEAD_BYTES: usize = 32 * 1024;

/// The most header fields in one request (hyper's default): more is 431.
const MAX_HEADER_FIELDS: usize = 100;

/// The HTTP/1.1 and HTTP/2 settings every connection is served with.
pub(super) fn builder(limits: Limits) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        // hyper's own clock starts when it waits for a head, not at its
        // first byte; it only backs up the watchdog, which is exact.
        .header_read_timeout(limits.header_read_timeout + limits.idle_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADER_FIELDS);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(MAX_HEAD_BYTES).unwrap_or(u32::MAX))
        .max_concurrent_streams(100);
    builder
}

/// What serving one connection needs.
pub(super) struct Connection {
    /// The protocol settings, shared by every connection.
    pub(super) builder: Arc<Builder<TokioExecutor>>,
    /// The application.
    pub(super) router: Router,
    /// The client's address, handed to the handlers as `ConnectInfo`.
    pub(super) peer: SocketAddr,
    /// The timeouts.
    pub(super) limits: Limits,
}

impl Connection {
    /// Serves `io` until the client closes it, it times out, the server
    /// shuts down (requests in flight finish first) or it is evicted.
    pub(super) async fn run<I>(self, io: I, slot: Slot, graceful: Watcher)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let state = slot.state.clone();
        let service = RouterService {
            router: self.router,
            peer: self.peer,
            state: state.clone(),
        };
        let io = TokioIo::new(Watched::new(io, state.clone()));
        let served = self.builder.serve_connection_with_upgrades(
            io,
            hyper::service::service_fn(move |req| service.call(req)),
        );
        let served = graceful.watch(served.into_owned());
        tokio::select! {
            result = served => {
                if let Err(error) = result {
                    tracing::debug!(peer = %self.peer, %error, "connection ended with an error");
                }
            }
            () = watchdog(&state, self.limits) => {
                tracing::debug!(peer = %self.peer, "connection closed: idle or its request head too slow");
            }
            () = state.evicted() => {
                tracing::debug!(peer = %self.peer, "connection closed: the connection cap was reached");
            }
        }
        drop(slot);
    }
}

/// Resolves when the connection has been idle for `idle_timeout`, or a
/// request head has been pending for `header_read_timeout`.
async fn watchdog(state: &ConnState, limits: Limits) {
    loop {
        match state.deadline(limits.idle_timeout, limits.header_read_timeout) {
            Some(deadline) if deadline <= tokio::time::Instant::now() => return,
            Some(deadline) => {
                tokio::select! {
                    () = tokio::time::sleep_until(deadline) => {}
                    () = state.head_started() => {}
                }
            }
            // A request in progress: the body timeout and the handlers bound it.
            None => tokio::time::sleep(limits.idle_timeout.min(Duration::from_secs(1))).await,
        }
    }
}

/// The router as hyper calls it, per connection.
#[derive(Clone)]
struct RouterService {
    router: Router,
    peer: SocketAddr,
    state: Arc<ConnState>,
}

impl RouterService {
    fn call(
        &self,
        mut req: Request<Incoming>,
    ) -> impl Future<Output = Result<Response<axum::body::Body>, Infallible>> + Send + use<> {
        let guard = self.state.begin_request();
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let router = self.router.clone();
        async move {
            let response = router.oneshot(req.map(axum::body::Body::new)).await;
            drop(guard);
            response
        }
    }
}
