//! `[server.tls]`: the certificate and key authgate terminates TLS with,
//! how often they are looked at for a renewal, and the HSTS policy.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::duration::HumanDuration;

/// One year: the HSTS max-age browsers' preload lists ask for.
pub const DEFAULT_HSTS_MAX_AGE: u64 = 31_536_000;

/// `[server.tls]`. TLS is on when both files are set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM file holding the certificate chain, leaf first. Empty: no TLS.
    /// Defaults to empty.
    pub cert_file: String,
    /// PEM file holding the certificate's private key (PKCS#8, PKCS#1 or
    /// SEC1). Empty: no TLS. Defaults to empty.
    pub key_file: String,
    /// `max-age` of the `Strict-Transport-Security` header sent on every
    /// answer over TLS (and through a trusted proxy that says it received
    /// the request over https), in seconds; 0 sends none. Defaults to one
    /// year (31536000).
    pub hsts_max_age: u64,
    /// How often the two files are read again: a changed, valid pair
    /// replaces the certificate for new connections (SIGHUP does the same
    /// at once). Defaults to `5s`.
    pub reload_interval: HumanDuration,
}

impl Default for TlsSettings {
    fn default() -> Self {
        Self {
            cert_file: String::new(),
            key_file: String::new(),
            hsts_max_age: DEFAULT_HSTS_MAX_AGE,
            reload_interval: HumanDuration(Duration::from_secs(5)),
        }
    }
}

impl TlsSettings {
    /// Whether TLS is asked for: either file set (both are then required).
    pub fn is_enabled(&self) -> bool {
        !self.cert_file.trim().is_empty() || !self.key_file.trim().is_empty()
    }
}
