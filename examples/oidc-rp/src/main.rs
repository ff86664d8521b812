//! `oidc-rp`: runs the example relying party. See README.md.

use anyhow::{Context, Result};
use clap::Parser;
use oidc_rp::{AppState, Provider, RelyingParty, app};

/// A tiny web app that signs its users in with authgate and shows their ID token's claims.
#[derive(Debug, Parser)]
struct Args {
    /// authgate's issuer URL (its `server.public_url`).
    #[arg(long)]
    issuer: String,
    /// The client id `authgate oidc-client add` printed. A confidential
    /// client's secret is read from `OIDC_RP_CLIENT_SECRET` (never a flag:
    /// other users of the machine can read a process's arguments).
    #[arg(long)]
    client_id: String,
    /// Where to listen (127.0.0.1 and any port match the loopback redirect
    /// URIs `http://127.0.0.1/callback` and `http://127.0.0.1/`).
    #[arg(long, default_value = "127.0.0.1:8400")]
    listen: String,
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let base = format!("http://{}", listener.local_addr()?);
    let provider = Provider::discover(&args.issuer).await?;
    let rp = RelyingParty {
        client_id: args.client_id,
        client_secret: std::env::var("OIDC_RP_CLIENT_SECRET")
            .ok()
            .filter(|s| !s.is_empty()),
        redirect_uri: format!("{base}/callback"),
        post_logout_redirect_uri: format!("{base}/"),
    };
    // The one line a script waits for (the tests read the port from it).
    #[allow(clippy::print_stdout)]
    {
        println!("oidc-rp listening on {base}");
    }
    axum::serve(listener, app(AppState::new(provider, rp))).await?;
    Ok(())
}
