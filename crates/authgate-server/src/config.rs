//! The typed configuration of DESIGN.md: defaults, then a TOML file, then
//! `AUTHGATE_SECTION__KEY` environment variables (passed in, never read here).

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

/// Prefix of configuration environment variables.
pub const ENV_PREFIX: &str = "AUTHGATE_";

/// Everything the server is configured with. Every key has a safe default.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `[server]`.
    pub server: ServerSettings,
    /// `[storage]`.
    pub storage: StorageSettings,
    /// `[tokens]`.
    pub tokens: TokenSettings,
    /// `[keys]`.
    pub keys: KeySettings,
    /// `[passwords]`.
    pub passwords: PasswordSettings,
    /// `[registration]`.
    pub registration: RegistrationSettings,
    /// `[roles]`: role → permissions; `admin` always has all.
    pub roles: BTreeMap<String, Vec<String>>,
    /// `[rate_limit]`.
    pub rate_limit: RateLimitSettings,
    /// `[audit]`.
    pub audit: AuditSettings,
}

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
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".into(),
            trusted_proxies: Vec::new(),
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

/// `url` with the password of its user information (`scheme://user:PASSWORD@host…`)
/// replaced by `********`; anything else unchanged.
pub fn mask_url_password(url: &str) -> String {
    let url = mask_query_password(url);
    let url = url.as_str();
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    let authority = &url[scheme_end..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let Some(colon) = authority[..at].find(':') else {
        return url.to_owned();
    };
    format!(
        "{}{}:********{}",
        &url[..scheme_end],
        &authority[..colon],
        &url[scheme_end + at..]
    )
}

/// `url` with the value of any `password=` query parameter (libpq accepts
/// one) replaced by `********`.
fn mask_query_password(url: &str) -> String {
    let Some(query) = url.find('?') else {
        return url.to_owned();
    };
    let (head, tail) = url.split_at(query + 1);
    let pairs: Vec<String> = tail
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=********"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{head}{}", pairs.join("&"))
}

fn serialize_masked_url<S: Serializer>(url: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&mask_url_password(url))
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

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

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
        if let Some(path) = path {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
            refuse_secrets_in_file(&text)?;
            figment = figment.merge(Toml::string(&text));
        }
        figment = figment.merge(Serialized::defaults(env_table(env)));
        let mut settings: Settings = figment.extract().map_err(|e| ConfigError(e.to_string()))?;
        settings.tokens.hmac_secret = settings.tokens.hmac_secret.resolve_file()?;
        Ok(settings)
    }

    /// The issuer in force: `tokens.issuer`, or `server.public_url` when empty.
    pub fn issuer(&self) -> &str {
        if self.tokens.issuer.is_empty() {
            self.server.public_url.trim_end_matches('/')
        } else {
            &self.tokens.issuer
        }
    }

    /// The configuration as TOML with secrets masked (`authgate config print`).
    ///
    /// # Errors
    /// [`ConfigError`] if serialisation fails.
    pub fn to_masked_toml(&self) -> Result<String, ConfigError> {
        toml::to_string_pretty(self).map_err(|e| ConfigError(e.to_string()))
    }
}

/// DESIGN.md: secrets come from the environment or a file, never only from the TOML file.
fn refuse_secrets_in_file(text: &str) -> Result<(), ConfigError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
    let has = |section: &str, key: &str| {
        table
            .get(section)
            .and_then(|s| s.get(key))
            .and_then(toml::Value::as_str)
            .is_some_and(|v| !v.is_empty() && !v.starts_with("file:"))
    };
    if has("tokens", "hmac_secret") {
        return Err(ConfigError(
            "tokens.hmac_secret must come from AUTHGATE_TOKENS__HMAC_SECRET or a file (hmac_secret = \"file:/path\"), not the TOML file".into(),
        ));
    }
    if has("storage", "master_key") {
        return Err(ConfigError(
            "storage.master_key must come from AUTHGATE_STORAGE__MASTER_KEY or storage.master_key_file, not the TOML file".into(),
        ));
    }
    Ok(())
}

/// Turns `AUTHGATE_TOKENS__ACCESS_TTL=5m` pairs into a nested table (names
/// without a `__` section separator are left alone); values
/// that parse as TOML (`30`, `true`, `["a","b"]`) keep their type, anything
/// else is a string.
fn env_table(env: impl IntoIterator<Item = (String, String)>) -> toml::Table {
    let mut root = toml::Table::new();
    for (name, raw) in env {
        let Some(path) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let keys: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
        // Configuration is AUTHGATE_<SECTION>__<KEY>; other AUTHGATE_ variables
        // (AUTHGATE_TEST_POSTGRES_URL for the test suites, say) are not ours.
        if keys.len() < 2 || keys.iter().any(String::is_empty) {
            continue;
        }
        // Secrets and store URLs are taken as written: read as TOML, a
        // numeric secret would become a number (and the type error would
        // quote it), and a quoted one would silently lose its quotes.
        let verbatim = matches!(
            (keys[0].as_str(), keys[1].as_str()),
            ("tokens", "hmac_secret")
                | (
                    "storage",
                    "master_key" | "master_key_file" | "database_url" | "redis_url"
                )
        );
        let value = if verbatim {
            toml::Value::String(raw)
        } else {
            toml::from_str::<toml::Table>(&format!("v = {raw}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or(toml::Value::String(raw))
        };
        insert_path(&mut root, &keys, value);
    }
    root
}

fn insert_path(table: &mut toml::Table, keys: &[String], value: toml::Value) {
    match keys {
        [] => {}
        [last] => {
            table.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            if let toml::Value::Table(inner) = entry {
                insert_path(inner, rest, value);
            }
        }
    }
}

/// A duration written as `90s`, `15m`, `30d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    const fn minutes(m: u64) -> Self {
        Self(Duration::from_secs(m * 60))
    }

    const fn days(d: u64) -> Self {
        Self(Duration::from_secs(d * 86_400))
    }

    /// As a `time::Duration` for date arithmetic.
    pub fn as_time(&self) -> time::Duration {
        time::Duration::try_from(self.0).unwrap_or(time::Duration::MAX)
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(self.0).to_string())
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text)
            .map(Self)
            .map_err(|e| serde::de::Error::custom(format!("invalid duration {text:?}: {e}")))
    }
}

/// A secret setting: never printed, zeroized on drop, serialised masked.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// The secret text; empty when unset.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is set.
    pub fn is_set(&self) -> bool {
        !self.0.is_empty()
    }

    /// Replaces `file:/path` with the file's trimmed contents.
    fn resolve_file(self) -> Result<Self, ConfigError> {
        match self.0.strip_prefix("file:") {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ConfigError(format!("cannot read secret file {path}: {e}")))?;
                Ok(Self(Zeroizing::new(text.trim().to_owned())))
            }
            None => Ok(self),
        }
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self(Zeroizing::new(s))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_set() {
            "Secret([redacted])"
        } else {
            "Secret(unset)"
        })
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.is_set() { "********" } else { "" })
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// Strings only; anything else is refused without its value, which
        /// serde's own message would quote (and which may be the secret).
        struct SecretVisitor;

        impl serde::de::Visitor<'_> for SecretVisitor {
            type Value = Secret;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Secret, E> {
                Ok(Secret::from(v.to_owned()))
            }

            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Secret, E> {
                Ok(Secret::from(v))
            }

            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Secret, E> {
                Err(not_a_string())
            }

            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Secret, E> {
                Err(not_a_string())
            }

            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Secret, E> {
                Err(not_a_string())
            }

            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Secret, E> {
                Err(not_a_string())
            }
        }

        fn not_a_string<E: serde::de::Error>() -> E {
            E::custom("a secret must be a string (its value is not shown)")
        }

        d.deserialize_string(SecretVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn secrets_from_the_environment_are_taken_as_written() {
        for secret in [
            "123456789012345678901234567890123",
            "true",
            "\"quoted\"",
            "1979-05-27",
        ] {
            let s = Settings::load(None, env(&[("AUTHGATE_TOKENS__HMAC_SECRET", secret)])).unwrap();
            assert_eq!(s.tokens.hmac_secret.expose(), secret);
        }
        let s = Settings::load(
            None,
            env(&[("AUTHGATE_STORAGE__REDIS_URL", "\"redis://h\"")]),
        )
        .unwrap();
        assert_eq!(s.storage.redis_url, "\"redis://h\"");
    }

    /// A fresh directory holding `authgate.toml` with `text`: (directory, file).
    fn config_file(text: &str) -> (PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!("authgate-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("authgate.toml");
        std::fs::write(&file, text).unwrap();
        (dir, file)
    }

    #[test]
    fn a_secret_of_the_wrong_type_is_refused_without_being_quoted() {
        let (dir, path) = config_file("[tokens]\nhmac_secret = 987654321987654321\n");
        let err = Settings::load(Some(&path), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("hmac_secret"), "{err}");
        assert!(!err.contains("987654321"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn passwords_in_store_urls_are_masked_when_printed_or_debugged() {
        let mut s = Settings::load(None, env(&[])).unwrap();
        s.storage.redis_url = "redis://:hunter2@redis.internal:6379/0".into();
        s.storage.database_url = "postgres://ann:s3cret@db.internal/authgate".into();
        let printed = s.to_masked_toml().unwrap();
        let debugged = format!("{s:?}");
        for text in [&printed, &debugged] {
            assert!(
                !text.contains("hunter2") && !text.contains("s3cret"),
                "{text}"
            );
            assert!(
                text.contains("redis://:********@redis.internal:6379/0"),
                "{text}"
            );
            assert!(
                text.contains("postgres://ann:********@db.internal/authgate"),
                "{text}"
            );
        }
        assert_eq!(
            mask_url_password("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
        assert_eq!(mask_url_password("sqlite:/tmp/a@b:c"), "sqlite:/tmp/a@b:c");
        assert_eq!(
            mask_url_password("redis://u@h/0?x=a:b@c"),
            "redis://u@h/0?x=a:b@c"
        );
    }

    #[test]
    fn defaults_match_design_md() {
        let s = Settings::load(None, env(&[])).unwrap();
        assert_eq!(s.server.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.tokens.access_ttl.0, Duration::from_secs(900));
        assert_eq!(s.tokens.refresh_ttl.0, Duration::from_secs(30 * 86_400));
        assert_eq!(s.tokens.audiences["default"], "authgate");
        assert_eq!(s.passwords.argon2_memory_kib, 19_456);
        assert_eq!(s.issuer(), "http://127.0.0.1:8080");
    }

    #[test]
    fn environment_overrides_the_file_with_typed_values() {
        let dir = std::env::temp_dir().join(format!("authgate-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("authgate.toml");
        std::fs::write(
            &file,
            "[tokens]\naccess_ttl = \"10m\"\nalgorithm = \"ES256\"\n[passwords]\nmin_length = 12\n",
        )
        .unwrap();
        let s = Settings::load(
            Some(&file),
            env(&[
                ("AUTHGATE_TOKENS__ACCESS_TTL", "5m"),
                ("AUTHGATE_TOKENS__AUDIENCES__API", "https://api.example.com"),
                ("AUTHGATE_ROLES__SUPPORT", r#"["users:read","audit:read"]"#),
                ("AUTHGATE_PASSWORDS__MIN_STRENGTH", "0"),
                ("OTHER_VAR", "ignored"),
            ]),
        )
        .unwrap();
        assert_eq!(s.tokens.access_ttl.0, Duration::from_secs(300));
        assert_eq!(s.tokens.algorithm, "ES256");
        assert_eq!(s.passwords.min_length, 12);
        assert_eq!(s.passwords.min_strength, 0);
        assert_eq!(s.tokens.audiences["api"], "https://api.example.com");
        assert_eq!(s.tokens.audiences["default"], "authgate");
        assert_eq!(s.roles["support"], vec!["users:read", "audit:read"]);
    }

    #[test]
    fn authgate_variables_without_a_section_are_not_configuration() {
        let s = Settings::load(
            None,
            env(&[
                (
                    "AUTHGATE_TEST_POSTGRES_URL",
                    "postgres://postgres@127.0.0.1/test",
                ),
                ("AUTHGATE_TEST_REQUIRE_SERVICES", "1"),
                ("AUTHGATE_BIN", "/tmp/authgate"),
                ("AUTHGATE_TOKENS__ACCESS_TTL", "5m"),
            ]),
        )
        .unwrap();
        assert_eq!(s.tokens.access_ttl.0, Duration::from_secs(300));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        assert!(Settings::load(None, env(&[("AUTHGATE_TOKENS__ACCES_TTL", "5m")])).is_err());
        assert!(Settings::load(None, env(&[("AUTHGATE_TOKENS__ACCESS_TTL", "soon")])).is_err());
        assert!(Settings::load(None, env(&[("AUTHGATE_REGISTRATION__MODE", "maybe")])).is_err());
    }

    #[test]
    fn passwords_in_store_urls_are_masked_when_printed() {
        assert_eq!(
            mask_url_password("postgres://app:s3cret@db:5432/auth?sslmode=require"),
            "postgres://app:********@db:5432/auth?sslmode=require"
        );
        assert_eq!(
            mask_url_password("redis://:pw@cache:6379/0"),
            "redis://:********@cache:6379/0"
        );
        assert_eq!(
            mask_url_password("postgres://db/auth?user=app&password=s3cret"),
            "postgres://db/auth?user=app&password=********"
        );
        assert_eq!(
            mask_url_password("postgres://app@db/auth"),
            "postgres://app@db/auth"
        );
        assert_eq!(mask_url_password(""), "");
        let mut s = Settings::default();
        s.storage.database_url = "postgres://app:s3cret@db/auth".into();
        let printed = s.to_masked_toml().unwrap();
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(printed.contains("postgres://app:********@db/auth"));
    }

    #[test]
    fn secrets_are_refused_in_the_file_and_masked_when_printed() {
        let (dir, file) = config_file("[tokens]\nhmac_secret = \"s3cr3t-in-file\"\n");
        let err = Settings::load(Some(&file), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("hmac_secret") && !err.contains("s3cr3t"),
            "{err}"
        );

        let secret_file = dir.join("hmac");
        std::fs::write(&secret_file, "from-a-file-0123456789abcdef0123456789\n").unwrap();
        let s = Settings::load(
            None,
            env(&[
                (
                    "AUTHGATE_TOKENS__HMAC_SECRET",
                    &format!("file:{}", secret_file.display()),
                ),
                ("AUTHGATE_STORAGE__MASTER_KEY", "c2VjcmV0LW1hc3Rlci1rZXk="),
            ]),
        )
        .unwrap();
        assert_eq!(
            s.tokens.hmac_secret.expose(),
            "from-a-file-0123456789abcdef0123456789"
        );
        let printed = s.to_masked_toml().unwrap();
        assert!(
            !printed.contains("from-a-file") && !printed.contains("c2VjcmV0"),
            "{printed}"
        );
        assert!(printed.contains("********"));
        assert!(!format!("{s:?}").contains("from-a-file"));
    }
}
