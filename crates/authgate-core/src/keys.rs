//! [`KeyManager`]: the keyring with what it needs to move on (store, master
//! key, settings, clock), shared by the server's scheduler, the admin API
//! and the `authgate keys` commands.

use std::sync::Arc;

use crate::audit::{AuditLog, Origin};
use crate::clock::Clock;
use crate::error::AuthError;
use crate::keyring::{Keyring, KeyringSettings, Ring, RotationAudit};
use crate::secrets::MasterKey;
use crate::store::KeyStore;

/// The keyring and the means to advance it.
#[derive(Debug, Clone)]
pub struct KeyManager {
    /// The keys in use.
    keyring: Arc<Keyring>,
    /// Where keys live; its compare-and-swap decides races between instances.
    store: Arc<dyn KeyStore>,
    /// Seals new keys, opens stored ones.
    master: Arc<MasterKey>,
    /// Algorithm and schedule.
    settings: KeyringSettings,
    /// The time the schedule follows.
    clock: Arc<dyn Clock>,
    /// Where rotations are recorded; `None` records nothing.
    audit: Option<Arc<AuditLog>>,
}

impl KeyManager {
    /// Loads (or on first start creates) the keys and applies what is due.
    ///
    /// # Errors
    /// As [`Keyring::load_or_create`].
    pub async fn load(
        store: Arc<dyn KeyStore>,
        master: Arc<MasterKey>,
        settings: KeyringSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AuthError> {
        let keyring =
            Keyring::load_or_create(store.as_ref(), &master, &settings, clock.as_ref()).await?;
        Ok(Self {
            keyring: Arc::new(keyring),
            store,
            master,
            settings,
            clock,
            audit: None,
        })
    }

    /// Records rotations in `log` (`key.rotated`, in the key transaction).
    #[must_use]
    pub fn with_audit(mut self, log: Arc<AuditLog>) -> Self {
        self.audit = Some(log);
        self
    }

    /// The keyring, for signing.
    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.keyring
    }

    /// A snapshot of the keys.
    pub fn ring(&self) -> Arc<Ring> {
        self.keyring.ring()
    }

    /// The schedule in force.
    pub fn settings(&self) -> &KeyringSettings {
        &self.settings
    }

    /// Applies the transitions due now and picks up other instances'
    /// changes; returns whether the keys in use changed.
    ///
    /// # Errors
    /// As [`Keyring::tick`].
    pub async fn tick(&self) -> Result<bool, AuthError> {
        let origin = Origin::default();
        let audit = self.audit.as_deref().map(|log| RotationAudit {
            log,
            actor: None,
            origin: &origin,
        });
        self.keyring
            .tick(
                self.store.as_ref(),
                &self.master,
                &self.settings,
                self.clock.as_ref(),
                audit.as_ref(),
            )
            .await
    }

    /// Rotates now (see [`Keyring::rotate_now`]).
    ///
    /// # Errors
    /// As [`Keyring::rotate_now`].
    pub async fn rotate_now(&self) -> Result<(), AuthError> {
        self.rotate_now_by(None, &Origin::default()).await
    }

    /// Rotates now on behalf of `actor` (recorded in `key.rotated`).
    ///
    /// # Errors
    /// As [`Keyring::rotate_now`].
    pub async fn rotate_now_by(
        &self,
        actor: Option<&str>,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        let audit = self
            .audit
            .as_deref()
            .map(|log| RotationAudit { log, actor, origin });
        self.keyring
            .rotate_now(
                self.store.as_ref(),
                &self.master,
                &self.settings,
                self.clock.as_ref(),
                audit.as_ref(),
            )
            .await
    }
}
