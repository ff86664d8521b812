//! Loading [`Settings`]: defaults, then the TOML file, then the
//! environment, then `file:` secrets; and printing them masked.

use std::path::Path;

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};

use super::env::env_table;
use super::error::ConfigError;
use super::settings::Settings;

impl Settings {
    /// Loads defaults, then the TOML file at `path` (if any), then the
    /// `AUTHGATE_*` variables among `env`, then resolves `file:` secrets.
    ///
    /// # Errors
    /// [`ConfigError`] for an unreadable file, an unknown key, a bad value,
    /// or a secret written into the TOML file.
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        let env = env_table(env);
        let mut public_url_given = has_public_url(&env);
        if let Some(path) = path {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let table = refuse_secrets_in_file(&text)?;
            public_url_given |= has_public_url(&table);
            figment = figment.merge(Toml::string(&text));
        }
        figment = figment.merge(Serialized::defaults(env));
        let mut settings: Settings = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))?;
        settings.tokens.hmac_secret = settings.tokens.hmac_secret.resolve_file()?;
        if settings.server.tls.is_enabled() && !public_url_given {
            settings.server.public_url = https_url_of(settings.server.bind);
        }
        Ok(settings)
    }

    /// The configuration as TOML with secrets masked (`authgate config print`).
    ///
    /// # Errors
    /// [`ConfigError`] if serialisation fails.
    pub fn to_masked_toml(&self) -> Result<String, ConfigError> {
        toml::to_string_pretty(self).map_err(ConfigError::Print)
    }
}

/// Whether `table` (the file's, or the environment's) sets `server.public_url`.
fn has_public_url(table: &toml::Table) -> bool {
    table
        .get("server")
        .and_then(|s| s.get("public_url"))
        .is_some()
}

/// The public URL of a server terminating TLS on `bind` when none is
/// configured: `https://host:port`, `localhost` for a wildcard address
/// (which is no host a client can name).
fn https_url_of(bind: std::net::SocketAddr) -> String {
    let port = bind.port();
    match bind.ip() {
        ip if ip.is_unspecified() => format!("https://localhost:{port}"),
        std::net::IpAddr::V4(ip) => format!("https://{ip}:{port}"),
        std::net::IpAddr::V6(ip) => format!("https://[{ip}]:{port}"),
    }
}

/// docs/architecture.md: secrets come from the environment or a file, never
/// only from the TOML file. Returns the file's table.
fn refuse_secrets_in_file(text: &str) -> Result<toml::Table, ConfigError> {
    let table: toml::Table = toml::from_str(text).map_err(ConfigError::Toml)?;
    let has = |section: &str, key: &str| {
        table
            .get(section)
            .and_then(|s| s.get(key))
            .and_then(toml::Value::as_str)
            .is_some_and(|v| !v.is_empty() && !v.starts_with("file:"))
    };
    if has("tokens", "hmac_secret") {
        return Err(ConfigError::HmacSecretInFile);
    }
    if has("storage", "master_key") {
        return Err(ConfigError::MasterKeyInFile);
    }
    Ok(table)
}
