//! Turning the configuration into the domain's objects: the core settings,
//! the role policy, the audit log, the password hasher, the keyring
//! settings and the Bearer verifier, each checked as it is made.

use std::sync::Arc;

use authgate_core::{
    Argon2Settings, AuditLog, AuditSink, AuditStore, AuthSettings, FileSink, KeyringSettings,
    PasswordHasher, PasswordPolicy, StdoutSink,
};
use authgate_guard::{Permissions, Verifier, VerifierConfig};
use authgate_jwt::KeySet;
use zeroize::Zeroizing;

use crate::authz::SERVER_PERMISSIONS;
use crate::config::{RegistrationMode, Settings};

use super::error::BuildError;

/// The core settings the configuration describes.
///
/// # Errors
/// [`BuildError`] for inconsistent settings.
pub fn auth_settings(settings: &Settings) -> Result<AuthSettings, BuildError> {
    let mut auth = AuthSettings::new(settings.issuer());
    auth.audiences = settings.tokens.audiences.clone();
    auth.access_ttl = settings.tokens.access_ttl.as_time();
    auth.refresh_ttl = settings.tokens.refresh_ttl.as_time();
    auth.refresh_reuse_grace = settings.tokens.refresh_reuse_grace.as_time();
    auth.leeway = settings.tokens.leeway.as_time();
    auth.oidc_logout_ends_client_sessions = settings.oidc.logout_ends_client_sessions;
    auth.registration_open = settings.registration.mode == RegistrationMode::Open;
    auth.default_roles = settings.registration.default_roles.clone();
    auth.password_policy = PasswordPolicy {
        min_length: settings.passwords.min_length,
        min_strength: settings.passwords.min_strength.min(4),
    };
    let permissions = permissions(settings)?;
    auth.known_roles = permissions.roles().map(str::to_owned).collect();
    auth.permissions = std::sync::Arc::new(permissions.clone());
    if let Some(role) = auth
        .default_roles
        .iter()
        .find(|r| !permissions.is_known_role(r))
    {
        return Err(BuildError::UnknownDefaultRole { role: role.clone() });
    }
    auth.recovery = authgate_core::RecoverySettings {
        reset_ttl: settings.recovery.reset_ttl.as_time(),
        resets_per_address_per_hour: settings.recovery.resets_per_address_per_hour,
        max_pending_mail: settings.email.max_queued,
    };
    auth.verification = authgate_core::VerificationSettings {
        require_verified_email: settings.auth.require_verified_email,
        ttl: settings.recovery.verify_ttl.as_time(),
        per_hour: settings.recovery.verifications_per_hour,
    };
    if !auth.audiences.contains_key("default") {
        return Err(BuildError::NoDefaultAudience);
    }
    if auth.access_ttl <= time::Duration::ZERO || auth.refresh_ttl <= auth.access_ttl {
        return Err(BuildError::TokenLifetimes);
    }
    Ok(auth)
}

/// The role → permission policy of `[roles]`: `admin` holds everything,
/// `user` exists (with no administration permission) even when not listed.
///
/// # Errors
/// [`BuildError`] for a malformed role or permission name, or for `user`
/// given one of the server's administration permissions.
pub(crate) fn permissions(settings: &Settings) -> Result<Permissions, BuildError> {
    let valid = |name: &str| {
        !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b))
    };
    let mut roles = settings.roles.clone();
    roles.entry("user".to_owned()).or_default();
    for (role, perms) in &roles {
        if !valid(role) {
            return Err(BuildError::RoleName { role: role.clone() });
        }
        if let Some(p) = perms.iter().find(|p| !valid(p)) {
            return Err(BuildError::PermissionName {
                role: role.clone(),
                permission: p.clone(),
            });
        }
    }
    if let Some(p) = roles["user"]
        .iter()
        .find(|p| SERVER_PERMISSIONS.contains(&p.as_str()))
    {
        return Err(BuildError::UserAdministers {
            permission: p.clone(),
        });
    }
    Ok(Permissions::new(roles))
}

/// The audit log of `[audit] sinks`: `database`, `stdout`, `file:<path>`.
///
/// # Errors
/// [`BuildError`] for an unknown or repeated sink.
pub(crate) fn audit_log(
    settings: &Settings,
    store: Arc<dyn AuditStore>,
) -> Result<AuditLog, BuildError> {
    let mut database = None;
    let mut others: Vec<Arc<dyn AuditSink>> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for sink in &settings.audit.sinks {
        let sink = sink.trim();
        if !seen.insert(sink.to_owned()) {
            return Err(BuildError::RepeatedAuditSink {
                sink: sink.to_owned(),
            });
        }
        match sink {
            "database" => database = Some(store.clone()),
            "stdout" => others.push(Arc::new(StdoutSink)),
            _ => match sink.strip_prefix("file:") {
                Some(path) if !path.trim().is_empty() => {
                    others.push(Arc::new(FileSink::new(path.trim())));
                }
                _ => {
                    return Err(BuildError::UnknownAuditSink {
                        sink: sink.to_owned(),
                    });
                }
            },
        }
    }
    Ok(AuditLog::new(database, others))
}

/// The password hasher the configuration describes, one slot per core.
///
/// # Errors
/// [`BuildError`] for argon2 parameters argon2 refuses.
pub fn password_hasher(settings: &Settings) -> Result<PasswordHasher, BuildError> {
    let argon2 = Argon2Settings {
        memory_kib: settings.passwords.argon2_memory_kib,
        iterations: settings.passwords.argon2_iterations,
        parallelism: settings.passwords.argon2_parallelism,
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    PasswordHasher::new(argon2, cores).map_err(BuildError::PasswordHasher)
}

/// The keyring settings of `[keys]` and `[tokens]`; keys must outlive the
/// tokens they sign (`auth`'s access lifetime and leeway).
///
/// # Errors
/// [`BuildError`] for an unsupported algorithm or RSA size, or a rotation
/// interval too short.
pub(crate) fn keyring_settings(
    settings: &Settings,
    auth: &AuthSettings,
) -> Result<KeyringSettings, BuildError> {
    let algorithm = settings
        .tokens
        .algorithm
        .parse()
        .map_err(|_| BuildError::Algorithm {
            algorithm: settings.tokens.algorithm.clone(),
        })?;
    let keyring = KeyringSettings {
        algorithm,
        rsa_bits: settings.keys.rsa_bits,
        hmac_secret: settings
            .tokens
            .hmac_secret
            .is_set()
            .then(|| Zeroizing::new(settings.tokens.hmac_secret.expose().as_bytes().to_vec())),
        rotation_interval: settings.keys.rotation_interval.as_time(),
        publish_lead: settings.keys.publish_lead.as_time(),
        verify_window: auth.access_ttl + auth.leeway,
        id_token_keys: settings.oidc.enabled,
    };
    if !matches!(keyring.rsa_bits, 2048 | 3072 | 4096) {
        return Err(BuildError::RsaBits);
    }
    if keyring.rotation_interval <= keyring.verify_window {
        return Err(BuildError::RotationInterval);
    }
    Ok(keyring)
}

/// The one Bearer verifier of authgate's own endpoints, over `keys`.
///
/// # Errors
/// [`BuildError`] when the settings make no valid verifier.
pub(crate) fn verifier(auth: &AuthSettings, keys: KeySet) -> Result<Verifier, BuildError> {
    let mut config = VerifierConfig::new(
        auth.issuer.clone(),
        auth.audience(None).map_err(BuildError::Service)?,
    )
    .leeway_secs(auth.leeway.whole_seconds());
    // authgate's own Bearer endpoints accept tokens of any configured audience (docs/http-api.md).
    for audience in auth.audiences.values() {
        config = config.audience(audience.clone());
    }
    Verifier::new(config, keys).map_err(BuildError::Verifier)
}
