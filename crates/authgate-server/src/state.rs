//! What every handler can reach: the service, the verifier, the stores' health, the clock.

use std::sync::Arc;

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
