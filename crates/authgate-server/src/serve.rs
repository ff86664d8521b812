//! Serving: a built application bound to its port, run until shutdown
//! with its background tasks (upkeep, other instances' announcements, the
//! TLS certificate's reloading).

use std::net::SocketAddr;
use std::sync::Arc;

use authgate_core::Clock;
use tokio::net::TcpListener;

use crate::config::Settings;
use crate::startup::error::BuildError;
use crate::startup::{StartupReport, build_service};
use crate::state::AppState;
use crate::transport::tls::{Tls, TlsReloader};
use crate::transport::{Hsts, Security};

/// A built server, bound to its port, ready to run.
#[derive(Debug)]
pub struct Application {
    /// The bound socket.
    listener: TcpListener,
    /// What the handlers share.
    state: AppState,
    /// What start-up did.
    report: StartupReport,
    /// The transport limits of `[server]`.
    limits: crate::transport::Limits,
    /// TLS, when `[server.tls]` names a certificate.
    tls: Option<Tls>,
    /// When answers carry `Strict-Transport-Security`.
    hsts: Hsts,
}

impl Application {
    /// Builds everything `settings` describe, with time from `clock`, and
    /// binds `server.bind` (port 0 picks a free port, for tests).
    ///
    /// # Errors
    /// [`BuildError`] with a message fit for the operator.
    pub async fn build(settings: &Settings, clock: Arc<dyn Clock>) -> Result<Self, BuildError> {
        let limits = crate::transport::Limits::from_settings(&settings.server)?;
        let tls = Tls::from_settings(&settings.server.tls, clock.clone())?;
        let hsts = Hsts::new(
            settings.server.tls.hsts_max_age,
            tls.is_some(),
            &settings.server.trusted_proxies,
        );
        let (state, report) = build_service(settings, clock).await?;
        let addr = settings.server.bind;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| BuildError::Listen { addr, source })?;
        Ok(Self {
            listener,
            state,
            report,
            limits,
            tls,
            hsts,
        })
    }

    /// Whether connections are served over TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The handle that reloads the TLS certificate from its files (what
    /// SIGHUP calls); `None` without TLS.
    pub fn tls_reloader(&self) -> Option<TlsReloader> {
        self.tls.as_ref().map(|tls| tls.reloader.clone())
    }

    /// The address actually bound.
    ///
    /// # Errors
    /// If the socket has no local address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// What start-up did.
    pub fn report(&self) -> &StartupReport {
        &self.report
    }

    /// The application state (tests reach the service and clock through it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    ///
    /// # Errors
    /// If the server fails.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let upkeep = crate::upkeep::spawn(self.state.clone());
        tracing::info!(to = %self.state.delivery.describe(), "email delivery");
        let mail = self.state.delivery.clone().spawn();
        let follow = crate::scaleout::follow(self.state.clone());
        let watch = self.tls.as_ref().map(Tls::watch);
        let security = Security {
            tls: self.tls.map(|tls| tls.acceptor),
            hsts: self.hsts,
        };
        let state = self.state.clone();
        let app = crate::layers::wrap(
            crate::router::router(self.state.clone()),
            self.limits.body_read_timeout,
            self.state,
        );
        let result =
            crate::transport::serve(self.listener, app, self.limits, security, shutdown).await;
        upkeep.abort();
        follow.abort();
        if let Some(watch) = watch {
            watch.abort();
        }
        mail.abort();
        // Audit records and announcements are queued for background tasks
        // that die with the runtime when the process exits: the last
        // requests' records (failed logins above all) must be written first.
        state.auth.flush().await;
        result
    }
}
