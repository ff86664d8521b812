//! What every handler can reach: the service, the verifier, the stores' health, the clock.

use std::sync::{Arc, Mutex, PoisonError};

use authgate_proto::KeyState;

use authgate_core::{AuthError, AuthService, Clock, KeyManager, Maintenance, Origin, Ping};
use authgate_guard::{GuardError, Permissions, Principal, Verifier};
use authgate_jwt::Error as JwtError;

/// Shared application state. axum clones it for every request (and again
/// for each extractor that reads it), so a clone is one reference count on
/// one shared allocation, not one per part: with two dozen `Arc`s inside,
/// per-part counting cost ~7% of a GET /me in contended atomics.
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

/// What every [`AppState`] clone shares; reached through `Deref`.
pub struct SharedState {
    /// The flows of docs/http-api.md.
    pub auth: AuthService,
    /// The domain's housekeeping over `auth` and `keys`: purges, key
    /// rotation, other instances' announcements.
    pub maintenance: Maintenance,
    /// The one Bearer verification path (with its verified-token cache).
    pub verifier: Arc<Verifier>,
    /// Readiness probes by store name.
    pub probes: Arc<Vec<(&'static str, Arc<dyn Ping>)>>,
    /// What each role may do (`[roles]`; `admin` holds everything).
    pub permissions: Arc<Permissions>,
    /// Signing keys and their schedule.
    pub keys: KeyManager,
    /// The key-set version the verifier holds, so any change reaches it.
    pub(crate) verifier_keys: Arc<Mutex<Vec<(String, KeyState)>>>,
    /// Reloads the keys when a token names one the verifier lacks.
    pub(crate) key_reload: crate::key_reload::KeyReload,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// `server.public_url` without a trailing slash: discovery links.
    pub public_url: Arc<str>,
    /// The Prometheus recorder's handle, for `GET /metrics`; `None` when
    /// another recorder owns the process.
    pub(crate) metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<Vec<std::net::IpAddr>>,
    /// Delivers the mail outbox (run by the server beside the upkeep).
    pub(crate) delivery: Arc<crate::mail::delivery::Delivery>,
    /// What the hosted pages need (`[web]`, cookies, origin).
    pub web: Arc<crate::pages::WebState>,
}

impl AppState {
    /// The state around `shared`.
    pub(crate) fn new(shared: SharedState) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Debug for SharedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("verifier", &self.verifier)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Applies the key transitions due now (or picks up another instance's)
    /// and hands the verifier any key set it does not have yet, whatever
    /// changed it (the schedule, another instance, an in-process rotation).
    /// The server runs this every few seconds; tests call it after moving
    /// the clock.
    pub async fn sync_keys(&self) {
        self.maintenance.tick_keys().await;
        self.install_verifier_keys();
    }

    /// Hands the verifier the key set in force if it does not have it yet.
    pub(crate) fn install_verifier_keys(&self) {
        let mut installed = self
            .verifier_keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Read under the lock: a snapshot taken before it could be older
        // than one another caller has installed meanwhile.
        let ring = self.keys.ring();
        if *installed != ring.version {
            self.verifier.set_keys(ring.verifying.clone());
            installed.clone_from(&ring.version);
            tracing::info!(
                kid = ring.signing.kid().unwrap_or_default(),
                "signing keys changed"
            );
        }
    }

    /// Delivers the outbox's messages due now (one batch); returns how
    /// many it tried. The server does this by itself whenever a message is
    /// queued and every few seconds; tests call it after moving the clock.
    pub async fn deliver_mail(&self) -> usize {
        self.delivery.run_once().await
    }

    /// Deletes what ended long ago (see [`Maintenance::purge_ended`]);
    /// returns how many sessions and revocations went. The server runs this
    /// every ten minutes; tests call it after moving the clock.
    pub async fn purge_ended(&self) -> u64 {
        self.maintenance.purge_ended().await
    }

    /// Rotates the signing keys now and puts the new set in force at once.
    ///
    /// # Errors
    /// As [`KeyManager::rotate_now`].
    pub async fn rotate_keys(&self) -> Result<(), AuthError> {
        self.rotate_keys_by(None, &Origin::default()).await
    }

    /// [`AppState::rotate_keys`] on behalf of `actor` (recorded in `key.rotated`).
    ///
    /// # Errors
    /// As [`KeyManager::rotate_now`].
    pub async fn rotate_keys_by(
        &self,
        actor: Option<&str>,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        self.maintenance.rotate_keys_by(actor, origin).await?;
        self.sync_keys().await;
        Ok(())
    }
}

impl AppState {
    /// Verifies an access token with the server's verifier; a token naming
    /// a key id the verifier does not hold reloads the keys (see the module)
    /// and is verified again.
    ///
    /// # Errors
    /// As [`authgate_guard::Verifier::verify_token`].
    pub(crate) async fn verify_token(&self, token: &str) -> Result<Principal, GuardError> {
        match self.verifier.verify_token(token, self.clock.unix()) {
            Err(GuardError::InvalidToken(JwtError::UnknownKey)) => {
                let now_ms = (self.clock.now().unix_timestamp_nanos() / 1_000_000) as i64;
                self.key_reload.reload(now_ms, || self.sync_keys()).await;
                self.verifier.verify_token(token, self.clock.unix())
            }
            other => other,
        }
    }

    /// [`AppState::verify_token`] of an `Authorization` header's Bearer token.
    ///
    /// # Errors
    /// [`GuardError::MissingCredentials`] for `None`, the errors of
    /// [`authgate_guard::parse_bearer`] and of [`AppState::verify_token`].
    pub(crate) async fn authenticate_bearer(
        &self,
        authorization: Option<&str>,
    ) -> Result<Principal, GuardError> {
        let header = authorization.ok_or(GuardError::MissingCredentials)?;
        self.verify_token(authgate_guard::parse_bearer(header)?)
            .await
    }
}
