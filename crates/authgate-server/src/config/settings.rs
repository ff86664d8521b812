//! [`Settings`]: everything the server is configured with, one field per
//! section of the file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::sections::{
    AuditSettings, KeySettings, PasswordSettings, RateLimitSettings, RegistrationSettings,
    ServerSettings, StorageSettings, TokenSettings,
};

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
    /// `[web]`: the hosted pages' browser sessions.
    pub web: crate::pages::WebSettings,
    /// `[email]`: outgoing mail.
    pub email: super::recovery::EmailSettings,
    /// `[recovery]`: password reset and email verification by email.
    pub recovery: super::recovery::RecoverySettings,
    /// `[auth]`: who may log in (`require_verified_email`).
    pub auth: super::recovery::AuthSection,
    /// `[oidc]`: the OpenID Connect provider.
    pub oidc: super::OidcSettings,
}

impl Settings {
    /// The issuer in force: `tokens.issuer`, or `server.public_url` when empty.
    pub fn issuer(&self) -> &str {
        if self.tokens.issuer.is_empty() {
            self.server.public_url.trim_end_matches('/')
        } else {
            &self.tokens.issuer
        }
    }
}
