//! `authgate keys list|rotate|jwks`: the signing keys, on the stores directly.

use std::sync::Arc;

use anyhow::Result;
use authgate_core::SystemClock;
use authgate_proto::KeyInfo;
use authgate_server::{Settings, build_service};
use clap::Subcommand;

/// Key commands.
#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// List the signing keys and their states (never key material).
    List {
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Rotate now: the next key (or a new one) signs, the active key retires, a new next key is created.
    Rotate {
        /// Print the keys afterwards as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the JWKS that `/.well-known/jwks.json` serves.
    Jwks,
}

pub(crate) async fn run(settings: &Settings, cmd: KeysCommand) -> Result<()> {
    // Loading applies any transition that is due, like the server's scheduler.
    let (state, _report) = build_service(settings, Arc::new(SystemClock)).await?;
    let text = match cmd {
        KeysCommand::List { json } => render(&state.keys.ring().infos, json)?,
        KeysCommand::Rotate { json } => {
            // Announced: running instances load the new key at once (with
            // Redis), not at their next poll.
            state
                .maintenance
                .rotate_keys_by(None, &authgate_core::Origin::default())
                .await?;
            state.auth.flush().await;
            let ring = state.keys.ring();
            let mut text = render(&ring.infos, json)?;
            if !json {
                text.push_str(&format!(
                    "\nrotated: {} now signs; running servers pick it up within 10 s",
                    ring.signing.kid().unwrap_or_default()
                ));
            }
            text
        }
        KeysCommand::Jwks => serde_json::to_string_pretty(&state.keys.ring().jwks())?,
    };
    // Queued audit events must reach their sinks before the process ends.
    state.auth.flush().await;
    #[allow(clippy::print_stdout)] // Printing the keys is this command's job.
    {
        println!("{text}");
    }
    Ok(())
}

fn render(infos: &[KeyInfo], json: bool) -> Result<String> {
    if json {
        return Ok(serde_json::to_string_pretty(
            &serde_json::json!({ "keys": infos }),
        )?);
    }
    let date = |d: Option<time::OffsetDateTime>| {
        d.map_or_else(
            || "-".to_owned(),
            |d| crate::human::date(d.unix_timestamp()),
        )
    };
    Ok(infos
        .iter()
        .map(|k| {
            format!(
                "{:<44} {:<6} {:<8} activates {:<20} retires {:<20} expires {}",
                k.kid,
                k.alg,
                format!("{:?}", k.state).to_lowercase(),
                date(k.activates_at),
                date(k.retires_at),
                date(k.expires_at)
            )
        })
        .collect::<Vec<_>>()
        .join("\n"))
}
