//! Building the application state from settings: the store, the master
//! key, the keyring, the revocations still in force, the service. The
//! pieces live beside it: [`store`] chooses the database, [`settings`]
//! turns configuration into domain objects, [`error`] says what went wrong.

pub(crate) mod error;
pub(crate) mod settings;
pub(crate) mod store;

use std::sync::Arc;

use authgate_core::{
    AuthDeps, AuthService, AuthSettings, Clock, KeyManager, Maintenance, Ping, RecordCache,
    RevocationList, SessionStore, UserStore,
};
use authgate_store::Store;

use crate::config::Settings;
use crate::master_key::{self, MasterKeySource};
use crate::scaleout;
use crate::state::{AppState, SharedState};

use self::error::BuildError;
use self::settings::{audit_log, auth_settings, keyring_settings, password_hasher, permissions};
use self::store::open_store;

/// What start-up did, for the operator.
#[derive(Debug, Clone)]
pub struct StartupReport {
    /// Where the master key came from.
    pub master_key: MasterKeySource,
    /// The database in use.
    pub database: String,
    /// The signing key in force.
    pub signing_kid: String,
    /// Its algorithm.
    pub algorithm: String,
    /// Users registered so far (0 means: create the first admin).
    pub users: u64,
}

/// Builds the application state on the configured stores without a socket:
/// what `serve` runs, and what the administration commands use directly.
///
/// # Errors
/// [`BuildError`] with a message fit for the operator.
pub async fn build_service(
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> Result<(AppState, StartupReport), BuildError> {
    let auth_settings = auth_settings(settings)?;
    let shared = scaleout::open(settings, clock.clone())?;
    let (store, database) = open_store(settings).await?;
    let (master, master_source) = master_key::load(settings)?;
    let keyring_settings = keyring_settings(settings, &auth_settings)?;
    let master = Arc::new(master);
    let audit = Arc::new(audit_log(settings, store.clone())?);
    let keys = KeyManager::load(
        store.clone(),
        master.clone(),
        keyring_settings,
        clock.clone(),
    )
    .await
    .map_err(BuildError::Keys)?
    .with_audit(audit.clone());
    let ring = keys.ring();
    let verifier = settings::verifier(&auth_settings, ring.verifying.clone())?;
    let revocations = revocations_in_force(store.as_ref(), &auth_settings, clock.as_ref()).await?;
    let users = UserStore::count_users(store.as_ref())
        .await
        .map_err(BuildError::Load)?;
    let report = StartupReport {
        master_key: master_source,
        database,
        signing_kid: ring.signing.kid().unwrap_or_default().to_owned(),
        algorithm: ring.signing.algorithm().to_string(),
        users,
    };
    let (composer, delivery) =
        crate::mail::build(settings, store.clone(), master.clone(), clock.clone())?;
    let deps = AuthDeps {
        users: store.clone(),
        sessions: store.clone(),
        clients: store.clone(),
        oidc: store.clone(),
        audit,
        limiter: shared.limiter,
        keyring: keys.keyring().clone(),
        hasher: password_hasher(settings)?,
        revocations: Arc::new(revocations),
        records: Arc::new(RecordCache::new()),
        bus: shared.bus,
        master,
        clock: clock.clone(),
        outbox: store.clone(),
        resets: store.clone(),
        mfa: store.clone(),
        mailer: Arc::new(composer),
        verifications: store.clone(),
    };
    let auth = AuthService::new(deps, auth_settings).map_err(BuildError::Service)?;
    let state = AppState::new(SharedState {
        maintenance: Maintenance::new(auth.clone(), keys.clone()),
        auth,
        verifier: Arc::new(verifier),
        probes: Arc::new(
            std::iter::once(("database", store as Arc<dyn Ping>))
                .chain(shared.redis.map(|redis| ("redis", redis)))
                .collect(),
        ),
        verifier_keys: Arc::new(std::sync::Mutex::new(ring.version.clone())),
        key_reload: Default::default(),
        permissions: Arc::new(permissions(settings)?),
        metrics: crate::metrics::install(),
        keys,
        clock,
        trusted_proxies: Arc::new(settings.server.trusted_proxies.clone()),
        public_url: Arc::from(settings.server.public_url.trim_end_matches('/')),
        delivery: Arc::new(delivery),
        web: Arc::new(crate::pages::WebState::new(
            &settings.web,
            &settings.server.public_url,
        )?),
    });
    Ok((state, report))
}

/// The revocations whose access tokens may still be live: sessions revoked
/// within one access-token lifetime (and leeway), and every token
/// revocation not yet expired.
async fn revocations_in_force(
    store: &dyn Store,
    auth: &AuthSettings,
    clock: &dyn Clock,
) -> Result<RevocationList, BuildError> {
    let revocations = RevocationList::new();
    let horizon = clock.now() - auth.access_ttl - auth.leeway;
    let forget_after = clock.unix() + (auth.access_ttl + auth.leeway).whole_seconds();
    let sessions: &dyn SessionStore = store;
    for sid in sessions
        .revoked_since(horizon)
        .await
        .map_err(BuildError::Load)?
    {
        revocations.revoke_session(sid, forget_after);
    }
    for (jti, expires_at) in sessions
        .revoked_tokens_since(horizon, clock.now())
        .await
        .map_err(BuildError::Load)?
    {
        revocations.revoke_token(&jti, expires_at.unix_timestamp());
    }
    Ok(revocations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_redis_url_that_is_not_redis_stops_the_start_without_echoing_it() {
        let mut settings = Settings::default();
        settings.storage.data_dir =
            std::env::temp_dir().join(format!("authgate-{}", uuid::Uuid::new_v4()));
        settings.storage.redis_url = "memcached://ann:secret@127.0.0.1:11211".into();
        let err = build_service(&settings, Arc::new(authgate_core::SystemClock))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("storage.redis_url"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        assert!(!settings.storage.data_dir.exists(), "nothing was created");
    }
}
