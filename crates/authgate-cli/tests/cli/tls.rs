//! `authgate serve` with TLS, as an operator runs it: the real binary
//! reloads its certificate on a real SIGHUP, keeps serving, and the start
//! summary names the https address.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::support;

/// The most the test waits for the server to act.
const BOUND: Duration = Duration::from_secs(30);

/// A certificate for `localhost` issued by `ca`, and its key, as PEM.
fn leaf(ca: &CertifiedIssuer<'static, KeyPair>) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    (
        params.signed_by(&key, ca).unwrap().pem(),
        key.serialize_pem(),
    )
}

/// Writes `text` to `path` the way a renewal does: beside it, then renamed.
fn replace(path: &Path, text: &str) {
    let next = path.with_extension("next");
    std::fs::write(&next, text).unwrap();
    std::fs::rename(&next, path).unwrap();
}

/// The certificate a new TLS connection to `address` is shown.
async fn served_cert(connector: &TlsConnector, address: SocketAddr) -> Vec<u8> {
    let tcp = TcpStream::connect(address).await.unwrap();
    let stream = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    stream.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

/// Kills the server when the test ends, passed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[cfg(unix)]
#[tokio::test]
async fn sighup_makes_a_running_server_serve_the_renewed_certificate() {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let (cert, key) = leaf(&ca);
    std::fs::write(&cert_file, cert).unwrap();
    std::fs::write(&key_file, key).unwrap();

    let data_dir = dir.path().join("data");
    let mut env = support::on_stores(&data_dir).to_vec();
    env.extend([
        ("AUTHGATE_SERVER__BIND", "127.0.0.1:0".to_owned()),
        (
            "AUTHGATE_SERVER__TLS__CERT_FILE",
            cert_file.display().to_string(),
        ),
        (
            "AUTHGATE_SERVER__TLS__KEY_FILE",
            key_file.display().to_string(),
        ),
        // Only SIGHUP can make it look at the files during this test.
        ("AUTHGATE_SERVER__TLS__RELOAD_INTERVAL", "1h".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ]);
    let mut child = support::command(&["serve"], &support::borrowed(&env))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Running(child);
    let (lines, summary) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let address: SocketAddr = loop {
        let line = summary
            .recv_timeout(BOUND)
            .expect("authgate serve prints its start-up summary");
        if let Some(url) = line.strip_prefix("authgate listening on ") {
            let address = url
                .strip_prefix("https://")
                .unwrap_or_else(|| panic!("an https address: {url}"));
            break address.parse().unwrap();
        }
    };

    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from(ca.der().to_vec())).unwrap();
    let config = ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = TlsConnector::from(Arc::new(config));
    let first = served_cert(&connector, address).await;

    let (cert, key) = leaf(&ca);
    replace(&key_file, &key);
    replace(&cert_file, &cert);
    assert_eq!(
        served_cert(&connector, address).await,
        first,
        "nothing changes before the signal"
    );
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let started = Instant::now();
    loop {
        if served_cert(&connector, address).await != first {
            break;
        }
        assert!(
            started.elapsed() < BOUND,
            "the renewed certificate is served after SIGHUP"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut server = server;
    assert!(
        server.0.try_wait().unwrap().is_none(),
        "SIGHUP does not stop the server"
    );
}
