//! TLS terminated by authgate (`[server.tls]`): rustls on the aws-lc-rs
//! provider, TLS 1.2 and 1.3 only, ALPN `h2` and `http/1.1`.
//!
//! The certificate is chosen per handshake by a resolver reading an
//! `ArcSwap`, so a renewed certificate is served to new connections at
//! once while open connections keep the one they were made with. The
//! files are read again every `reload_interval` (a change of either is
//! noticed by a digest of both) and on SIGHUP ([`TlsReloader::reload`]);
//! a pair that fails the checks of start-up (unreadable, not PEM, a key
//! that is not the certificate's, a certificate not valid now) is refused
//! with a logged error and the previous certificate stays.
//!
//! - `certs`: reading and checking the two files;
//! - `error`: [`TlsError`], the messages naming the file and the problem.

mod certs;
mod error;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwap;
use authgate_core::Clock;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio_rustls::TlsAcceptor;

use crate::config::TlsSettings;

pub use error::TlsError;

use certs::PairFiles;

/// The protocols offered by ALPN, most preferred first.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// TLS for the serving loop: the acceptor and the handle that reloads its
/// certificate.
#[derive(Clone)]
pub(crate) struct Tls {
    /// Performs the server side of each handshake.
    pub(crate) acceptor: TlsAcceptor,
    /// Reloads the certificate.
    pub(crate) reloader: TlsReloader,
    /// How often the files are looked at.
    pub(crate) reload_interval: Duration,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("reloader", &self.reloader)
            .field("reload_interval", &self.reload_interval)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// TLS as `settings` describe it, the files read and checked with the
    /// time of `clock`; `None` when TLS is off.
    ///
    /// # Errors
    /// [`TlsError`] when only one file is set, or the pair cannot be served.
    pub(crate) fn from_settings(
        settings: &TlsSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Option<Self>, TlsError> {
        if !settings.is_enabled() {
            return Ok(None);
        }
        let (cert, key) = (settings.cert_file.trim(), settings.key_file.trim());
        if cert.is_empty() || key.is_empty() {
            return Err(TlsError::Incomplete);
        }
        let files = PairFiles {
            cert: PathBuf::from(cert),
            key: PathBuf::from(key),
        };
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let bytes = files.read()?;
        let first = files.certified_key(&bytes, clock.unix(), &provider)?;
        let shared = Arc::new(Shared {
            files,
            current: ArcSwap::new(first),
            seen: Mutex::new(Some(bytes.fingerprint())),
            clock,
            provider: provider.clone(),
        });
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Resolver(shared.clone())));
        config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
        Ok(Some(Self {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            reloader: TlsReloader(shared),
            reload_interval: settings.reload_interval.0,
        }))
    }

    /// Looks at the files every `reload_interval` until the task is
    /// aborted, reloading them when they changed.
    pub(crate) fn watch(&self) -> tokio::task::JoinHandle<()> {
        let reloader = self.reloader.clone();
        let period = self.reload_interval.max(Duration::from_millis(100));
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                // Blocking file reads, off the runtime's workers.
                let reloader = reloader.clone();
                let _ = tokio::task::spawn_blocking(move || reloader.reload_if_changed()).await;
            }
        })
    }
}

/// What the resolver and the reloader share.
#[derive(Debug)]
struct Shared {
    /// Where the certificate and key are read from.
    files: PairFiles,
    /// The certificate new handshakes are given.
    current: ArcSwap<CertifiedKey>,
    /// The digest of the files when last read, to notice a change; `None`
    /// when the last look could not read them.
    seen: Mutex<Option<[u8; 32]>>,
    /// The time certificates are checked at.
    clock: Arc<dyn Clock>,
    /// Loads the private key.
    provider: Arc<CryptoProvider>,
}

/// Gives every handshake the current certificate.
#[derive(Debug)]
struct Resolver(Arc<Shared>);

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.current.load_full())
    }
}

/// Reloads the served certificate from its files: what SIGHUP calls, and
/// what the periodic look does when the files changed.
#[derive(Debug, Clone)]
pub struct TlsReloader(Arc<Shared>);

impl TlsReloader {
    /// Reads both files again and, if they pass the checks of start-up,
    /// serves them to new connections (open connections keep theirs). On
    /// failure the previous certificate stays and the error is logged.
    ///
    /// # Errors
    /// [`TlsError`] naming the file and the problem.
    pub fn reload(&self) -> Result<(), TlsError> {
        let result = self.try_reload();
        self.log(&result);
        result
    }

    /// [`TlsReloader::reload`] if either file changed since the last look;
    /// a pair that failed is not retried (nor logged again) until it
    /// changes once more.
    fn reload_if_changed(&self) {
        let read = self.0.files.read();
        let fingerprint = read.as_ref().ok().map(certs::PairBytes::fingerprint);
        {
            let mut seen = self.0.seen.lock().unwrap_or_else(PoisonError::into_inner);
            if *seen == fingerprint {
                return;
            }
            *seen = fingerprint;
        }
        // An unreadable file is logged once, until it can be read again.
        let result = read.and_then(|bytes| self.install(&bytes));
        self.log(&result);
    }

    fn try_reload(&self) -> Result<(), TlsError> {
        let read = self.0.files.read();
        *self.0.seen.lock().unwrap_or_else(PoisonError::into_inner) =
            read.as_ref().ok().map(certs::PairBytes::fingerprint);
        self.install(&read?)
    }

    fn install(&self, bytes: &certs::PairBytes) -> Result<(), TlsError> {
        let key = self
            .0
            .files
            .certified_key(bytes, self.0.clock.unix(), &self.0.provider)?;
        self.0.current.store(key);
        Ok(())
    }

    fn log(&self, result: &Result<(), TlsError>) {
        match result {
            Ok(()) => tracing::info!(
                cert_file = %self.0.files.cert.display(),
                "TLS certificate reloaded; new connections use it"
            ),
            Err(error) => tracing::error!(
                %error,
                "TLS certificate reload failed; the previous certificate stays in use"
            ),
        }
    }
}

#[cfg(test)]
mod tests;
