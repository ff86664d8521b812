//! The `authgate` binary: parses the command line, loads the configuration
//! once, and runs one command.

mod commands;
mod human;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc rather than the system allocator: a request allocates a few
/// dozen small buffers (headers, JSON, claims) across two worker threads,
/// where glibc's malloc and free took about a tenth of the server's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// authgate: a JWT authentication server, its administration and its client.
#[derive(Debug, Parser)]
#[command(name = "authgate", version, about, propagate_version = true)]
struct Cli {
    /// Configuration file (TOML); `AUTHGATE_*` environment variables override it.
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the auth server.
    Serve(commands::serve::ServeArgs),
    /// Show the effective configuration.
    #[command(subcommand)]
    Config(commands::config::ConfigCommand),
    /// Manage users directly in the configured stores (with or without a running server).
    #[command(subcommand)]
    User(commands::user::UserCommand),
    /// Read the audit trail from the configured database.
    #[command(subcommand)]
    Audit(commands::audit::AuditCommand),
    /// Manage service clients directly in the configured stores.
    #[command(subcommand)]
    Client(commands::client::ClientCommand),
    /// Manage OpenID Connect relying parties directly in the configured stores.
    #[command(subcommand)]
    OidcClient(commands::oidc_client::OidcClientCommand),
    /// Manage signing keys directly in the configured stores.
    #[command(subcommand)]
    Keys(commands::keys::KeysCommand),
    /// Work with tokens offline: decode them for display.
    #[command(subcommand)]
    Token(commands::token::TokenCommand),
    /// Log in to a running server and keep the session (a 0600 file per server).
    Login(commands::session::LoginArgs),
    /// Show who the stored session belongs to (GET /me), refreshing it if needed.
    Whoami(commands::session::WhoamiArgs),
    /// End the stored session on the server and delete its credentials.
    Logout(commands::session::LogoutArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let credentials_dir = credentials_dir();
    let dir = credentials_dir.as_deref();
    let result = match cli.command {
        Command::Token(cmd) => commands::token::run(cmd, dir),
        Command::Login(args) => run_client(commands::session::login(args, dir)),
        Command::Whoami(args) => run_client(commands::session::whoami(args, dir)),
        Command::Logout(args) => run_client(commands::session::logout(args, dir)),
        other => run_async(cli.config, other),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            #[allow(clippy::print_stderr)]
            // The binary's one place that reports failure to the user.
            {
                eprintln!("error: {}", report(&err));
            }
            ExitCode::FAILURE
        }
    }
}

/// `err` and its causes, joined by `: ` as `{:#}` joins them, each cause
/// said once: authgate's errors keep their cause as their source and also
/// name it in their own message, so the message the operator has always
/// read is not followed by its cause again.
fn report(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let cause = cause.to_string();
        if text.contains(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}

/// Commands that need the configuration and the async runtime.
fn run_async(config: Option<PathBuf>, command: Command) -> anyhow::Result<()> {
    let mut settings = authgate_server::Settings::load(config.as_deref(), std::env::vars())?;
    if !matches!(command, Command::Serve(_) | Command::Config(_)) {
        // An administration command's stdout is its answer (a secret shown
        // once, JSON for scripts): audit events go to the other sinks only.
        // `config print` shows what `serve` would run with, so it keeps them.
        settings.audit.sinks.retain(|sink| sink.trim() != "stdout");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match command {
            Command::Serve(args) => commands::serve::run(settings, args).await,
            Command::Config(cmd) => commands::config::run(&settings, cmd),
            Command::User(cmd) => commands::user::run(&settings, cmd).await,
            Command::Keys(cmd) => commands::keys::run(&settings, cmd).await,
            Command::Client(cmd) => commands::client::run(&settings, cmd).await,
            Command::OidcClient(cmd) => commands::oidc_client::run(&settings, cmd).await,
            Command::Audit(cmd) => commands::audit::run(&settings, cmd).await,
            Command::Token(_) | Command::Login(_) | Command::Whoami(_) | Command::Logout(_) => {
                unreachable_without_configuration()
            }
        }
    })
}

fn unreachable_without_configuration() -> anyhow::Result<()> {
    anyhow::bail!("token and session commands run without configuration")
}

/// Client commands: no server configuration, a small runtime.
fn run_client(
    command: impl std::future::Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(command)
}

/// Where `authgate login` keeps credentials files: `$AUTHGATE_CREDENTIALS_DIR`,
/// else `$XDG_CONFIG_HOME/authgate`, else `$HOME/.config/authgate`.
/// Read here, in `main`, so the library never looks at the environment.
fn credentials_dir() -> Option<PathBuf> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    non_empty("AUTHGATE_CREDENTIALS_DIR")
        .map(PathBuf::from)
        .or_else(|| non_empty("XDG_CONFIG_HOME").map(|d| PathBuf::from(d).join("authgate")))
        .or_else(|| non_empty("HOME").map(|h| PathBuf::from(h).join(".config").join("authgate")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_the_message_already_names_is_not_repeated() {
        // A typed error whose message names its source, as BuildError's do.
        let err = anyhow::Error::from(authgate_server::BuildError::Files(
            authgate_server::FsError::Read {
                path: "/nonexistent/authgate-test/master.key".into(),
                source: std::io::Error::other("permission denied"),
            },
        ))
        .context("starting");
        assert_eq!(
            report(&err),
            "starting: cannot read /nonexistent/authgate-test/master.key: permission denied"
        );
    }

    #[test]
    fn causes_the_message_does_not_name_are_joined_as_before() {
        let err = anyhow::anyhow!("inner").context("outer");
        assert_eq!(report(&err), format!("{err:#}"));
    }
}
