//! `authgate client add`: create a service client on the stores directly.

use std::sync::Arc;

use anyhow::Result;
use authgate_core::{Origin, SystemClock};
use authgate_server::{Settings, build_service};
use clap::Subcommand;

/// Service-client commands.
#[derive(Debug, Subcommand)]
pub(crate) enum ClientCommand {
    /// Create a service client (OAuth 2.0 client credentials). Its secret is
    /// printed once and stored only as a hash: keep it now.
    Add {
        /// A name for listings and audit records.
        name: String,
        /// A role to give (repeatable): `admin`, `user`, or one from `[roles]`.
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        /// Print `{"client_id", "client_secret"}` as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) async fn run(settings: &Settings, cmd: ClientCommand) -> Result<()> {
    let (state, _report) = build_service(settings, Arc::new(SystemClock)).await?;
    match cmd {
        ClientCommand::Add { name, roles, json } => {
            let created = state
                .auth
                .create_client(None, &name, roles, &Origin::default())
                .await?;
            let text = if json {
                serde_json::to_string_pretty(&authgate_proto::CreateClientResponse {
                    client_id: created.client.id.clone(),
                    client_secret: created.secret.to_string(),
                })?
            } else {
                format!(
                    "client_id:     {}\nclient_secret: {}\n\nThe secret is shown only this once; \
                     authgate keeps only its hash.",
                    created.client.id,
                    created.secret.as_str()
                )
            };
            // Queued audit events must reach their sinks before the process ends.
            state.auth.flush().await;
            #[allow(clippy::print_stdout)] // Showing the secret once is this command's job.
            {
                println!("{text}");
            }
            Ok(())
        }
    }
}
