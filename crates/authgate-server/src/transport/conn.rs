//! One connection: the TLS handshake when authgate terminates TLS (bounded
//! by the head timeout: a handshake that never ends is a slowloris too),
//! then hyper serving the router over HTTP/1.1 or HTTP/2 (ALPN over TLS,
//! h2c with prior knowledge otherwise, as axum::serve did), with the
//! client's address for the handlers, and a watchdog closing it when idle
//! or stuck in a request head, or when a newcomer takes its place.

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

use super::io::Watched;
use super::tracker::{ConnState, Slot};
use super::{Hsts, Limits, Security};

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
    /// TLS and HSTS.
    pub(super) security: Security,
}

impl Connection {
    /// Completes the TLS handshake if TLS is on, then serves the
    /// connection (see [`Connection::serve`]). A handshake not done within
    /// the head timeout, failed (plain HTTP, TLS 1.1 or older, no common
    /// protocol) or given way to a newcomer ends the connection.
    pub(super) async fn run<I>(self, io: I, slot: Slot, graceful: Watcher)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Some(acceptor) = self.security.tls.clone() else {
            return self.serve(io, slot, graceful).await;
        };
        let handshake = tokio::time::timeout(self.limits.header_read_timeout, acceptor.accept(io));
        let stream = tokio::select! {
            done = handshake => match done {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    tracing::debug!(peer = %self.peer, %error, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(peer = %self.peer, "TLS handshake too slow; connection closed");
                    return;
                }
            },
            () = slot.state.evicted() => return,
        };
        self.serve(stream, slot, graceful).await;
    }

    /// Serves `io` until the client closes it, it times out, the server
    /// shuts down (requests in flight finish first) or it is evicted.
    async fn serve<I>(self, io: I, slot: Slot, graceful: Watcher)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let state = slot.state.clone();
        let on_tls = self.security.tls.is_some();
        let hsts = self.security.hsts;
        let io = TokioIo::new(Watched::new(
            io,
            state.clone(),
            hsts.on_tls().filter(|_| on_tls).cloned(),
        ));
        let service = RouterService {
            router: self.router,
            peer: self.peer,
            state: state.clone(),
            hsts,
        };
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
    hsts: Hsts,
}

impl RouterService {
    fn call(
        &self,
        mut req: Request<Incoming>,
    ) -> impl Future<Output = Result<Response<axum::body::Body>, Infallible>> + Send + use<> {
        let guard = self.state.begin_request();
        let hsts = self
            .hsts
            .for_request(self.peer.ip(), req.headers())
            .cloned();
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let router = self.router.clone();
        async move {
            let mut response = router.oneshot(req.map(axum::body::Body::new)).await;
            drop(guard);
            if let (Ok(response), Some(hsts)) = (&mut response, hsts) {
                response
                    .headers_mut()
                    .insert(axum::http::header::STRICT_TRANSPORT_SECURITY, hsts);
            }
            response
        }
    }
}
