//! The `authgate` binary: parses the command line and runs one command.

mod commands;
mod human;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// authgate: a JWT authentication server, its administration and its client.
#[derive(Debug, Parser)]
#[command(name = "authgate", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Work with tokens offline: decode them for display.
    #[command(subcommand)]
    Token(commands::token::TokenCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Token(cmd) => commands::token::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            #[allow(clippy::print_stderr)] // The binary's one place that reports failure to the user.
            {
                eprintln!("error: {err:#}");
            }
            ExitCode::FAILURE
        }
    }
}
