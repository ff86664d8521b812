//! Serving the router on a socket with the transport defences axum::serve
//! lacks: a connection cap, timeouts for idle connections, request heads
//! and bodies, bounded heads, and an accept loop that survives running out
//! of file descriptors.
//!
//! - `tracker`: the connection table, the cap and who gives way past it;
//! - `conn`: one connection: the TLS handshake (bounded by the head
//!   timeout), hyper (HTTP/1.1 and HTTP/2), its watchdog;
//! - `io`: the socket wrapper that notes activity and gives hyper's own
//!   error answers (400, 414, 431) docs/http-api.md's error body;
//! - `tls`: the certificate, its checks and its reloading;
//! - `hsts`: when answers carry `Strict-Transport-Security`.

mod conn;
mod hsts;
mod io;
pub(crate) mod tls;
mod tracker;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};

use crate::config::ServerSettings;
use crate::startup::error::BuildError;

use tracker::Tracker;

pub(crate) use hsts::Hsts;

/// The pause after an accept error that is not the peer's doing (out of
/// file descriptors above all): long enough not to spin on a full table,
/// short enough that service resumes quickly once descriptors free up.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The shortest timeout accepted: shorter would cut every connection.
const MIN_TIMEOUT: Duration = Duration::from_millis(100);

/// How often a full table of busy connections is looked at again.
const FULL_RECHECK: Duration = Duration::from_millis(50);

/// The transport settings of `[server]`, as the serving loop uses them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// A request head must be complete this long after its first byte.
    pub(crate) header_read_timeout: Duration,
    /// A connection with no request in progress and no byte received for
    /// this long is closed.
    pub(crate) idle_timeout: Duration,
    /// Connections served at once.
    pub(crate) max_connections: usize,
    /// A request body must have arrived in full this long after its head.
    pub(crate) body_read_timeout: Duration,
}

impl Limits {
    /// The limits `[server]` describes.
    ///
    /// # Errors
    /// [`BuildError`] for a timeout under 100 ms (every connection would be
    /// cut) or a cap of 0 (none would be served).
    pub(crate) fn from_settings(server: &ServerSettings) -> Result<Self, BuildError> {
        for (name, value) in [
            ("header_read_timeout", server.header_read_timeout.0),
            ("body_read_timeout", server.body_read_timeout.0),
            ("idle_timeout", server.idle_timeout.0),
        ] {
            if value < MIN_TIMEOUT {
                return Err(BuildError::TransportTimeout { name, value });
            }
        }
        if server.max_connections == 0 {
            return Err(BuildError::NoConnections);
        }
        Ok(Self {
            header_read_timeout: server.header_read_timeout.0,
            idle_timeout: server.idle_timeout.0,
            max_connections: server.max_connections,
            body_read_timeout: server.body_read_timeout.0,
        })
    }
}

/// Where connections come from: a TCP listener, or in tests a stand-in
/// that fails on demand.
pub(crate) trait Acceptor: Send + 'static {
    /// The connection's byte stream.
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// The next connection and its peer's address.
    fn accept(&mut self) -> impl Future<Output = std::io::Result<(Self::Io, SocketAddr)>> + Send;
}

impl Acceptor for TcpListener {
    type Io = TcpStream;

    async fn accept(&mut self) -> std::io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = TcpListener::accept(self).await?;
        // Small JSON answers: do not wait to fill a segment.
        let _ = stream.set_nodelay(true);
        Ok((stream, peer))
    }
}

/// How connections are secured: TLS (or plain HTTP when `None`), and HSTS.
#[derive(Clone)]
pub(crate) struct Security {
    /// The TLS acceptor when authgate terminates TLS.
    pub(crate) tls: Option<tokio_rustls::TlsAcceptor>,
    /// When answers carry `Strict-Transport-Security`.
    pub(crate) hsts: Hsts,
}

impl Security {
    /// Plain HTTP, no HSTS.
    #[cfg(test)]
    pub(crate) fn plain() -> Self {
        Self {
            tls: None,
            hsts: Hsts::new(0, false, &[]),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets the
/// requests in flight finish (each connection still bound by its timeouts).
///
/// # Errors
/// None today: accept errors are logged and waited out, never fatal; the
/// `Result` keeps `Application::run_until`'s signature.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    security: Security,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    accept_loop(listener, router, limits, security, shutdown).await;
    Ok(())
}

/// Accepts until `shutdown`, then waits for the open connections to end.
async fn accept_loop<A: Acceptor>(
    mut acceptor: A,
    router: Router,
    limits: Limits,
    security: Security,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let tracker = Arc::new(Tracker::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let builder = Arc::new(conn::builder(limits));
    tokio::pin!(shutdown);
    loop {
        let next = async {
            tracker.wait_for_room(FULL_RECHECK).await;
            acceptor.accept().await
        };
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = next => accepted,
        };
        match accepted {
            Ok((io, peer)) => {
                let Some(slot) = tracker.admit() else {
                    // Every connection became busy between the wait and the accept.
                    continue;
                };
                let served = conn::Connection {
                    builder: builder.clone(),
                    router: router.clone(),
                    peer,
                    limits,
                    security: security.clone(),
                };
                tokio::spawn(served.run(io, slot, graceful.watcher()));
            }
            Err(error) => {
                if let Some(pause) = accept_error_pause(&error) {
                    tracing::warn!(%error, pause_ms = pause.as_millis(), "accept failed; pausing");
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }
    drop(acceptor);
    graceful.shutdown().await;
}

/// How long to pause after `error` from accept: not at all when only that
/// one connection failed (the peer reset it before we took it), otherwise
/// [`ACCEPT_BACKOFF`]: out of file descriptors (EMFILE, ENFILE) or memory,
/// retrying at once would spin a core and starve the connections being
/// served of the very descriptors they are about to free.
fn accept_error_pause(error: &std::io::Error) -> Option<Duration> {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    match error.kind() {
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted => None,
        _ => Some(ACCEPT_BACKOFF),
    }
}

#[cfg(test)]
mod tests;
