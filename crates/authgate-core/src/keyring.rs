//! The signing keyring: the active key that signs access tokens and every key
//! that may still verify them, loaded from the key store and decrypted with
//! the master key. (Scheduled rotation arrives with the keys issue.)

use std::str::FromStr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use authgate_jwt::{Algorithm, KeySet, SigningKey};
use authgate_proto::{KeyInfo, KeyState};
use zeroize::Zeroizing;

use crate::clock::Clock;
use crate::error::AuthError;
use crate::model::StoredKey;
use crate::secrets::MasterKey;
use crate::store::KeyStore;

/// How the deployment signs tokens.
#[derive(Clone)]
pub struct KeyringSettings {
    /// Algorithm for newly created keys. Defaults to EdDSA.
    pub algorithm: Algorithm,
    /// For HS* only: a shared secret from configuration, used instead of a
    /// generated one so another service can hold the same secret.
    pub hmac_secret: Option<Zeroizing<Vec<u8>>>,
}

impl Default for KeyringSettings {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::EdDSA,
            hmac_secret: None,
        }
    }
}

impl std::fmt::Debug for KeyringSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyringSettings")
            .field("algorithm", &self.algorithm)
            .field(
                "hmac_secret",
                &self.hmac_secret.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// Key id of a configured HMAC secret (a thumbprint would let anyone test guesses of it).
const CONFIGURED_HMAC_KID: &str = "hmac-configured";

/// The keys in use, swapped atomically when they change.
#[derive(Debug)]
pub struct Keyring {
    /// Readers take a snapshot without locking.
    current: ArcSwap<Ring>,
}

/// One consistent view of the keys.
#[derive(Debug)]
pub struct Ring {
    /// Signs new access tokens.
    pub signing: SigningKey,
    /// Verifies tokens: the signing key and any others still valid.
    pub verifying: KeySet,
    /// What admins and `authgate keys list` see.
    pub infos: Vec<KeyInfo>,
}

impl Keyring {
    /// Loads the stored keys, creating and storing an active key on first start.
    ///
    /// # Errors
    /// [`AuthError::Internal`] with a clear message when a stored key does
    /// not decrypt with `master` (wrong or corrupted master key): refusing to
    /// start beats signing with garbage. Store errors as usual.
    pub async fn load_or_create(
        store: &dyn KeyStore,
        master: &MasterKey,
        settings: &KeyringSettings,
        clock: &dyn Clock,
    ) -> Result<Self, AuthError> {
        let mut stored = store.keys().await?;
        if !stored.iter().any(|k| k.state == KeyState::Active) {
            let created = create_key(settings.algorithm, master, clock)?;
            tracing::info!(kid = %created.kid, alg = %created.alg, "created the first signing key");
            store.insert_key(&created).await?;
            stored = store.keys().await?;
        }
        Ok(Self {
            current: ArcSwap::from_pointee(build_ring(&stored, master, settings)?),
        })
    }

    /// A snapshot of the keys.
    pub fn ring(&self) -> Arc<Ring> {
        self.current.load_full()
    }
}

/// Generates a key of `alg`, sealed with the master key, active from now.
fn create_key(
    alg: Algorithm,
    master: &MasterKey,
    clock: &dyn Clock,
) -> Result<StoredKey, AuthError> {
    let key = SigningKey::generate(alg)
        .map_err(|e| AuthError::Internal(format!("key generation failed: {e}")))?;
    let (kid, material) = if alg.is_symmetric() {
        // HMAC secrets get a random kid: a thumbprint of a secret would let anyone test guesses of it.
        let kid = format!("hs-{}", &crate::secrets::random_token()?[..16]);
        (kid, key.to_secret_bytes())
    } else {
        (key.kid().unwrap_or_default().to_owned(), key.to_pkcs8_der())
    };
    let material = material.map_err(|e| AuthError::Internal(format!("key export failed: {e}")))?;
    let now = clock.now();
    Ok(StoredKey {
        private_sealed: master.seal(&material, kid.as_bytes())?,
        kid,
        alg: alg.as_str().to_owned(),
        state: KeyState::Active,
        created_at: now,
        activates_at: Some(now),
        retires_at: None,
        expires_at: None,
    })
}

fn build_ring(
    stored: &[StoredKey],
    master: &MasterKey,
    settings: &KeyringSettings,
) -> Result<Ring, AuthError> {
    let mut verifying = KeySet::new();
    let mut signing = None;
    let mut infos = Vec::with_capacity(stored.len());
    for record in stored {
        infos.push(KeyInfo {
            kid: record.kid.clone(),
            alg: record.alg.clone(),
            state: record.state,
            created_at: Some(record.created_at),
            activates_at: record.activates_at,
            retires_at: record.retires_at,
            expires_at: record.expires_at,
        });
        if record.state == KeyState::Expired {
            continue;
        }
        let key = open_key(record, master)?;
        verifying
            .insert(key.verifying_key().clone())
            .map_err(|e| AuthError::Internal(format!("key {} unusable: {e}", record.kid)))?;
        // The newest active key signs (there is one; two only after a lost race, and both verify).
        if record.state == KeyState::Active {
            signing = Some(key);
        }
    }
    let mut signing = signing.ok_or_else(|| AuthError::Internal("no active signing key".into()))?;
    if let Some(secret) = &settings.hmac_secret {
        if !settings.algorithm.is_symmetric() {
            return Err(AuthError::invalid(
                "tokens.hmac_secret",
                "hmac_secret is only for HS256/HS384/HS512",
            ));
        }
        signing = SigningKey::from_secret(settings.algorithm, secret)
            .map_err(|e| AuthError::invalid("tokens.hmac_secret", e.to_string()))?
            .with_kid(CONFIGURED_HMAC_KID);
        verifying
            .insert(signing.verifying_key().clone())
            .map_err(|e| AuthError::Internal(e.to_string()))?;
    }
    Ok(Ring {
        signing,
        verifying,
        infos,
    })
}

fn open_key(record: &StoredKey, master: &MasterKey) -> Result<SigningKey, AuthError> {
    let unreadable = |why: &str| {
        AuthError::Internal(format!(
            "stored signing key {} cannot be used ({why}); is the master key the one this database was created with?",
            record.kid
        ))
    };
    let alg = Algorithm::from_str(&record.alg).map_err(|_| unreadable("unknown algorithm"))?;
    let material = master
        .open(&record.private_sealed, record.kid.as_bytes())
        .map_err(|_| unreadable("it does not decrypt with the configured master key"))?;
    let key = if alg.is_symmetric() {
        SigningKey::from_secret(alg, &material)
    } else {
        SigningKey::from_pkcs8_der(alg, &material)
    }
    .map_err(|_| unreadable("the decrypted key is invalid"))?;
    Ok(key.with_kid(record.kid.clone()))
}
