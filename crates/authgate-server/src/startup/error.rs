//! Why the application could not be built: one variant per thing start-up
//! checks or opens, each message fit for the operator (and never a secret).

use std::net::SocketAddr;
use std::path::PathBuf;

use authgate_core::{AuthError, StoreError};
use authgate_guard::GuardError;

use crate::fs::FsError;
use crate::master_key::MasterKeyError;
use crate::scaleout::ScaleoutError;

/// Why the application could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A `[server]` transport timeout under 100 ms: every connection
    /// would be cut before it could be served.
    #[error("server.{name} must be at least 100ms (got {})", humantime::format_duration(*value))]
    TransportTimeout {
        /// The setting.
        name: &'static str,
        /// Its value.
        value: std::time::Duration,
    },
    /// `server.max_connections` is 0.
    #[error("server.max_connections must be at least 1")]
    NoConnections,
    /// `[server.tls]` names files that cannot be served.
    #[error(transparent)]
    Tls(#[from] crate::transport::tls::TlsError),
    /// `[web]` or `server.public_url` cannot be used for the hosted pages.
    #[error(transparent)]
    Web(#[from] crate::pages::WebSettingsError),
    /// `[email]` cannot be used to send mail.
    #[error(transparent)]
    Mail(#[from] crate::mail::MailConfigError),
    /// `server.bind` cannot be listened on.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The PostgreSQL database cannot be opened.
    #[error("cannot open the database: {0}")]
    OpenDatabase(#[source] StoreError),
    /// The SQLite database cannot be opened.
    #[error("cannot open the database {}: {source}", .path.display())]
    OpenSqlite {
        /// The database file.
        path: PathBuf,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// `storage.database_url` names a backend this build does not have
    /// (only its scheme is kept: the URL may hold a password).
    #[error(
        "storage.database_url: expected a sqlite:, postgres:// or postgresql:// URL (got a {scheme} URL)"
    )]
    DatabaseScheme {
        /// The URL's scheme.
        scheme: String,
    },
    /// Reading what start-up needs from the database failed.
    #[error(transparent)]
    Load(StoreError),
    /// The data directory or the database file cannot be made private.
    #[error(transparent)]
    Files(#[from] FsError),
    /// The master key cannot be loaded or generated.
    #[error(transparent)]
    MasterKey(#[from] MasterKeyError),
    /// The Redis settings are unusable.
    #[error(transparent)]
    Scaleout(#[from] ScaleoutError),
    /// `registration.default_roles` names a role `[roles]` does not define.
    #[error("registration.default_roles: unknown role {role:?} (define it in [roles])")]
    UnknownDefaultRole {
        /// The role.
        role: String,
    },
    /// `tokens.audiences` lacks `default`.
    #[error("tokens.audiences must define `default`")]
    NoDefaultAudience,
    /// The token lifetimes are out of order.
    #[error("tokens.access_ttl must be positive and shorter than tokens.refresh_ttl")]
    TokenLifetimes,
    /// A role name in `[roles]` is malformed.
    #[error("roles: invalid role name {role:?}")]
    RoleName {
        /// The role.
        role: String,
    },
    /// A permission name in `[roles]` is malformed.
    #[error("roles.{role}: invalid permission name {permission:?}")]
    PermissionName {
        /// The role holding it.
        role: String,
        /// The permission.
        permission: String,
    },
    /// The built-in `user` role was given an administration permission.
    #[error(
        "roles.user: the built-in `user` role cannot hold the administration permission {permission:?}; \
         define another role"
    )]
    UserAdministers {
        /// The permission.
        permission: String,
    },
    /// An audit sink is listed twice.
    #[error("audit.sinks: {sink:?} is listed twice")]
    RepeatedAuditSink {
        /// The sink.
        sink: String,
    },
    /// An audit sink is not one authgate knows.
    #[error("audit.sinks: unknown sink {sink:?} (use \"database\", \"stdout\" or \"file:/path\")")]
    UnknownAuditSink {
        /// The sink.
        sink: String,
    },
    /// `tokens.algorithm` is not supported.
    #[error("tokens.algorithm: unsupported algorithm {algorithm:?}")]
    Algorithm {
        /// The configured name.
        algorithm: String,
    },
    /// `keys.rsa_bits` is not a supported size.
    #[error("keys.rsa_bits must be 2048, 3072 or 4096")]
    RsaBits,
    /// `keys.rotation_interval` is too short for the tokens it signs.
    #[error("keys.rotation_interval must be longer than tokens.access_ttl + tokens.leeway")]
    RotationInterval,
    /// argon2 refuses the `[passwords]` parameters.
    #[error(transparent)]
    PasswordHasher(AuthError),
    /// The signing keys cannot be loaded (a wrong master key, above all).
    #[error(transparent)]
    Keys(AuthError),
    /// The core refuses the settings.
    #[error(transparent)]
    Service(AuthError),
    /// The verifier refuses its configuration.
    #[error(transparent)]
    Verifier(GuardError),
}
