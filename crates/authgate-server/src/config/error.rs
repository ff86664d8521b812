//! Why the configuration could not be loaded.

use std::path::PathBuf;

/// Why the configuration could not be loaded; every message starts with
/// `configuration:` and never holds a secret's value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The configuration file cannot be read.
    #[error("configuration: cannot read {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The configuration file is not TOML.
    #[error("configuration: {0}")]
    Toml(#[source] toml::de::Error),
    /// A key is unknown or a value has the wrong type or form.
    #[error("configuration: {0}")]
    Invalid(#[source] Box<figment::Error>),
    /// `tokens.hmac_secret` is written into the TOML file.
    #[error(
        "configuration: tokens.hmac_secret must come from AUTHGATE_TOKENS__HMAC_SECRET or a file (hmac_secret = \"file:/path\"), not the TOML file"
    )]
    HmacSecretInFile,
    /// `storage.master_key` is written into the TOML file.
    #[error(
        "configuration: storage.master_key must come from AUTHGATE_STORAGE__MASTER_KEY or storage.master_key_file, not the TOML file"
    )]
    MasterKeyInFile,
    /// A `file:` secret's file cannot be read.
    #[error("configuration: cannot read secret file {path}: {source}")]
    SecretFile {
        /// The file named after `file:`.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The settings cannot be written as TOML.
    #[error("configuration: {0}")]
    Print(#[source] toml::ser::Error),
}
