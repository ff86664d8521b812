//! `authgate login|whoami|logout`: a user's session with a running server,
//! kept between runs in a credentials file per server (0600).

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use authgate_client::{
    AuthStore, Client, Credentials, CredentialsFile, ReqwestTransport, server_url,
};
use clap::Args;
use zeroize::Zeroizing;

/// Where the credentials are: which server, which directory.
#[derive(Debug, Args)]
pub(crate) struct Target {
    /// The server's URL; may be left out when logged in to exactly one server.
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// Directory of the credentials files (default: $AUTHGATE_CREDENTIALS_DIR,
    /// else $XDG_CONFIG_HOME/authgate, else ~/.config/authgate).
    #[arg(long, value_name = "DIR")]
    credentials_dir: Option<PathBuf>,
}

impl Target {
    /// The credentials directory: the flag, else what `main` found.
    fn dir(&self, default: Option<&Path>) -> Result<PathBuf> {
        self.credentials_dir
            .clone()
            .or_else(|| default.map(Path::to_path_buf))
            .context("no credentials directory: pass --credentials-dir or set HOME")
    }

    /// The stored session of the named server, or of the only one stored.
    pub(crate) fn stored(&self, default: Option<&Path>) -> Result<(CredentialsFile, Credentials)> {
        let dir = self.dir(default)?;
        if let Some(server) = &self.server {
            let server = server_url(server)?;
            let file = CredentialsFile::for_server(&dir, &server);
            let credentials = file
                .load()?
                .with_context(|| format!("not logged in to {server}"))?;
            return Ok((file, credentials));
        }
        let mut found = CredentialsFile::list(&dir)?;
        match found.len() {
            0 => bail!("not logged in (run `authgate login --server URL`)"),
            1 => Ok(found.remove(0)),
            _ => {
                let servers: Vec<_> = found.iter().map(|(_, c)| c.server.as_str()).collect();
                bail!(
                    "logged in to several servers, pick one with --server: {}",
                    servers.join(", ")
                )
            }
        }
    }
}

/// `authgate login`.
#[derive(Debug, Args)]
pub(crate) struct LoginArgs {
    /// The server's URL, e.g. https://auth.example.com.
    #[arg(long, value_name = "URL")]
    server: String,
    /// Email or username; asked for when left out.
    #[arg(long, value_name = "EMAIL|USERNAME")]
    user: Option<String>,
    /// Read the password from the first line of standard input (the trailing newline is dropped).
    #[arg(long, requires = "user")]
    password_stdin: bool,
    /// Directory of the credentials files (see `whoami --help`).
    #[arg(long, value_name = "DIR")]
    credentials_dir: Option<PathBuf>,
    /// Allow plain http to a host other than this machine: the password and
    /// tokens then cross the network in clear. Only for a network you trust.
    #[arg(long)]
    insecure_http: bool,
}

/// `authgate whoami`.
#[derive(Debug, Args)]
pub(crate) struct WhoamiArgs {
    #[command(flatten)]
    target: Target,
    /// Allow plain http to a host other than this machine: the password and
    /// tokens then cross the network in clear. Only for a network you trust.
    #[arg(long)]
    insecure_http: bool,
    /// Print one JSON document (GET /me's answer).
    #[arg(long)]
    json: bool,
}

/// `authgate logout`.
#[derive(Debug, Args)]
pub(crate) struct LogoutArgs {
    #[command(flatten)]
    target: Target,
    /// Allow plain http to a host other than this machine: the password and
    /// tokens then cross the network in clear. Only for a network you trust.
    #[arg(long)]
    insecure_http: bool,
}

/// Logs in and saves the session.
pub(crate) async fn login(args: LoginArgs, default_dir: Option<&Path>) -> Result<()> {
    let server = server_url(&args.server)?;
    // Refused before any prompt: a password typed for a plain-http server
    // elsewhere would only be sent in clear.
    let transport = transport(&server, args.insecure_http)?;
    let dir = Target {
        server: None,
        credentials_dir: args.credentials_dir,
    }
    .dir(default_dir)?;
    let identifier = match args.user {
        Some(user) => user,
        None => prompt_line("Email or username: ")?,
    };
    let password = if args.password_stdin {
        read_password_line()?
    } else {
        Zeroizing::new(rpassword::prompt_password("Password: ").context("reading the password")?)
    };
    let client = Client::new(transport);
    let user = client
        .login(&identifier, &password)
        .await
        .with_context(|| format!("logging in to {server}"))?;
    let file = CredentialsFile::for_server(&dir, &server);
    let credentials =
        Credentials::from_store(&server, client.store()).context("the session was not kept")?;
    file.save(&credentials)?;
    say(&format!(
        "Logged in to {server} as {} (credentials in {})",
        user.email,
        file.path().display()
    ));
    Ok(())
}

/// Shows the logged-in user, refreshing first if needed.
pub(crate) async fn whoami(args: WhoamiArgs, default_dir: Option<&Path>) -> Result<()> {
    let (file, credentials) = args.target.stored(default_dir)?;
    let client = restore(&credentials, args.insecure_http)?;
    let me = client.me().await;
    persist(&file, &credentials, client.store())?;
    let me = me.map_err(|e| session_error(e, &credentials.server))?;
    let text = if args.json {
        serde_json::to_string_pretty(&me)?
    } else {
        format!(
            "{} ({})\nserver:  {}\nid:      {}\nroles:   {}\nsession: {} (until {})",
            me.user.email,
            me.user.username.as_deref().unwrap_or("no username"),
            credentials.server,
            me.user.id,
            me.user.roles.join(", "),
            me.session.id,
            me.session
                .expires_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        )
    };
    say(&text);
    Ok(())
}

/// Ends the session on the server and deletes the credentials file.
pub(crate) async fn logout(args: LogoutArgs, default_dir: Option<&Path>) -> Result<()> {
    let (file, credentials) = args.target.stored(default_dir)?;
    let client = restore(&credentials, args.insecure_http)?;
    let outcome = client.logout().await;
    file.delete()?;
    outcome.with_context(|| {
        format!(
            "the credentials were deleted, but {} could not be told",
            credentials.server
        )
    })?;
    say(&format!("Logged out of {}", credentials.server));
    Ok(())
}

/// A client of the credentials' server holding their session.
fn restore(credentials: &Credentials, insecure_http: bool) -> Result<Client> {
    let store = AuthStore::new();
    credentials.restore_into(&store);
    let transport = transport(&credentials.server, insecure_http)?;
    Ok(Client::builder(transport).store(store).build())
}

/// The transport to `server`; plain http beyond this machine only when asked for.
fn transport(server: &str, insecure_http: bool) -> Result<ReqwestTransport> {
    let transport = if insecure_http {
        ReqwestTransport::new_over_plain_http(server)
    } else {
        ReqwestTransport::new(server)
    };
    transport.map_err(|e| match e {
        authgate_client::Error::PlainHttp(_) => {
            anyhow::Error::new(e).context("pass --insecure-http if this network is trusted")
        }
        e => e.into(),
    })
}

/// Saves the store's session if a refresh rotated it; deletes the file if
/// the session ended.
fn persist(file: &CredentialsFile, before: &Credentials, store: &AuthStore) -> Result<()> {
    match Credentials::from_store(&before.server, store) {
        Some(now) if now != *before => file.save(&now)?,
        Some(_) => {}
        None => {
            file.delete()?;
        }
    }
    Ok(())
}

/// The error to show when a session request failed.
fn session_error(error: authgate_client::Error, server: &str) -> anyhow::Error {
    if error.is_session_over() || error == authgate_client::Error::NotAuthenticated {
        anyhow::anyhow!(
            "the session with {server} has ended; log in again with `authgate login --server {server}`"
        )
    } else {
        anyhow::Error::new(error).context(format!("asking {server}"))
    }
}

/// Asks on standard error and reads one line of standard input.
fn prompt_line(prompt: &str) -> Result<String> {
    let mut stderr = std::io::stderr();
    stderr.write_all(prompt.as_bytes())?;
    stderr.flush()?;
    let mut line = String::new();
    read_line(&mut line).context("reading from standard input")?;
    let line = line.trim();
    if line.is_empty() {
        bail!("nothing entered");
    }
    Ok(line.to_owned())
}

/// The password from the first line of standard input.
fn read_password_line() -> Result<Zeroizing<String>> {
    let mut line = Zeroizing::new(String::new());
    read_line(&mut line).context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(Zeroizing::new(password.to_owned()))
}

/// Reads one line (with its newline) of at most 4 KiB from standard
/// input, so a wrong pipe cannot fill memory.
fn read_line(line: &mut String) -> std::io::Result<usize> {
    std::io::stdin().lock().take(4096).read_line(line)
}

fn say(text: &str) {
    #[allow(clippy::print_stdout)] // These commands report to the user at the terminal.
    {
        println!("{text}");
    }
}
