//! [`Transport`]: where a message goes, from `email.smtp_url`: an SMTP
//! relay (lettre, rustls) or, with no URL, `.eml` files in the data
//! directory's `outbox/` folder.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// Why `email.smtp_url` or `email.from` cannot be used (never echoing a password).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailConfigError {
    /// The URL does not parse, or its scheme is not `smtp` or `smtps`.
    #[error("email.smtp_url: {0}")]
    Url(&'static str),
    /// `tls=` names no known mode.
    #[error("email.smtp_url: tls= must be required, opportunistic or none")]
    TlsMode,
    /// lettre refused the relay (a host its TLS cannot name).
    #[error("email.smtp_url: the relay cannot be set up: {0}")]
    Relay(String),
    /// `email.from` is not a mailbox (`Name <user@host>` or `user@host`).
    #[error("email.from: not an address")]
    From,
}

/// How `smtp://` talks to the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsMode {
    /// STARTTLS, or no delivery (the default for `smtp://`).
    Required,
    /// STARTTLS when the relay offers it, plain text otherwise.
    Opportunistic,
    /// Plain text: a relay on the same host or network only.
    None,
}

/// Where messages go.
pub(crate) enum Transport {
    /// An SMTP relay; `description` names it without credentials.
    Smtp {
        /// The relay client.
        client: AsyncSmtpTransport<Tokio1Executor>,
        /// `smtp://host:port (STARTTLS required)` and the like.
        description: String,
    },
    /// `.eml` files in this folder.
    Folder(PathBuf),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Transport {
    /// The transport `smtp_url` names (empty: the folder `data_dir/outbox`),
    /// each delivery bounded by `timeout`.
    ///
    /// # Errors
    /// [`MailConfigError`] for a URL that is not a usable relay.
    pub(crate) fn new(
        smtp_url: &str,
        data_dir: &Path,
        timeout: Duration,
    ) -> Result<Self, MailConfigError> {
        let smtp_url = smtp_url.trim();
        if smtp_url.is_empty() {
            return Ok(Self::Folder(data_dir.join("outbox")));
        }
        let url = url::Url::parse(smtp_url).map_err(|_| MailConfigError::Url("not a URL"))?;
        let implicit_tls = match url.scheme() {
            "smtp" => false,
            "smtps" => true,
            _ => return Err(MailConfigError::Url("the scheme must be smtp or smtps")),
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(MailConfigError::Url("no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let mut mode = TlsMode::Required;
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref()) {
                ("tls", "required") => mode = TlsMode::Required,
                ("tls", "opportunistic") => mode = TlsMode::Opportunistic,
                ("tls", "none") => mode = TlsMode::None,
                ("tls", _) => return Err(MailConfigError::TlsMode),
                _ => return Err(MailConfigError::Url("the only query parameter is tls=")),
            }
        }
        if implicit_tls && mode != TlsMode::Required {
            return Err(MailConfigError::Url("smtps:// is always TLS: drop tls="));
        }
        let relay = |e: lettre::transport::smtp::Error| MailConfigError::Relay(e.to_string());
        let (builder, port, how) = if implicit_tls {
            let builder = AsyncSmtpTransport::<Tokio1Executor>::relay(&host).map_err(relay)?;
            (builder, 465, "TLS")
        } else {
            match mode {
                TlsMode::Required => (
                    AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host).map_err(relay)?,
                    587,
                    "STARTTLS required",
                ),
                TlsMode::Opportunistic => {
                    let tls = TlsParameters::new(host.clone()).map_err(relay)?;
                    (
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host)
                            .tls(Tls::Opportunistic(tls)),
                        587,
                        "STARTTLS when offered",
                    )
                }
                TlsMode::None => (
                    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host),
                    25,
                    "no TLS",
                ),
            }
        };
        let port = url.port().unwrap_or(port);
        let mut builder = builder.port(port).timeout(Some(timeout));
        if !url.username().is_empty() {
            let decode = |s: &str| {
                percent_decode(s).ok_or(MailConfigError::Url("the credentials are not UTF-8"))
            };
            builder = builder.credentials(Credentials::new(
                decode(url.username())?,
                decode(url.password().unwrap_or_default())?,
            ));
        }
        Ok(Self::Smtp {
            client: builder.build(),
            description: format!("{}://{host}:{port} ({how})", url.scheme()),
        })
    }

    /// Where messages go, for the log (no credentials).
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Smtp { description, .. } => description.clone(),
            Self::Folder(dir) => format!("the folder {}", dir.display()),
        }
    }

    /// Delivers one message (`id` names its file in the folder).
    ///
    /// # Errors
    /// Why it failed, fit for the log and the outbox row (never the message).
    pub(crate) async fn deliver(
        &self,
        id: uuid::Uuid,
        sender: &str,
        recipient: &str,
        message: &[u8],
    ) -> Result<(), String> {
        match self {
            Self::Smtp { client, .. } => {
                let from: Address = sender
                    .parse()
                    .map_err(|_| "the sender is not an address".to_owned())?;
                let to: Address = recipient
                    .parse()
                    .map_err(|_| "the recipient is not an address".to_owned())?;
                let envelope = Envelope::new(Some(from), vec![to])
                    .map_err(|_| "the envelope does not build".to_owned())?;
                client
                    .send_raw(&envelope, message)
                    .await
                    .map(|_| ())
                    .map_err(|e| smtp_reason(&e))
            }
            Self::Folder(dir) => {
                let path = dir.join(format!("{id}.eml"));
                write_private(dir, &path, message)
                    .await
                    .map_err(|e| format!("writing {}: {e}", path.display()))?;
                // The path only: the message holds a one-time link.
                tracing::info!(path = %path.display(), "email written to the outbox folder (no email.smtp_url set)");
                Ok(())
            }
        }
    }
}

/// An SMTP failure for the log: lettre's description (a status and the
/// relay's words, or the I/O error), never the message.
fn smtp_reason(e: &lettre::transport::smtp::Error) -> String {
    let mut text = e.to_string();
    text.truncate(500);
    text
}

/// `s` percent-decoded, if that is UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes: Vec<u8> = form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned().into_bytes())?;
    String::from_utf8(bytes).ok()
}

/// Writes `bytes` to `path` readable by the owner only, through a
/// temporary file renamed into place (a reader never sees half a message).
async fn write_private(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let (dir, path, bytes) = (dir.to_owned(), path.to_owned(), bytes.to_vec());
    tokio::task::spawn_blocking(move || {
        // 0700 when new: its files hold live links.
        crate::fs::create_private_dir(&dir).map_err(std::io::Error::other)?;
        let tmp = path.with_extension("eml.tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        {
            use std::io::Write;
            let mut file = options.open(&tmp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
        }
        std::fs::rename(&tmp, &path)
    })
    .await
    .map_err(std::io::Error::other)?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe(url: &str) -> Result<String, MailConfigError> {
        Transport::new(url, Path::new("/data"), Duration::from_secs(1)).map(|t| t.describe())
    }

    #[test]
    fn no_url_writes_files_in_the_data_directory() {
        assert_eq!(describe("").unwrap(), "the folder /data/outbox");
    }

    #[test]
    fn smtp_requires_starttls_unless_the_url_says_otherwise() {
        assert_eq!(
            describe("smtp://mail.example.com").unwrap(),
            "smtp://mail.example.com:587 (STARTTLS required)"
        );
        assert_eq!(
            describe("smtp://mail.example.com:2525?tls=opportunistic").unwrap(),
            "smtp://mail.example.com:2525 (STARTTLS when offered)"
        );
        assert_eq!(
            describe("smtp://127.0.0.1:2525?tls=none").unwrap(),
            "smtp://127.0.0.1:2525 (no TLS)"
        );
        assert_eq!(
            describe("smtps://ann:s3cret@mail.example.com").unwrap(),
            "smtps://mail.example.com:465 (TLS)"
        );
    }

    #[test]
    fn unusable_urls_are_refused_without_echoing_a_password() {
        for url in [
            "http://ann:s3cret@mail.example.com",
            "smtp://ann:s3cret@mail.example.com?tls=maybe",
            "smtps://ann:s3cret@mail.example.com?tls=none",
            "smtp://ann:s3cret@mail.example.com?port=1",
            "smtp://",
        ] {
            let err = describe(url).unwrap_err().to_string();
            assert!(err.starts_with("email.smtp_url"), "{url}: {err}");
            assert!(!err.contains("s3cret"), "{err}");
        }
    }

    #[test]
    fn credentials_are_percent_decoded() {
        assert_eq!(percent_decode("p%40ss+word").as_deref(), Some("p@ss+word"));
    }
}
