//! Expiry by time: when a key stops verifying, and dropping the keys whose
//! time has come from a ring without reading the store.

use authgate_proto::KeyState;
use time::OffsetDateTime;

use super::{KeyringSettings, Ring};
use crate::model::StoredKey;

/// When `key` stops verifying, by time: its `expires_at`, or for a retired
/// key without one, its retirement plus `verify_window`.
pub(super) fn expiry(key: &StoredKey, settings: &KeyringSettings) -> Option<OffsetDateTime> {
    key.expires_at.or_else(|| {
        (key.state == KeyState::Retired)
            .then_some(key.retires_at)
            .flatten()
            .map(|at| at + settings.verify_window)
    })
}

impl Ring {
    /// This ring without the keys whose expiry has come at `now`, or `None`
    /// when none has: expiry is judged by time even when the store, which
    /// records it as a state, cannot be reached.
    pub(super) fn without_expired(&self, now: OffsetDateTime) -> Option<Self> {
        let due: Vec<&str> = self
            .expiries
            .iter()
            .filter(|(_, at)| *at <= now)
            .map(|(kid, _)| kid.as_str())
            .collect();
        if due.is_empty() {
            return None;
        }
        let expired = |kid: &str| due.contains(&kid);
        let mut verifying = self.verifying.clone();
        let mut id_verifying = self.id_verifying.clone();
        for kid in &due {
            verifying.remove(kid);
            id_verifying.remove(kid);
        }
        let mut infos = self.infos.clone();
        for info in infos.iter_mut().filter(|i| expired(&i.kid)) {
            info.state = KeyState::Expired;
        }
        let version = self
            .version
            .iter()
            .map(|(kid, state)| {
                let state = if expired(kid) {
                    KeyState::Expired
                } else {
                    *state
                };
                (kid.clone(), state)
            })
            .collect();
        Some(Self {
            signing: self.signing.clone(),
            verifying,
            id_signing: self.id_signing.clone(),
            id_verifying,
            infos,
            version,
            expiries: self
                .expiries
                .iter()
                .filter(|(_, at)| *at > now)
                .cloned()
                .collect(),
        })
    }
}
