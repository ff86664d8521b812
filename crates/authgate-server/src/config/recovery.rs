//! `[email]` (outgoing mail) and `[recovery]` (password reset by email),
//! each with its defaults.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::duration::HumanDuration;
use super::mask::{mask_url_password, serialize_masked_url};

/// `[email]`. Its `Debug` and its serialised form (`config print`) show
/// the SMTP URL without its password.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailSettings {
    /// Where mail goes. Empty (the default): into `<data_dir>/outbox/` as
    /// `.eml` files, the log saying where. `smtp://[user:pass@]host[:port]`
    /// (port 587 by default) requires STARTTLS, unless the URL ends in
    /// `?tls=opportunistic` (STARTTLS when offered) or `?tls=none` (plain
    /// text: a relay on the same host only); `smtps://…` (port 465 by
    /// default) speaks TLS from the first byte. Printed without its password.
    #[serde(serialize_with = "serialize_masked_url")]
    pub smtp_url: String,
    /// The `From` of every message. Defaults to `authgate <authgate@localhost>`.
    pub from: String,
    /// How long one delivery may take (connect, TLS, the whole SMTP
    /// exchange). Defaults to `10s`.
    pub timeout: HumanDuration,
    /// Delivery attempts before a message is given up (logged, wiped).
    /// Retries back off from 30 s, doubling, to at most one hour. Defaults to `8`.
    pub max_attempts: u32,
    /// Messages the outbox holds undelivered; past it requests that would
    /// queue one answer 503. Defaults to `10000`.
    pub max_queued: u64,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            smtp_url: String::new(),
            from: "authgate <authgate@localhost>".into(),
            timeout: HumanDuration(Duration::from_secs(10)),
            max_attempts: 8,
            max_queued: 10_000,
        }
    }
}

impl fmt::Debug for EmailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailSettings")
            .field("smtp_url", &mask_url_password(&self.smtp_url))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .field("max_queued", &self.max_queued)
            .finish()
    }
}

/// `[recovery]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecoverySettings {
    /// How long a password-reset link works. Defaults to `30m`.
    pub reset_ttl: HumanDuration,
    /// Reset messages one address may be sent per hour; further requests
    /// are answered as usual and send nothing. Defaults to `3`.
    pub resets_per_address_per_hour: u64,
    /// How long an email-verification link works. Defaults to `24h`.
    pub verify_ttl: HumanDuration,
    /// Verification messages one address, and one account, may be sent
    /// per hour; further requests are answered as usual and send nothing.
    /// Defaults to `3`.
    pub verifications_per_hour: u64,
}

impl Default for RecoverySettings {
    fn default() -> Self {
        Self {
            reset_ttl: HumanDuration::minutes(30),
            resets_per_address_per_hour: 3,
            verify_ttl: HumanDuration::minutes(24 * 60),
            verifications_per_hour: 3,
        }
    }
}

/// `[auth]`: who may log in.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSection {
    /// Whether an account must have verified its email address (the link
    /// mailed at registration) to log in; until then a right password
    /// answers `403 email_not_verified`. Defaults to `false`.
    pub require_verified_email: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smtp_password_is_never_printed() {
        let email = EmailSettings {
            smtp_url: "smtps://ann:s3cret@mail.example.com".into(),
            ..EmailSettings::default()
        };
        let debug = format!("{email:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("mail.example.com"), "{debug}");
        let printed = toml::to_string(&email).unwrap();
        assert!(!printed.contains("s3cret"), "{printed}");
    }
}
