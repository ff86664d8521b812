//! `authgate oidc-client add|list|delete`: OpenID Connect relying parties,
//! on the stores directly.

use std::sync::Arc;

use anyhow::Result;
use authgate_core::oidc::OidcClientSpec;
use authgate_core::oidc::client::OidcClient;
use authgate_core::{Origin, SystemClock};
use authgate_server::{Settings, build_service};
use clap::Subcommand;

/// Relying-party commands.
#[derive(Debug, Subcommand)]
pub(crate) enum OidcClientCommand {
    /// Register a relying party. A confidential client's secret is printed
    /// once and stored only as a hash: keep it now.
    Add {
        /// Shown to users on the consent page.
        name: String,
        /// An exact redirect URI (repeatable, at least one): https, or http
        /// on 127.0.0.1 / [::1] (any port matches).
        #[arg(long = "redirect-uri", value_name = "URI", required = true)]
        redirect_uris: Vec<String>,
        /// A URI RP-initiated logout may redirect to (repeatable).
        #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
        post_logout_redirect_uris: Vec<String>,
        /// A scope the client may ask for (repeatable): profile, email,
        /// offline_access (a refresh token);
        /// openid is always allowed.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// A public client (single-page or native app): no secret, PKCE only.
        #[arg(long)]
        public: bool,
        /// The operator's own application: its users see no consent page.
        #[arg(long)]
        first_party: bool,
        /// Print the `POST /admin/oidc-clients` response body as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the relying parties.
    List {
        /// Print `{"clients": [...]}` as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a relying party: it can start no new sign-in.
    Delete {
        /// The `client_id`.
        client_id: String,
    },
}

pub(crate) async fn run(settings: &Settings, cmd: OidcClientCommand) -> Result<()> {
    let (state, _report) = build_service(settings, Arc::new(SystemClock)).await?;
    let text = match cmd {
        OidcClientCommand::Add {
            name,
            redirect_uris,
            post_logout_redirect_uris,
            scopes,
            public,
            first_party,
            json,
        } => {
            let spec = OidcClientSpec {
                name,
                public,
                redirect_uris,
                post_logout_redirect_uris,
                scopes,
                first_party,
            };
            let created = state
                .auth
                .create_oidc_client(None, spec, &Origin::default())
                .await?;
            if json {
                serde_json::to_string_pretty(&authgate_proto::CreateOidcClientResponse {
                    client: info(&created.client),
                    client_secret: created.secret.as_ref().map(|s| s.to_string()),
                })?
            } else {
                let mut text = format!("client_id:     {}\n", created.client.id);
                match &created.secret {
                    Some(secret) => text.push_str(&format!(
                        "client_secret: {}\n\nThe secret is shown only this once; \
                         authgate keeps only its hash.",
                        secret.as_str()
                    )),
                    None => text.push_str("(public client: no secret; it must use PKCE)"),
                }
                text
            }
        }
        OidcClientCommand::List { json } => {
            let clients = state.auth.oidc_clients().await?;
            if json {
                serde_json::to_string_pretty(&authgate_proto::OidcClientsResponse {
                    clients: clients.iter().map(info).collect(),
                })?
            } else {
                clients
                    .iter()
                    .map(|c| {
                        format!(
                            "{}  {}  {}{}  scopes: {}  redirect: {}",
                            c.id,
                            authgate_core::text::escaped(&c.name),
                            if c.is_confidential() {
                                "confidential"
                            } else {
                                "public"
                            },
                            if c.first_party { ", first-party" } else { "" },
                            c.scopes.join(" "),
                            c.redirect_uris.join(" "),
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        }
        OidcClientCommand::Delete { client_id } => {
            state
                .auth
                .delete_oidc_client(None, &client_id, &Origin::default())
                .await?;
            format!("deleted {client_id}")
        }
    };
    // Queued audit events must reach their sinks before the process ends.
    state.auth.flush().await;
    #[allow(clippy::print_stdout)] // Showing the result (and a secret once) is this command's job.
    {
        println!("{text}");
    }
    Ok(())
}

/// A client as the API and `--json` show it.
fn info(client: &OidcClient) -> authgate_proto::OidcClientInfo {
    authgate_proto::OidcClientInfo {
        client_id: client.id.clone(),
        name: client.name.clone(),
        public: !client.is_confidential(),
        redirect_uris: client.redirect_uris.clone(),
        post_logout_redirect_uris: client.post_logout_redirect_uris.clone(),
        scopes: client.scopes.clone(),
        first_party: client.first_party,
        created_at: client.created_at,
    }
}
