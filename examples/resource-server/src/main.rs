//! `resource-server`: serves [`resource_server::app`] with a guard that
//! trusts the authgate server at `--authgate`.

use std::net::SocketAddr;

use anyhow::Context as _;
use authgate_guard::{Guard, VerifierConfig};
use clap::Parser;

/// A small service that trusts a running authgate.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The authgate server: its JWKS is `<URL>/.well-known/jwks.json`.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    authgate: String,
    /// The issuer authgate's tokens carry (its `tokens.issuer`); defaults to `--authgate`.
    #[arg(long)]
    issuer: Option<String>,
    /// The audience this service answers to: authgate's `tokens.audiences`
    /// value that logins for this service ask for.
    #[arg(long, default_value = "authgate")]
    audience: String,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:3000")]
    bind: SocketAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let authgate = args.authgate.trim_end_matches('/');
    let issuer = args.issuer.as_deref().unwrap_or(authgate);
    let guard = Guard::builder(VerifierConfig::new(issuer, &args.audience))
        .jwks_url(format!("{authgate}/.well-known/jwks.json"))
        .permissions(resource_server::permissions())
        .build()
        .context("building the guard")?;
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("listening on {}", args.bind))?;
    tracing::info!(
        bind = %args.bind,
        authgate,
        issuer,
        audience = args.audience,
        public = %resource_server::public_routes(),
        "resource server listening"
    );
    axum::serve(listener, resource_server::app(guard))
        .with_graceful_shutdown(async {
            // Ctrl-C: stop accepting, finish what is in flight.
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving")
}
