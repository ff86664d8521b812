//! TLS terminated by authgate (`[server.tls]`), with certificates made at
//! test time (rcgen) and a real TLS client (rustls through tokio-rustls):
//! TLS 1.3 and 1.2 served with HSTS, HTTP/2 by ALPN, TLS 1.1 and plain
//! HTTP refused, a renewed certificate served to new connections while
//! old ones keep working (files changed, or SIGHUP's reload), a handshake
//! that never ends closed after the head timeout, and the pages' cookies
//! `Secure` and `__Host-` by default.
//!
//! The timeouts are the server's socket timers, so these tests use the
//! real clock; each bounds its waits ([`BOUND`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authgate_core::{Clock, SystemClock};
use authgate_server::config::HumanDuration;
use authgate_server::{Application, Settings, TlsReloader};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// The most any test here waits for the server to act.
const BOUND: Duration = Duration::from_secs(10);

/// A test certificate authority, and the certificates it issues for `localhost`.
struct Authority {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Authority {
    fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        Self {
            issuer: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    /// A certificate for `localhost` and its key, as PEM.
    fn leaf(&self) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn root(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }
}

/// A server terminating TLS, built as `authgate serve` builds it.
struct TlsServer {
    address: SocketAddr,
    reloader: TlsReloader,
    cert: PathBuf,
    key: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TlsServer {
    /// Writes a new certificate and key over the served files.
    fn replace_files(&self, cert: &str, key: &str) {
        // Written beside and renamed over, as a certificate renewal does.
        for (path, text) in [(&self.cert, cert), (&self.key, key)] {
            let next = path.with_extension("next");
            std::fs::write(&next, text).unwrap();
            std::fs::rename(&next, path).unwrap();
        }
    }
}

/// Starts a server with TLS on `cert`/`key`, settings from the environment
/// pairs `env` (as `authgate serve` reads them) and then `configure`.
async fn spawn_tls(
    (cert, key): (String, String),
    env: &[(&str, &str)],
    configure: impl FnOnce(&mut Settings),
) -> TlsServer {
    let dir = tempfile::tempdir().unwrap();
    let cert_file = dir.path().join("cert.pem");
    let key_file = dir.path().join("key.pem");
    std::fs::write(&cert_file, cert).unwrap();
    std::fs::write(&key_file, key).unwrap();
    let mut vars: Vec<(String, String)> = vec![
        (
            "AUTHGATE_SERVER__TLS__CERT_FILE".into(),
            cert_file.display().to_string(),
        ),
        (
            "AUTHGATE_SERVER__TLS__KEY_FILE".into(),
            key_file.display().to_string(),
        ),
    ];
    vars.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let mut settings = Settings::load(None, vars).unwrap();
    settings.storage.data_dir = dir.path().join("data");
    settings.server.bind = SocketAddr::from(([127, 0, 0, 1], 0));
    settings.passwords.argon2_memory_kib = 64;
    settings.passwords.argon2_iterations = 1;
    settings.audit.sinks = vec!["database".into()];
    configure(&mut settings);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let app = Application::build(&settings, clock).await.unwrap();
    let address = app.local_addr().unwrap();
    let reloader = app.tls_reloader().expect("TLS is on");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    TlsServer {
        address,
        reloader,
        cert: cert_file,
        key: key_file,
        stop: Some(stop),
        _dir: dir,
    }
}

/// A client trusting `root`, speaking only `versions`, offering `alpn`.
fn connector(
    root: &CertificateDer<'static>,
    versions: &[&'static SupportedProtocolVersion],
    alpn: &[&[u8]],
) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    roots.add(root.clone()).unwrap();
    let mut config = ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_protocol_versions(versions)
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsConnector::from(Arc::new(config))
}

/// A TLS connection to `address` for `localhost`.
async fn connect(connector: &TlsConnector, address: SocketAddr) -> TlsStream<TcpStream> {
    let tcp = TcpStream::connect(address).await.unwrap();
    tokio::time::timeout(
        BOUND,
        connector.connect(ServerName::try_from("localhost").unwrap(), tcp),
    )
    .await
    .expect("the handshake ends within 10 s")
    .expect("the handshake succeeds")
}

fn all_versions() -> Vec<&'static SupportedProtocolVersion> {
    vec![&rustls::version::TLS13, &rustls::version::TLS12]
}

/// One keep-alive HTTP/1.1 `GET path` on `stream`: the answer's head and body.
async fn get<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, path: &str) -> (String, String) {
    let request = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\naccept: text/html\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&answer).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length {
                return (head.to_ascii_lowercase(), body.to_owned());
            }
        }
        let n = tokio::time::timeout(BOUND, stream.read(&mut chunk))
            .await
            .expect("an answer within 10 s")
            .unwrap();
        assert!(n > 0, "the server closed before answering: {text}");
        answer.extend_from_slice(&chunk[..n]);
    }
}

/// Everything the server sends on `stream` until it closes it (a reset
/// counts as closed), and how long that took.
async fn until_closed(stream: &mut TcpStream) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout(BOUND, stream.read(&mut chunk))
            .await
            .expect("the server closes the connection within 10 s")
        {
            Ok(0) | Err(_) => return (answer, started.elapsed()),
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
        }
    }
}

fn peer_cert(stream: &TlsStream<TcpStream>) -> Vec<u8> {
    stream.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

#[tokio::test]
async fn tls_1_3_and_1_2_are_served_with_hsts() {
    let ca = Authority::new();
    let server = spawn_tls(ca.leaf(), &[], |_| {}).await;
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let mut stream = connect(&connector(&ca.root(), &[version], &[]), server.address).await;
        assert_eq!(stream.get_ref().1.protocol_version(), Some(version.version));
        let (head, body) = get(&mut stream, "/healthz").await;
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(body.contains("ok"), "{body}");
        assert!(
            head.contains("strict-transport-security: max-age=31536000\r\n"),
            "{head}"
        );
        let (head, _) = get(&mut stream, "/nowhere").await;
        assert!(head.starts_with("http/1.1 404"), "{head}");
        assert!(
            head.contains("strict-transport-security: max-age=31536000"),
            "errors carry it too: {head}"
        );
    }
}

#[tokio::test]
async fn hsts_max_age_is_configurable_and_zero_disables_it() {
    let ca = Authority::new();
    let server = spawn_tls(
        ca.leaf(),
        &[("AUTHGATE_SERVER__TLS__HSTS_MAX_AGE", "600")],
        |_| {},
    )
    .await;
    let client = connector(&ca.root(), &all_versions(), &[]);
    let (head, _) = get(&mut connect(&client, server.address).await, "/healthz").await;
    assert!(
        head.contains("strict-transport-security: max-age=600\r\n"),
        "{head}"
    );

    let server = spawn_tls(
        ca.leaf(),
        &[("AUTHGATE_SERVER__TLS__HSTS_MAX_AGE", "0")],
        |_| {},
    )
    .await;
    let (head, _) = get(&mut connect(&client, server.address).await, "/healthz").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(!head.contains("strict-transport-security"), "{head}");
}

#[tokio::test]
async fn alpn_h2_negotiates_http_2() {
    let ca = Authority::new();
    let server = spawn_tls(ca.leaf(), &[], |_| {}).await;
    let mut stream = connect(
        &connector(&ca.root(), &all_versions(), &[b"h2", b"http/1.1"]),
        server.address,
    )
    .await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    // The HTTP/2 connection preface; the server's answer starts with its
    // own SETTINGS frame (9-byte frame header, type 0x4).
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let mut frame = [0u8; 9];
    tokio::time::timeout(BOUND, stream.read_exact(&mut frame))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(frame[3], 0x4, "a SETTINGS frame: {frame:?}");

    let mut stream = connect(
        &connector(&ca.root(), &all_versions(), &[b"http/1.1"]),
        server.address,
    )
    .await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (head, _) = get(&mut stream, "/healthz").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
}

/// A ClientHello offering at most TLS 1.1 (0x0302), as an old client
/// sends it: two TLS 1.0/1.1 cipher suites, no extensions.
fn tls_1_1_client_hello() -> Vec<u8> {
    let mut body = vec![0x03, 0x02];
    body.extend_from_slice(&[0x42; 32]); // random
    body.push(0); // no session id
    body.extend_from_slice(&[0x00, 0x04, 0xc0, 0x13, 0x00, 0x2f]); // cipher suites
    body.extend_from_slice(&[0x01, 0x00]); // null compression
    let mut handshake = vec![0x01, 0x00];
    handshake.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&u16::try_from(handshake.len()).unwrap().to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

#[tokio::test]
async fn tls_1_1_and_plain_http_on_the_tls_port_are_refused() {
    let ca = Authority::new();
    let server = spawn_tls(ca.leaf(), &[], |_| {}).await;

    let mut stream = TcpStream::connect(server.address).await.unwrap();
    stream.write_all(&tls_1_1_client_hello()).await.unwrap();
    let (answer, _) = until_closed(&mut stream).await;
    assert_ne!(
        answer.first(),
        Some(&0x16),
        "no ServerHello for TLS 1.1: {answer:?}"
    );
    if let Some(first) = answer.first() {
        assert_eq!(*first, 0x15, "only an alert record: {answer:?}");
    }

    let mut stream = TcpStream::connect(server.address).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .unwrap();
    let (answer, _) = until_closed(&mut stream).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(
        !text.contains("HTTP/"),
        "no HTTP answer on the TLS port: {text:?}"
    );
    assert!(!text.contains("ok"), "{text:?}");
}

#[tokio::test]
async fn a_handshake_that_never_completes_is_closed_after_the_head_timeout() {
    let ca = Authority::new();
    let head_timeout = Duration::from_millis(500);
    let server = spawn_tls(ca.leaf(), &[], |s| {
        s.server.header_read_timeout = HumanDuration(head_timeout);
        // Longer than the head timeout: the handshake's own bound acts.
        s.server.idle_timeout = HumanDuration(Duration::from_secs(60));
    })
    .await;
    // Silent after the TCP handshake, and a ClientHello cut short.
    let opened = Instant::now();
    let mut silent = TcpStream::connect(server.address).await.unwrap();
    let mut partial = TcpStream::connect(server.address).await.unwrap();
    partial
        .write_all(&tls_1_1_client_hello()[..20])
        .await
        .unwrap();
    for stream in [&mut silent, &mut partial] {
        let (answer, _) = until_closed(stream).await;
        let waited = opened.elapsed();
        assert!(answer.is_empty() || answer[0] == 0x15, "{answer:?}");
        assert!(
            waited >= head_timeout - Duration::from_millis(50),
            "closed by the timeout, not at once: {waited:?}"
        );
    }
    // The server still serves.
    let client = connector(&ca.root(), &all_versions(), &[]);
    let (head, _) = get(&mut connect(&client, server.address).await, "/healthz").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
}

#[tokio::test]
async fn a_tls_request_is_served_while_200_connections_hold_unfinished_handshakes() {
    let ca = Authority::new();
    // A cap below the number held: connections still in their handshake
    // give way to newcomers, as half-sent heads do.
    let server = spawn_tls(ca.leaf(), &[], |s| s.server.max_connections = 64).await;
    let mut held = Vec::new();
    for i in 0..200 {
        let mut stream = TcpStream::connect(server.address).await.unwrap();
        if i % 2 == 0 {
            // Half a ClientHello; the others send nothing at all.
            stream
                .write_all(&tls_1_1_client_hello()[..20])
                .await
                .unwrap();
        }
        held.push(stream);
    }
    let client = connector(&ca.root(), &all_versions(), &[]);
    let started = Instant::now();
    let (head, _) = get(&mut connect(&client, server.address).await, "/healthz").await;
    let took = started.elapsed();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        took < Duration::from_secs(2),
        "served at once, not after a timeout: {took:?}"
    );
    drop(held);
}

#[tokio::test]
async fn a_renewed_certificate_is_served_to_new_connections_while_old_ones_keep_working() {
    let ca = Authority::new();
    let server = spawn_tls(
        ca.leaf(),
        &[("AUTHGATE_SERVER__TLS__RELOAD_INTERVAL", "100ms")],
        |_| {},
    )
    .await;
    let client = connector(&ca.root(), &all_versions(), &[]);
    let mut old = connect(&client, server.address).await;
    let first = peer_cert(&old);
    let (head, _) = get(&mut old, "/healthz").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");

    let (cert, key) = ca.leaf();
    server.replace_files(&cert, &key);
    // The periodic look notices the change: wait for a new connection to
    // see it (bounded), never for a fixed time.
    let started = Instant::now();
    let renewed = loop {
        let stream = connect(&client, server.address).await;
        if peer_cert(&stream) != first {
            break stream;
        }
        assert!(
            started.elapsed() < BOUND,
            "the new certificate is served within 10 s"
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut renewed = renewed;
    let (head, _) = get(&mut renewed, "/healthz").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");

    let (head, _) = get(&mut old, "/healthz").await;
    assert!(
        head.starts_with("http/1.1 200"),
        "the connection made before keeps working: {head}"
    );
    assert_eq!(peer_cert(&old), first);
}

#[tokio::test]
async fn sighups_reload_serves_the_new_pair_and_a_bad_pair_keeps_the_old_one() {
    let ca = Authority::new();
    // A look every hour: only the reload SIGHUP calls can change anything.
    let server = spawn_tls(
        ca.leaf(),
        &[("AUTHGATE_SERVER__TLS__RELOAD_INTERVAL", "1h")],
        |_| {},
    )
    .await;
    let client = connector(&ca.root(), &all_versions(), &[]);
    let mut old = connect(&client, server.address).await;
    let first = peer_cert(&old);

    // A key that is not the certificate's: refused, the old pair stays.
    let (cert, _) = ca.leaf();
    let (_, other_key) = ca.leaf();
    server.replace_files(&cert, &other_key);
    let err = server.reloader.reload().unwrap_err().to_string();
    assert!(err.contains("does not match"), "{err}");
    assert_eq!(peer_cert(&connect(&client, server.address).await), first);

    let (cert, key) = ca.leaf();
    server.replace_files(&cert, &key);
    server.reloader.reload().unwrap();
    let fresh = connect(&client, server.address).await;
    assert_ne!(
        peer_cert(&fresh),
        first,
        "new connections get the new certificate"
    );
    let (head, _) = get(&mut old, "/healthz").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
}

#[tokio::test]
async fn over_tls_the_default_public_url_is_https_and_the_pages_cookies_are_secure() {
    let ca = Authority::new();
    let server = spawn_tls(ca.leaf(), &[], |s| {
        assert!(
            s.server.public_url.starts_with("https://"),
            "{}",
            s.server.public_url
        );
        assert!(s.issuer().starts_with("https://"), "{}", s.issuer());
    })
    .await;
    let client = connector(&ca.root(), &all_versions(), &[]);
    let mut stream = connect(&client, server.address).await;
    let (head, body) = get(&mut stream, "/login").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let cookie = head
        .lines()
        .find(|l| l.starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("a form cookie: {head}"));
    assert!(cookie.contains("__host-authgate_form="), "{cookie}");
    assert!(cookie.contains("; secure"), "{cookie}");
    assert!(!body.contains("Not secure"));
    let (head, body) = get(&mut stream, "/.well-known/openid-configuration").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(body.contains("\"issuer\":\"https://"), "{body}");
}

#[tokio::test]
async fn a_start_with_an_unusable_certificate_is_refused_with_the_files_name() {
    let ca = Authority::new();
    let (cert, _) = ca.leaf();
    let (_, other_key) = ca.leaf();
    let dir = tempfile::tempdir().unwrap();
    let cert_file = dir.path().join("cert.pem");
    let key_file = dir.path().join("key.pem");
    std::fs::write(&cert_file, cert).unwrap();
    std::fs::write(&key_file, &other_key).unwrap();
    let mut settings = Settings::load(None, Vec::<(String, String)>::new()).unwrap();
    settings.storage.data_dir = dir.path().join("data");
    settings.server.bind = SocketAddr::from(([127, 0, 0, 1], 0));
    settings.server.tls.cert_file = cert_file.display().to_string();
    settings.server.tls.key_file = key_file.display().to_string();
    let err = Application::build(&settings, Arc::new(SystemClock))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("server.tls.key_file"), "{err}");
    assert!(err.contains(&key_file.display().to_string()), "{err}");
    assert!(err.contains("does not match"), "{err}");
    let key_body: String = other_key.lines().nth(1).unwrap().chars().take(16).collect();
    assert!(!err.contains(&key_body), "{err}");

    settings.server.tls.cert_file = dir.path().join("missing.pem").display().to_string();
    let err = Application::build(&settings, Arc::new(SystemClock))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("server.tls.cert_file") && err.contains("missing.pem"),
        "{err}"
    );
}
