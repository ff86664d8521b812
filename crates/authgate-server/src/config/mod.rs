//! The typed configuration of docs/architecture.md: defaults, then a TOML file, then
//! `AUTHGATE_SECTION__KEY` environment variables (passed in, never read here).
//!
//! [`Settings`] and its sections are the types; loading them is [`load`]'s
//! job (with [`env`] reading the variables), and [`duration`], [`secret`]
//! and [`mask`] are the value types and the masking they print with.

mod duration;
mod env;
mod error;
mod load;
mod mask;
mod oidc;
mod recovery;
mod secret;
mod sections;
mod settings;
mod tls;

pub use duration::HumanDuration;
pub use env::ENV_PREFIX;
pub use error::ConfigError;
pub use mask::mask_url_password;
pub use oidc::OidcSettings;
pub use recovery::{AuthSection, EmailSettings, RecoverySettings};
pub use secret::Secret;
pub use sections::{
    AuditSettings, KeySettings, PasswordSettings, RateLimitSettings, RegistrationMode,
    RegistrationSettings, ServerSettings, StorageSettings, TokenSettings,
};
pub use settings::Settings;
pub use tls::{DEFAULT_HSTS_MAX_AGE, TlsSettings};

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_transport_limits_default_safe_and_are_configurable() {
        let s = Settings::load(None, env(&[])).unwrap();
        assert_eq!(s.server.header_read_timeout.0, Duration::from_secs(10));
        assert_eq!(s.server.body_read_timeout.0, Duration::from_secs(10));
        assert_eq!(s.server.idle_timeout.0, Duration::from_secs(30));
        assert_eq!(s.server.max_connections, 1024);
        let s = Settings::load(
            None,
            env(&[
                ("AUTHGATE_SERVER__HEADER_READ_TIMEOUT", "2s"),
                ("AUTHGATE_SERVER__MAX_CONNECTIONS", "64"),
            ]),
        )
        .unwrap();
        assert_eq!(s.server.header_read_timeout.0, Duration::from_secs(2));
        assert_eq!(s.server.max_connections, 64);
    }

    #[test]
    fn tls_is_configured_from_the_environment_and_makes_the_default_urls_https() {
        let s = Settings::load(None, env(&[])).unwrap();
        assert!(!s.server.tls.is_enabled());
        assert_eq!(s.server.tls.hsts_max_age, 31_536_000);
        let s = Settings::load(
            None,
            env(&[
                ("AUTHGATE_SERVER__BIND", "\"0.0.0.0:8443\""),
                ("AUTHGATE_SERVER__TLS__CERT_FILE", "/etc/authgate/cert.pem"),
                ("AUTHGATE_SERVER__TLS__KEY_FILE", "/etc/authgate/key.pem"),
                ("AUTHGATE_SERVER__TLS__HSTS_MAX_AGE", "600"),
            ]),
        )
        .unwrap();
        assert_eq!(s.server.tls.cert_file, "/etc/authgate/cert.pem");
        assert_eq!(s.server.tls.key_file, "/etc/authgate/key.pem");
        assert_eq!(s.server.tls.hsts_max_age, 600);
        assert_eq!(s.server.public_url, "https://localhost:8443");
        assert_eq!(s.issuer(), "https://localhost:8443");

        let (dir, file) = config_file(
            "[server]\nbind = \"127.0.0.1:9443\"\n[server.tls]\ncert_file = \"c.pem\"\nkey_file = \"k.pem\"\n",
        );
        let s = Settings::load(Some(&file), env(&[])).unwrap();
        assert_eq!(s.issuer(), "https://127.0.0.1:9443");
        let s = Settings::load(
            Some(&file),
            env(&[("AUTHGATE_SERVER__PUBLIC_URL", "https://auth.example.com")]),
        )
        .unwrap();
        assert_eq!(
            s.server.public_url, "https://auth.example.com",
            "a configured public URL is kept"
        );
        let _ = std::fs::remove_dir_all(&dir);
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
