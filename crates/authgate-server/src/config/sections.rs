//! The sections of the configuration file, `[server]` to `[audit]`, each
//! with its defaults (docs/architecture.md's).

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::duration::HumanDuration;
use super::mask::{mask_url_password, serialize_masked_url};
use super::secret::Secret;

/// `[server]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Listen address. Defaults to `127.0.0.1:8080`.
    pub bind: SocketAddr,
    /// Public base URL: default issuer and discovery links. Defaults to `http://127.0.0.1:8080`.
    pub public_url: String,
    /// Proxies whose `X-Forwarded-For` is believed. Defaults to none.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How long a request head may take once its first byte has arrived
    /// (slowloris). Defaults to `10s`.
    pub header_read_timeout: HumanDuration,
    /// How long a request body may take to arrive in full; past it the
    /// answer is 408. Defaults to `10s`.
    pub body_read_timeout: HumanDuration,
    /// How long a connection may stay with no request in progress and no
    /// byte received (keep-alive idle). Defaults to `30s`.
    pub idle_timeout: HumanDuration,
    /// Connections served at once; past it a new connection replaces the
    /// oldest one with no request in progress. Keep it below the process's
    /// file-descriptor limit. Defaults to `1024`.
    pub max_connections: usize,
    /// `[server.tls]`: TLS terminated by authgate. Defaults to off.
    pub tls: super::tls::TlsSettings,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".into(),
            trusted_proxies: Vec::new(),
            header_read_timeout: HumanDuration(Duration::from_secs(10)),
            body_read_timeout: HumanDuration(Duration::from_secs(10)),
            idle_timeout: HumanDuration(Duration::from_secs(30)),
            max_connections: 1024,
            tls: super::tls::TlsSettings::default(),
        }
    }
}

/// `[storage]`. Its `Debug` and its serialised form (`config print`) show
/// the URLs without their passwords.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSettings {
    /// Where the SQLite file and a generated master key live. Defaults to `./authgate-data`.
    pub data_dir: PathBuf,
    /// Empty for SQLite in `data_dir`; `sqlite:PATH` for another file;
    /// `postgres://…` (or `postgresql://`) for PostgreSQL. Printed without
    /// its password. Defaults to empty.
    #[serde(serialize_with = "serialize_masked_url")]
    pub database_url: String,
    /// Empty for no Redis (one instance, or instances that poll the
    /// database); `redis://[:password@]host:port[/db]` to share revocations,
    /// login limits and change announcements. Printed without its password.
    /// Defaults to empty.
    #[serde(serialize_with = "serialize_masked_url")]
    pub redis_url: String,
    /// Prepended to every Redis key and channel, so that several
    /// deployments can share one Redis; instances of one deployment must
    /// use the same. Defaults to `authgate:`.
    pub redis_prefix: String,
    /// A file holding the base64 master key. Defaults to `data_dir/master.key`, generated if absent.
    pub master_key_file: String,
    /// The base64 master key itself; environment only (`AUTHGATE_STORAGE__MASTER_KEY`).
    pub master_key: Secret,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./authgate-data"),
            database_url: String::new(),
            redis_url: String::new(),
            redis_prefix: authgate_store::DEFAULT_REDIS_PREFIX.to_owned(),
            master_key_file: String::new(),
            master_key: Secret::default(),
        }
    }
}

impl fmt::Debug for StorageSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StorageSettings")
            .field("data_dir", &self.data_dir)
            .field("database_url", &mask_url_password(&self.database_url))
            .field("redis_url", &mask_url_password(&self.redis_url))
            .field("redis_prefix", &self.redis_prefix)
            .field("master_key_file", &self.master_key_file)
            .field("master_key", &self.master_key)
            .finish()
    }
}

/// `[tokens]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenSettings {
    /// `iss` of every token; empty means `server.public_url`.
    pub issuer: String,
    /// Signing algorithm of new keys. Defaults to `EdDSA`.
    pub algorithm: String,
    /// HS* only: the shared secret; environment or `file:/path`, never in the TOML file.
    pub hmac_secret: Secret,
    /// Access-token lifetime. Defaults to 15m.
    pub access_ttl: HumanDuration,
    /// Absolute session lifetime. Defaults to 30d.
    pub refresh_ttl: HumanDuration,
    /// Grace window for a racing second refresh. Defaults to 10s.
    pub refresh_reuse_grace: HumanDuration,
    /// Clock skew tolerated by verifiers. Defaults to 60s.
    pub leeway: HumanDuration,
    /// Short names → `aud` values; `default` is required. Defaults to `default = "authgate"`.
    pub audiences: BTreeMap<String, String>,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            issuer: String::new(),
            algorithm: "EdDSA".into(),
            hmac_secret: Secret::default(),
            access_ttl: HumanDuration::minutes(15),
            refresh_ttl: HumanDuration::days(30),
            refresh_reuse_grace: HumanDuration(Duration::from_secs(10)),
            leeway: HumanDuration(Duration::from_secs(60)),
            audiences: BTreeMap::from([("default".into(), "authgate".into())]),
        }
    }
}

/// `[keys]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeySettings {
    /// How often keys rotate. Defaults to 15d.
    pub rotation_interval: HumanDuration,
    /// How long a new key is published before it signs. Defaults to 1d.
    pub publish_lead: HumanDuration,
    /// Modulus size of generated RSA keys (RS*/PS*): 2048, 3072 or 4096. Defaults to 2048.
    pub rsa_bits: u32,
}

impl Default for KeySettings {
    fn default() -> Self {
        Self {
            rotation_interval: HumanDuration::days(15),
            publish_lead: HumanDuration::days(1),
            rsa_bits: 2048,
        }
    }
}

/// `[passwords]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordSettings {
    /// Fewest characters. Defaults to 8.
    pub min_length: usize,
    /// zxcvbn score 0-4; 0 turns the check off. Defaults to 2.
    pub min_strength: u8,
    /// Argon2id memory in KiB. Defaults to 19456 (OWASP).
    pub argon2_memory_kib: u32,
    /// Argon2id passes. Defaults to 2.
    pub argon2_iterations: u32,
    /// Argon2id lanes. Defaults to 1.
    pub argon2_parallelism: u32,
}

impl Default for PasswordSettings {
    fn default() -> Self {
        Self {
            min_length: 8,
            min_strength: 2,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
        }
    }
}

/// `[registration]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistrationSettings {
    /// `open` or `closed`. Defaults to `open`.
    pub mode: RegistrationMode,
    /// Roles of new users. Defaults to `["user"]`.
    pub default_roles: Vec<String>,
}

impl Default for RegistrationSettings {
    fn default() -> Self {
        Self {
            mode: RegistrationMode::Open,
            default_roles: vec!["user".into()],
        }
    }
}

/// Whether anyone may register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistrationMode {
    /// Anyone may register.
    Open,
    /// Only administrators create users.
    Closed,
}

/// `[rate_limit]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Login and registration attempts per client address (an IPv6 /64)
    /// per minute, counted together. Defaults to 30.
    pub login_per_ip_per_minute: u32,
    /// Consecutive failures on an account from one client address (an
    /// IPv6 /64) before that address's logins on it are delayed. Defaults to 5.
    pub account_failures_before_delay: u32,
    /// Consecutive failures on an account from all addresses together
    /// before its logins are delayed from everywhere. Defaults to 50.
    pub account_wide_failures_before_delay: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            login_per_ip_per_minute: 30,
            account_failures_before_delay: 5,
            account_wide_failures_before_delay: 50,
        }
    }
}

/// `[audit]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditSettings {
    /// Where events go. Defaults to `["database", "stdout"]`.
    pub sinks: Vec<String>,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            sinks: vec!["database".into(), "stdout".into()],
        }
    }
}
