//! What every handler can reach: the service, the verifier, the stores' health, the clock.

use std::sync::{Arc, Mutex, PoisonError};

use authgate_proto::KeyState;

use authgate_core::{AuthService, Clock, KeyManager, Ping};
use authgate_guard::{Permissions, Verifier};

/// How long ended sessions and expired revocations are kept before
/// [`AppState::purge_ended`] deletes them.
pub(crate) const PURGE_RETENTION: time::Duration = time::Duration::days(1);
/// How often the server purges.
pub(crate) const PURGE_PERIOD: time::Duration = time::Duration::minutes(10);
/// Rows per purge transaction, so the SQLite write lock is held briefly.
const PURGE_BATCH: u32 = 1000;
/// Batches per purge run; what is left waits for the next period.
const PURGE_MAX_BATCHES: usize = 100;

/// Shared application state. axum clones it for every request (and again
/// for each extractor that reads it), so a clone is one reference count on
/// one shared allocation, not one per part: with two dozen `Arc`s inside,
/// per-part counting cost ~7% of a GET /me in contended atomics.
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

/// What every [`AppState`] clone shares; reached through `Deref`.
pub struct SharedState {
    /// The flows of API.md.
    pub auth: AuthService,
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
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// `server.public_url` without a trailing slash: discovery links.
    pub public_url: Arc<str>,
    /// The Prometheus recorder's handle, for `GET /metrics`; `None` when
    /// another recorder owns the process.
    pub(crate) metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<Vec<std::net::IpAddr>>,
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
        // A rotation applied here is recorded by the key manager (key.rotated,
        // in the key transaction).
        if let Err(e) = self.keys.tick().await {
            tracing::error!(error = %e, "key rotation check failed; will retry");
        }
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

    /// Deletes sessions, refresh tokens and access-token revocations that
    /// ended more than a day (or one access-token lifetime, if longer) ago,
    /// in batches; returns how many sessions and revocations went. The
    /// server runs this every ten minutes; tests call it after moving the
    /// clock.
    ///
    /// The retention keeps every row an answer can still depend on: a
    /// revoked session's access tokens die within one lifetime, and instances
    /// read revocations back only for that long.
    pub async fn purge_ended(&self) -> u64 {
        let settings = self.auth.settings();
        let retention = PURGE_RETENTION.max(settings.access_ttl + settings.leeway);
        let before = self.clock.now() - retention;
        let sessions = self.auth.deps().sessions.clone();
        let mut purged = 0;
        for _ in 0..PURGE_MAX_BATCHES {
            match sessions.purge_ended(before, PURGE_BATCH).await {
                Ok(0) => break,
                Ok(n) => purged += n,
                Err(e) => {
                    tracing::warn!(error = %e, "purging ended sessions failed; will retry");
                    break;
                }
            }
        }
        if purged > 0 {
            tracing::info!(purged, "purged ended sessions and revocations");
        }
        purged
    }

    /// Rotates the signing keys now and puts the new set in force at once.
    ///
    /// # Errors
    /// As [`KeyManager::rotate_now`].
    pub async fn rotate_keys(&self) -> Result<(), authgate_core::AuthError> {
        self.rotate_keys_by(None, &authgate_core::Origin::default())
            .await
    }

    /// [`AppState::rotate_keys`] on behalf of `actor` (recorded in `key.rotated`).
    ///
    /// # Errors
    /// As [`KeyManager::rotate_now`].
    pub async fn rotate_keys_by(
        &self,
        actor: Option<&str>,
        origin: &authgate_core::Origin,
    ) -> Result<(), authgate_core::AuthError> {
        self.keys.rotate_now_by(actor, origin).await?;
        self.auth
            .deps()
            .bus
            .publish(authgate_core::Change::KeysChanged);
        self.sync_keys().await;
        Ok(())
    }
}
