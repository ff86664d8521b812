//! What every handler can reach: the service, the verifier, the stores' health, the clock.

use std::sync::{Arc, Mutex, PoisonError};

use authgate_proto::KeyState;

use authgate_core::{AuthService, Clock, KeyManager, Ping};
use authgate_guard::Verifier;

/// Shared application state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The flows of API.md.
    pub auth: AuthService,
    /// The one Bearer verification path (with its verified-token cache).
    pub verifier: Arc<Verifier>,
    /// Readiness probes by store name.
    pub probes: Arc<Vec<(&'static str, Arc<dyn Ping>)>>,
    /// Signing keys and their schedule.
    pub keys: KeyManager,
    /// The key-set version the verifier holds, so any change reaches it.
    pub(crate) verifier_keys: Arc<Mutex<Vec<(String, KeyState)>>>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// `server.public_url` without a trailing slash: discovery links.
    pub public_url: Arc<str>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<Vec<std::net::IpAddr>>,
}

impl std::fmt::Debug for AppState {
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
        if let Err(e) = self.keys.tick().await {
            tracing::error!(error = %e, "key rotation check failed; will retry");
        }
        let ring = self.keys.ring();
        let mut installed = self
            .verifier_keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if *installed != ring.version {
            self.verifier.set_keys(ring.verifying.clone());
            installed.clone_from(&ring.version);
            tracing::info!(
                kid = ring.signing.kid().unwrap_or_default(),
                "signing keys changed"
            );
        }
    }

    /// Rotates the signing keys now and puts the new set in force at once.
    ///
    /// # Errors
    /// As [`KeyManager::rotate_now`].
    pub async fn rotate_keys(&self) -> Result<(), authgate_core::AuthError> {
        self.keys.rotate_now().await?;
        self.sync_keys().await;
        Ok(())
    }
}
