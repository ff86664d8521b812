//! login-gate: the authgate-client demo as a terminal program.
//!
//! A login screen guards a dashboard that shows the access token's claims,
//! a valid/expired badge and the last five audit records. It reads one
//! command per line from standard input, so it can be driven by hand or
//! by a script; see README.md.

mod app;
mod screens;

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use authgate_client::{Client, ReqwestTransport};

use crate::app::App;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            #[allow(clippy::print_stderr)] // The program's one failure report.
            {
                eprintln!("error: {err:#}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let server = server_arg(std::env::args().skip(1))?;
    let client = Client::new(ReqwestTransport::new(&server)?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    let mut app = App::new(client, server, interactive);
    runtime.block_on(app.run(stdin.lock(), std::io::stdout().lock()))
}

/// The `--server URL` argument (or `AUTHGATE_SERVER` when absent).
fn server_arg(mut args: impl Iterator<Item = String>) -> Result<String> {
    let mut server = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--server" => server = Some(args.next().context("--server needs a URL")?),
            "-h" | "--help" => bail!("usage: login-gate --server URL"),
            other => bail!("unknown argument {other}; usage: login-gate --server URL"),
        }
    }
    match server.or_else(|| std::env::var("AUTHGATE_SERVER").ok()) {
        Some(server) => Ok(server),
        None => bail!("usage: login-gate --server URL"),
    }
}

/// Reads one line without its newline; `None` at the end of input.
fn read_line(input: &mut impl BufRead) -> Result<Option<String>> {
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim_end_matches(['\n', '\r']).to_owned()))
}
