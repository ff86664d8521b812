//! The accept loop's handling of errors, with an acceptor that fails on demand.

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;

/// Fails with the queued errors, then hands out the queued streams, then
/// waits forever; counts its calls.
struct Scripted {
    errors: VecDeque<std::io::Error>,
    streams: VecDeque<DuplexStream>,
    calls: Arc<Mutex<Vec<tokio::time::Instant>>>,
}

impl Acceptor for Scripted {
    type Io = DuplexStream;

    async fn accept(&mut self) -> std::io::Result<(DuplexStream, SocketAddr)> {
        self.calls.lock().unwrap().push(tokio::time::Instant::now());
        if let Some(error) = self.errors.pop_front() {
            return Err(error);
        }
        match self.streams.pop_front() {
            Some(stream) => Ok((stream, SocketAddr::from(([127, 0, 0, 1], 40000)))),
            None => std::future::pending().await,
        }
    }
}

fn limits() -> Limits {
    Limits {
        header_read_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(10),
        max_connections: 8,
        body_read_timeout: Duration::from_secs(10),
    }
}

#[tokio::test(start_paused = true)]
async fn out_of_file_descriptors_the_loop_backs_off_then_serves_again() {
    const EMFILE: i32 = 24;
    const ENFILE: i32 = 23;
    let (client, server) = tokio::io::duplex(4096);
    let calls = Arc::new(Mutex::new(Vec::new()));
    let acceptor = Scripted {
        errors: (0..5)
            .map(|i| std::io::Error::from_raw_os_error(if i % 2 == 0 { EMFILE } else { ENFILE }))
            .collect(),
        streams: VecDeque::from([server]),
        calls: calls.clone(),
    };
    let router = Router::new().route("/healthz", get(|| async { "ok" }));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let started = tokio::time::Instant::now();
    let server = tokio::spawn(accept_loop(
        acceptor,
        router,
        limits(),
        Security::plain(),
        async {
            let _ = stopped.await;
        },
    ));

    let mut client = client;
    client
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    client.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let calls = calls.lock().unwrap().clone();
    assert!(
        calls.len() >= 6,
        "five failures, then the connection: {calls:?}"
    );
    for pair in calls[..6].windows(2) {
        assert!(
            pair[1] - pair[0] >= ACCEPT_BACKOFF,
            "each failure is followed by a pause, not a retry at once"
        );
    }
    assert!(
        calls[5] - started < ACCEPT_BACKOFF * 6,
        "and no longer than the back-off"
    );
    stop.send(()).unwrap();
    server.await.unwrap();
}

#[test]
fn a_connection_the_peer_reset_is_skipped_without_a_pause() {
    let reset = std::io::Error::from(std::io::ErrorKind::ConnectionAborted);
    assert_eq!(accept_error_pause(&reset), None);
    let emfile = std::io::Error::from_raw_os_error(24);
    assert_eq!(accept_error_pause(&emfile), Some(ACCEPT_BACKOFF));
}

#[test]
fn a_timeout_too_short_to_serve_anything_or_a_cap_of_zero_is_refused() {
    let mut server = ServerSettings::default();
    assert!(Limits::from_settings(&server).is_ok());
    server.idle_timeout = crate::config::HumanDuration(Duration::ZERO);
    let err = Limits::from_settings(&server).unwrap_err().to_string();
    assert!(err.contains("server.idle_timeout"), "{err}");
    let server = ServerSettings {
        max_connections: 0,
        ..ServerSettings::default()
    };
    assert!(Limits::from_settings(&server).is_err());
}
