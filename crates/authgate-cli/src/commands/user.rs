//! `authgate user add|list|grant|disable|enable|mfa-reset`: administration on the stores directly.

use std::io::BufRead;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use authgate_core::{
    AuthService, LoginName, Origin, Password, Registration, SystemClock, User, UserQuery, text,
};
use authgate_proto::permissions::Permissions;
use authgate_server::{Settings, build_service};
use clap::{Args, Subcommand};

/// User commands.
#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Create a user (works even when registration is closed).
    Add(AddArgs),
    /// List users.
    List(ListArgs),
    /// Give a user a role.
    Grant {
        /// Email or username.
        user: String,
        /// Role name (`admin`, `user`, or one from `[roles]`).
        role: String,
    },
    /// Disable a user and revoke all of their sessions.
    Disable {
        /// Email or username.
        user: String,
    },
    /// Enable a disabled user.
    Enable {
        /// Email or username.
        user: String,
    },
    /// Remove a user's second factor (authenticator app and recovery
    /// codes, for someone who lost them) and end all of their sessions.
    MfaReset {
        /// Email or username.
        user: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct AddArgs {
    /// Email address.
    #[arg(long)]
    email: String,
    /// Optional username.
    #[arg(long)]
    username: Option<String>,
    /// Optional display name.
    #[arg(long)]
    name: Option<String>,
    /// Read the password from the first line of standard input (the trailing newline is dropped).
    #[arg(long, required = true)]
    password_stdin: bool,
    /// A role to give (repeatable); defaults to `registration.default_roles`.
    #[arg(long = "role", value_name = "ROLE")]
    roles: Vec<String>,
    /// Print the created user as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only users whose email or username starts with this.
    #[arg(long)]
    prefix: Option<String>,
    /// At most this many users.
    #[arg(long, default_value_t = 200)]
    limit: u32,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn run(settings: &Settings, cmd: UserCommand) -> Result<()> {
    let (state, _report) = build_service(settings, Arc::new(SystemClock)).await?;
    let service = &state.auth;
    let result = match cmd {
        UserCommand::Add(args) => add(settings, &state.permissions, service, args).await,
        UserCommand::List(args) => list(service, args).await,
        UserCommand::Grant { user, role } => grant(&state.permissions, service, &user, &role).await,
        UserCommand::Disable { user } => set_active(service, &user, false).await,
        UserCommand::Enable { user } => set_active(service, &user, true).await,
        UserCommand::MfaReset { user } => mfa_reset(service, &user).await,
    };
    // Queued audit events must reach their sinks before the process ends,
    // and announcements (a disable) the running instances.
    service.flush().await;
    result
}

async fn add(
    settings: &Settings,
    permissions: &Permissions,
    service: &AuthService,
    args: AddArgs,
) -> Result<()> {
    let roles = if args.roles.is_empty() {
        settings.registration.default_roles.clone()
    } else {
        args.roles
    };
    for role in &roles {
        check_role(permissions, role)?;
    }
    let password = read_password_line()?;
    let user = service
        .create_user(
            Registration {
                email: args.email,
                password: Password::new(password.to_string())?,
                username: args.username,
                name: args.name,
            },
            roles,
            &Origin::default(),
        )
        .await?;
    print_user(&user, args.json, "created")
}

async fn list(service: &AuthService, args: ListArgs) -> Result<()> {
    let users = service
        .list_users(&UserQuery {
            after: None,
            limit: args.limit.clamp(1, 10_000),
            prefix: args
                .prefix
                .map(|p| LoginName::parse("prefix", &p).map(LoginName::into_string))
                .transpose()?,
        })
        .await?;
    let text = if args.json {
        let public: Vec<_> = users.iter().map(User::to_public).collect();
        serde_json::to_string_pretty(&serde_json::json!({ "users": public }))?
    } else if users.is_empty() {
        "no users".to_owned()
    } else {
        users
            .iter()
            .map(|u| {
                format!(
                    "{}  {:<32} {:<20} {:<16} {}",
                    u.id,
                    text::escaped(&u.email),
                    text::escaped(u.username.as_deref().unwrap_or("-")),
                    u.roles.join(","),
                    if u.is_active { "active" } else { "disabled" }
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    say(&text);
    Ok(())
}

async fn grant(
    permissions: &Permissions,
    service: &AuthService,
    login: &str,
    role: &str,
) -> Result<()> {
    check_role(permissions, role)?;
    let user = find(service, login).await?;
    let mut roles = user.roles.clone();
    if !roles.iter().any(|r| r == role) {
        roles.push(role.to_owned());
    }
    let updated = service
        .set_roles(None, user.id, roles, &Origin::default())
        .await?;
    print_user(&updated, false, "updated")
}

async fn set_active(service: &AuthService, login: &str, active: bool) -> Result<()> {
    let user = find(service, login).await?;
    // Through the service, so the change is audited; running servers see
    // the revoked sessions within a second.
    let (updated, revoked) = service
        .set_active(None, user.id, active, &Origin::default())
        .await?;
    print_user(&updated, false, if active { "enabled" } else { "disabled" })?;
    if !active {
        say(&format!("revoked {revoked} session(s)"));
    }
    Ok(())
}

async fn mfa_reset(service: &AuthService, login: &str) -> Result<()> {
    let user = find(service, login).await?;
    // Through the service: audited as mfa.reset, the sessions revoked and
    // announced like a disable's.
    let ended = service.reset_mfa(None, user.id, &Origin::default()).await?;
    say(&format!(
        "reset the second factor of {} ({}); revoked {ended} session(s)",
        text::escaped(&user.email),
        user.id
    ));
    Ok(())
}

async fn find(service: &AuthService, login: &str) -> Result<User> {
    service
        .find_user(&LoginName::parse("login", login)?)
        .await?
        .with_context(|| format!("no user with email or username {login:?}"))
}

/// Roles are `admin`, `user`, and the names configured in `[roles]`: the
/// roles the server's permission map knows.
fn check_role(permissions: &Permissions, role: &str) -> Result<()> {
    if permissions.is_known_role(role) {
        Ok(())
    } else {
        bail!("unknown role {role:?}: roles are admin, user, or one defined in [roles]")
    }
}

/// One line of standard input without its line ending, zeroized after use.
fn read_password_line() -> Result<zeroize::Zeroizing<String>> {
    let mut line = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let trimmed = line.trim_end_matches(['\n', '\r']).to_owned();
    if trimmed.is_empty() {
        bail!("no password on standard input");
    }
    Ok(zeroize::Zeroizing::new(trimmed))
}

fn print_user(user: &User, json: bool, verb: &str) -> Result<()> {
    let text = if json {
        serde_json::to_string_pretty(&user.to_public())?
    } else {
        format!(
            "{verb} {} ({}) roles={} {}",
            text::escaped(&user.email),
            user.id,
            user.roles.join(","),
            if user.is_active { "active" } else { "disabled" }
        )
    };
    say(&text);
    Ok(())
}

fn say(text: &str) {
    #[allow(clippy::print_stdout)] // These commands report to the operator at the terminal.
    {
        println!("{text}");
    }
}
