//! `authgate audit tail`: the audit trail from the database sink, on the
//! stores directly (with or without a running server).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use authgate_core::{AuditFilter, AuthService, LoginName, SystemClock, text};
use authgate_proto::AuditEvent;
use authgate_server::{Settings, build_service};
use clap::Subcommand;
use uuid::Uuid;

/// How often `--follow` asks for new events.
const FOLLOW_INTERVAL: Duration = Duration::from_secs(1);

/// Audit commands.
#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Print the latest audit events, oldest first; `--follow` keeps printing new ones.
    Tail {
        /// Keep running and print events as they are recorded.
        #[arg(long)]
        follow: bool,
        /// Only events of this kind (`login.failed`, `user.disabled`, …).
        #[arg(long)]
        kind: Option<String>,
        /// Only events about this user (email, username or id).
        #[arg(long)]
        user: Option<String>,
        /// How many of the latest events to print first.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Print JSON lines (one event per line).
        #[arg(long)]
        json: bool,
    },
}

pub(crate) async fn run(settings: &Settings, cmd: AuditCommand) -> Result<()> {
    let (state, _report) = build_service(settings, Arc::new(SystemClock)).await?;
    let AuditCommand::Tail {
        follow,
        kind,
        user,
        limit,
        json,
    } = cmd;
    let user_id = match user {
        Some(user) => Some(resolve_user(&state.auth, &user).await?),
        None => None,
    };
    let mut filter = AuditFilter {
        user_id,
        kind,
        since: None,
        limit: limit.clamp(1, 10_000),
        ..AuditFilter::default()
    };
    let mut last = print_new(&state.auth, &filter, None, json).await?;
    if !follow {
        return Ok(());
    }
    loop {
        tokio::time::sleep(FOLLOW_INTERVAL).await;
        // Events at or after the last one printed; ids already printed are skipped.
        filter.since = last.as_ref().map(|e| e.at);
        filter.limit = 10_000;
        if let Some(newest) = print_new(&state.auth, &filter, last.as_ref(), json).await? {
            last = Some(newest);
        }
    }
}

/// Prints the events of `filter` newer than `after`, oldest first; returns
/// the newest printed.
async fn print_new(
    service: &AuthService,
    filter: &AuditFilter,
    after: Option<&AuditEvent>,
    json: bool,
) -> Result<Option<AuditEvent>> {
    let mut events = service.audit_events(filter).await?;
    events.reverse();
    let fresh: Vec<AuditEvent> = events
        .into_iter()
        .filter(|e| after.is_none_or(|a| (e.at, e.id) > (a.at, a.id)))
        .collect();
    for event in &fresh {
        let line = if json {
            serde_json::to_string(event)?
        } else {
            human(event)
        };
        #[allow(clippy::print_stdout)] // Printing the trail is this command's job.
        {
            println!("{line}");
        }
    }
    Ok(fresh.last().cloned().or_else(|| after.cloned()))
}

/// One line for a person: time, kind, who, from where, details.
fn human(e: &AuditEvent) -> String {
    let at =
        e.at.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
    let mut parts = vec![at, e.kind.to_string()];
    if let Some(user) = e.user_id {
        parts.push(format!("user={user}"));
    }
    // Ids and details may hold what a client typed: printed escaped.
    if let Some(actor) = &e.actor_id {
        parts.push(format!("actor={}", text::escaped(actor)));
    }
    if let Some(client) = &e.client_id {
        parts.push(format!("client={}", text::escaped(client)));
    }
    if let Some(ip) = e.ip {
        parts.push(format!("ip={ip}"));
    }
    if !e.details.is_empty() {
        let details = serde_json::Value::Object(e.details.clone()).to_string();
        parts.push(text::escaped(&details));
    }
    parts.join("  ")
}

/// A user id from an id, an email or a username.
async fn resolve_user(service: &AuthService, user: &str) -> Result<Uuid> {
    if let Ok(id) = Uuid::parse_str(user) {
        return Ok(id);
    }
    let found = service.find_user(&LoginName::parse("user", user)?).await?;
    found
        .map(|u| u.id)
        .with_context(|| format!("no user with email or username {user:?}"))
}
