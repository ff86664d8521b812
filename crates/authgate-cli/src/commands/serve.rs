//! `authgate serve`: run the auth server until Ctrl-C or SIGTERM; SIGHUP
//! reloads the TLS certificate.

use std::io::IsTerminal;
use std::sync::Arc;

use anyhow::{Context, Result};
use authgate_core::SystemClock;
use authgate_server::master_key::MasterKeySource;
use authgate_server::{Application, Settings};
use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Write logs as JSON lines instead of text.
    #[arg(long)]
    log_json: bool,
}

pub(crate) async fn run(settings: Settings, args: ServeArgs) -> Result<()> {
    init_logging(args.log_json);
    let app = Application::build(&settings, Arc::new(SystemClock)).await?;
    let addr = app.local_addr().context("reading the bound address")?;
    let report = app.report();
    let scheme = if app.is_tls() { "https" } else { "http" };
    let mut lines = vec![
        format!("authgate listening on {scheme}://{addr}"),
        format!("  database:    {}", report.database),
        format!(
            "  signing key: {} (kid {})",
            report.algorithm, report.signing_kid
        ),
        format!("  issuer:      {}", settings.issuer()),
    ];
    match &report.master_key {
        MasterKeySource::Environment => lines.push("  master key:  from AUTHGATE_STORAGE__MASTER_KEY".into()),
        MasterKeySource::File(path) => lines.push(format!("  master key:  {}", path.display())),
        MasterKeySource::Generated(path) => lines.push(format!(
            "  master key:  generated {} (mode 0600); back it up apart from the database: without it the stored keys cannot be read",
            path.display()
        )),
    }
    if report.users == 0 {
        lines.push(String::new());
        lines.push("No users yet. Create the first administrator with:".into());
        lines.push(
            "  authgate user add --email you@example.com --role admin --password-stdin".into(),
        );
        lines.push("(through cargo: cargo run -p authgate -- user add …)".into());
    }
    #[allow(clippy::print_stdout)] // The start-up summary is for the operator at the terminal.
    {
        println!("{}", lines.join("\n"));
    }
    let reload = app
        .tls_reloader()
        .map(|reloader| tokio::spawn(reload_on_hangup(reloader)));
    app.run_until(shutdown_signal()).await.context("serving")?;
    if let Some(reload) = reload {
        reload.abort();
    }
    tracing::info!("shut down");
    Ok(())
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour only on a terminal: escape codes have no place in a log file,
    // and styling every request span's fields cost CPU on each request.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Reloads the TLS certificate on each SIGHUP (the reloader logs the outcome;
/// a failed reload keeps the certificate in use).
async fn reload_on_hangup(reloader: authgate_server::TlsReloader) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            tracing::warn!(
                "cannot listen for SIGHUP; the certificate is still reloaded when its files change"
            );
            return;
        };
        while hangups.recv().await.is_some() {
            let _ = reloader.reload();
        }
    }
    #[cfg(not(unix))]
    drop(reloader);
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
