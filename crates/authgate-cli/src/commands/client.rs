//! `authgate client add|disable|enable`: service clients on the stores directly.

use std::sync::Arc;

use anyhow::{Result, bail};
use authgate_core::{AuthError, AuthService, Origin, SystemClock, text};
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
    /// Disable a service client: it keeps its record and secret, but gets
    /// no tokens and its live tokens are refused (by running servers too).
    Disable {
        /// The client id (`svc_…`).
        client_id: String,
    },
    /// Enable a disabled service client: its secret and unexpired tokens
    /// work again.
    Enable {
        /// The client id (`svc_…`).
        client_id: String,
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
        ClientCommand::Disable { client_id } => set_active(&state.auth, &client_id, false).await,
        ClientCommand::Enable { client_id } => set_active(&state.auth, &client_id, true).await,
    }
}

async fn set_active(service: &AuthService, id: &str, active: bool) -> Result<()> {
    // Through the service, so the change is audited; running servers read
    // the client's state at each use, so they see it at once.
    let outcome = service
        .set_client_active(None, id, active, &Origin::default())
        .await;
    // Queued audit events must reach their sinks before the process ends.
    service.flush().await;
    let client = match outcome {
        Ok(client) => client,
        Err(AuthError::NotFound) => bail!("no service client with id {}", text::escaped(id)),
        Err(e) => return Err(e.into()),
    };
    #[allow(clippy::print_stdout)] // Reporting the new state is this command's job.
    {
        println!(
            "{} {}  {}",
            if client.is_active {
                "enabled"
            } else {
                "disabled"
            },
            client.id,
            text::escaped(&client.name)
        );
    }
    Ok(())
}
