//! `authgate config print`: the effective configuration, secrets masked.

use anyhow::Result;
use authgate_server::Settings;
use clap::Subcommand;

/// Configuration commands.
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Print the effective configuration (defaults, file, environment) as TOML, secrets masked.
    Print {
        /// Print one JSON document instead of TOML.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(settings: &Settings, cmd: ConfigCommand) -> Result<()> {
    let ConfigCommand::Print { json } = cmd;
    let text = if json {
        serde_json::to_string_pretty(settings)?
    } else {
        settings.to_masked_toml()?
    };
    #[allow(clippy::print_stdout)] // Printing the configuration is this command's job.
    {
        println!("{text}");
    }
    Ok(())
}
