//! The `authgate` binary: parses the command line, loads the configuration
//! once, and runs one command.

mod commands;
mod human;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    /// Manage signing keys directly in the configured stores.
    #[command(subcommand)]
    Keys(commands::keys::KeysCommand),
    /// Work with tokens offline: decode them for display.
    #[command(subcommand)]
    Token(commands::token::TokenCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Token(cmd) => commands::token::run(cmd),
        other => run_async(cli.config, other),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            #[allow(clippy::print_stderr)]
            // The binary's one place that reports failure to the user.
            {
                eprintln!("error: {err:#}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Commands that need the configuration and the async runtime.
fn run_async(config: Option<PathBuf>, command: Command) -> anyhow::Result<()> {
    let settings = authgate_server::Settings::load(config.as_deref(), std::env::vars())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match command {
            Command::Serve(args) => commands::serve::run(settings, args).await,
            Command::Config(cmd) => commands::config::run(&settings, cmd),
            Command::User(cmd) => commands::user::run(&settings, cmd).await,
            Command::Keys(cmd) => commands::keys::run(&settings, cmd).await,
            Command::Token(_) => unreachable_token(),
        }
    })
}

fn unreachable_token() -> anyhow::Result<()> {
    anyhow::bail!("token commands run without configuration")
}
