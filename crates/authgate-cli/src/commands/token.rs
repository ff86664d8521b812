//! `authgate token …`: offline token inspection.

use std::io::Read;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use crate::human;

/// Token commands.
#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Decode a JWT WITHOUT verifying it: header, claims, dates and whether it has expired.
    /// Without a token, decodes the access token stored by `authgate login`.
    Decode(DecodeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DecodeArgs {
    /// The token; `-` reads it from standard input; left out, the stored one.
    token: Option<String>,
    /// Which stored session, when no token is given.
    #[command(flatten)]
    stored: crate::commands::session::Target,
    /// Print one JSON document instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs a token command; `credentials_dir` is where `authgate login` keeps
/// sessions unless `--credentials-dir` says otherwise.
pub(crate) fn run(cmd: TokenCommand, credentials_dir: Option<&Path>) -> Result<()> {
    match cmd {
        TokenCommand::Decode(args) => decode(&args, credentials_dir),
    }
}

/// The registered time claims, in display order.
const TIME_CLAIMS: [&str; 3] = ["iat", "nbf", "exp"];

fn decode(args: &DecodeArgs, credentials_dir: Option<&Path>) -> Result<()> {
    let token = match &args.token {
        Some(arg) => read_token(arg)?,
        None => args.stored.stored(credentials_dir)?.1.access_token,
    };
    let decoded = authgate_jwt::decode_unverified::<Map<String, Value>>(&token)
        .context("not a decodable JWT")?;
    let now = unix_now()?;
    let status = match authgate_jwt::expires_in(&token, now)? {
        None => Status::NoExpiry,
        Some(left) if left > 0 => Status::ValidFor(left.unsigned_abs()),
        Some(left) => Status::ExpiredAgo(left.unsigned_abs()),
    };
    let dates: Map<String, Value> = TIME_CLAIMS
        .iter()
        .filter_map(|name| {
            let at = decoded.claims.get(*name)?.as_i64()?;
            Some(((*name).to_owned(), Value::String(human::date(at))))
        })
        .collect();

    let text = if args.json {
        serde_json::to_string_pretty(&json!({
            "header": decoded.header,
            "claims": decoded.claims,
            "dates": dates,
            "status": status.json(),
            "verified": false,
        }))?
    } else {
        let mut out = String::new();
        out.push_str("NOT VERIFIED: decoded without checking the signature.\n\nHeader:\n");
        out.push_str(&serde_json::to_string_pretty(&decoded.header)?);
        out.push_str("\n\nClaims:\n");
        out.push_str(&serde_json::to_string_pretty(&decoded.claims)?);
        out.push('\n');
        if !dates.is_empty() {
            out.push('\n');
            for (name, date) in &dates {
                out.push_str(&format!("{name}: {}\n", date.as_str().unwrap_or_default()));
            }
        }
        out.push_str(&format!("\nStatus: {}", status.text()));
        out
    };
    #[allow(clippy::print_stdout)] // Printing the decoded token is this command's job.
    {
        println!("{text}");
    }
    Ok(())
}

/// Whether the token is still within its `exp`.
enum Status {
    NoExpiry,
    ValidFor(u64),
    ExpiredAgo(u64),
}

impl Status {
    fn text(&self) -> String {
        match self {
            Self::NoExpiry => "no expiry (exp absent)".to_owned(),
            Self::ValidFor(s) => format!("valid for {}", human::span(*s)),
            Self::ExpiredAgo(s) => format!("expired {} ago", human::span(*s)),
        }
    }

    fn json(&self) -> Value {
        match self {
            Self::NoExpiry => json!({"expired": false, "expires_in": null}),
            Self::ValidFor(s) => json!({"expired": false, "expires_in": s}),
            Self::ExpiredAgo(s) => json!({"expired": true, "expired_ago": s}),
        }
    }
}

/// The token from the argument, or from stdin for `-`, trimmed.
fn read_token(arg: &str) -> Result<String> {
    if arg != "-" {
        return Ok(arg.trim().to_owned());
    }
    let mut token = String::new();
    // One token is at most a few KiB; cap reading so a wrong pipe cannot fill memory.
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut token)
        .context("reading the token from standard input")?;
    let token = token.trim();
    if token.is_empty() {
        bail!("no token on standard input");
    }
    Ok(token.to_owned())
}

fn unix_now() -> Result<i64> {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("system clock is before 1970")?;
    Ok(i64::try_from(since.as_secs())?)
}
