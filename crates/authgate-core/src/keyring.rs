//! The signing keyring and its lifecycle (docs/architecture.md "Keys and rotation"):
//! keys go next → active → retired → expired on a schedule driven by the
//! Clock; the store's compare-and-swap makes exactly one instance perform
//! each change, and every instance reloads what the store holds.

use std::str::FromStr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use authgate_jwt::{Algorithm, JwkSet, KeySet, SigningKey};
use authgate_proto::{KeyInfo, KeyLane, KeyState};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::audit::{AuditLog, Origin};
use crate::clock::Clock;
use crate::error::AuthError;
use crate::model::StoredKey;
use crate::secrets::{MasterKey, Purpose};
use crate::store::KeyStore;

/// How the deployment signs tokens and rotates its keys.
#[derive(Clone)]
pub struct KeyringSettings {
    /// Algorithm of newly created keys; a change takes effect at the next rotation. Defaults to EdDSA.
    pub algorithm: Algorithm,
    /// RSA modulus size for RS*/PS* keys: 2048 or 3072. Defaults to 2048.
    pub rsa_bits: u32,
    /// For HS* only: a shared secret from configuration, used as the one
    /// signing key (it is the operator's and other services hold it, so it
    /// does not rotate here; generated HMAC secrets do).
    pub hmac_secret: Option<Zeroizing<Vec<u8>>>,
    /// How long a key signs before the next one takes over. Defaults to 15 days.
    pub rotation_interval: Duration,
    /// How long before it signs a new key is published. Defaults to 1 day.
    pub publish_lead: Duration,
    /// How long a retired key keeps verifying: access-token lifetime plus
    /// leeway, so every token it signed expires first. Defaults to 16 minutes.
    pub verify_window: Duration,
    /// Whether to keep the [`KeyLane::IdToken`] lane: RS256 keys for
    /// OpenID Connect ID tokens, on the same schedule as the access keys.
    /// Defaults to `false`.
    pub id_token_keys: bool,
}

impl Default for KeyringSettings {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::EdDSA,
            rsa_bits: 2048,
            hmac_secret: None,
            rotation_interval: Duration::days(15),
            publish_lead: Duration::days(1),
            verify_window: Duration::minutes(16),
            id_token_keys: false,
        }
    }
}

impl std::fmt::Debug for KeyringSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyringSettings")
            .field("algorithm", &self.algorithm)
            .field("rsa_bits", &self.rsa_bits)
            .field(
                "hmac_secret",
                &self.hmac_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("rotation_interval", &self.rotation_interval)
            .field("publish_lead", &self.publish_lead)
            .field("verify_window", &self.verify_window)
            .field("id_token_keys", &self.id_token_keys)
            .finish()
    }
}

/// The algorithm of ID-token keys: the one OpenID Connect requires every
/// provider to support (OIDC Core §15.1).
pub(crate) const ID_TOKEN_ALGORITHM: Algorithm = Algorithm::RS256;

/// Key id of a configured HMAC secret (a thumbprint would let anyone test guesses of it).
const CONFIGURED_HMAC_KID: &str = "hmac-configured";

/// The keys in use, swapped atomically when they change.
#[derive(Debug)]
pub struct Keyring {
    /// Readers take a snapshot without locking.
    current: ArcSwap<Ring>,
    /// Held from reading the store to installing the ring built from it, so
    /// a scheduled tick that read the store before a rotation cannot
    /// install its older ring over the rotation's.
    advancing: tokio::sync::Mutex<()>,
}

/// One consistent view of the keys.
#[derive(Debug)]
pub struct Ring {
    /// Signs new access tokens: the active key of the access lane.
    pub signing: Arc<SigningKey>,
    /// Verifies access tokens: every access-lane key that is not expired
    /// (next, active, retired) by its state *and* by the time. ID-token
    /// keys are not in it, so an ID token is never taken for an access token.
    pub verifying: KeySet,
    /// Signs ID tokens: the active key of the ID-token lane; `None` when
    /// [`KeyringSettings::id_token_keys`] is off.
    pub id_signing: Option<Arc<SigningKey>>,
    /// The ID-token lane's keys that are not expired, published beside
    /// `verifying` for relying parties.
    pub id_verifying: KeySet,
    /// What admins and `authgate keys list` see, oldest first.
    pub infos: Vec<KeyInfo>,
    /// The (kid, state) pairs this ring was built from, to tell when the
    /// store changed (or, for a key whose expiry came while the store was
    /// unreachable, `Expired`: what the store will say once reached).
    pub version: Vec<(String, KeyState)>,
    /// When each key of `verifying` that has an expiry stops verifying.
    expiries: Vec<(String, OffsetDateTime)>,
}

impl Ring {
    /// The JWKS to publish: public keys of next, active and retired keys
    /// of both lanes; never an HMAC secret (so without access keys in HMAC mode).
    pub fn jwks(&self) -> JwkSet {
        let mut set = self.verifying.to_jwks();
        set.keys.extend(self.id_verifying.to_jwks().keys);
        set
    }
}

impl Keyring {
    /// Loads the stored keys, creating an active key on first start and
    /// applying any transition that is due.
    ///
    /// # Errors
    /// [`AuthError::Internal`] with a clear message when a stored key does
    /// not decrypt with `master` (a wrong or corrupted master key): refusing
    /// to start beats signing with garbage. Store errors as usual.
    pub async fn load_or_create(
        store: &dyn KeyStore,
        master: &MasterKey,
        settings: &KeyringSettings,
        clock: &dyn Clock,
    ) -> Result<Self, AuthError> {
        if settings.hmac_secret.is_some() {
            return Ok(Self {
                current: ArcSwap::from_pointee(configured_hmac_ring(settings)?),
                advancing: tokio::sync::Mutex::new(()),
            });
        }
        reseal::reseal_stored(store, master).await?;
        let ring = advance(store, master, settings, clock, false, None).await?;
        Ok(Self {
            current: ArcSwap::from_pointee(ring),
            advancing: tokio::sync::Mutex::new(()),
        })
    }

    /// A snapshot of the keys.
    pub fn ring(&self) -> Arc<Ring> {
        self.current.load_full()
    }

    /// Applies the transitions due at `clock.now()` (creating, activating,
    /// retiring, expiring keys), then reloads what the store holds, which
    /// also picks up changes made by other instances. Returns whether the
    /// keys in use changed.
    ///
    /// When the store cannot be read, keys whose expiry has come still
    /// leave the ring (and the error is returned): a retired key must not
    /// keep verifying because the database is down.
    ///
    /// # Errors
    /// Store errors; [`AuthError::Internal`] for keys that do not decrypt.
    pub async fn tick(
        &self,
        store: &dyn KeyStore,
        master: &MasterKey,
        settings: &KeyringSettings,
        clock: &dyn Clock,
        audit: Option<&RotationAudit<'_>>,
    ) -> Result<bool, AuthError> {
        if settings.hmac_secret.is_some() {
            return Ok(false);
        }
        let _advancing = self.advancing.lock().await;
        match advance(store, master, settings, clock, false, audit).await {
            Ok(ring) => Ok(self.install(ring)),
            Err(error) => {
                let current = self.current.load_full();
                if let Some(ring) = current.without_expired(clock.now()) {
                    tracing::warn!(
                        error = %error,
                        "the key store is unreachable; keys past their expiry stop verifying anyway"
                    );
                    self.current.store(Arc::new(ring));
                }
                Err(error)
            }
        }
    }

    /// Rotates now: the `next` key (or a new one if none waits) becomes
    /// active, the active one retires, and a new `next` is created.
    ///
    /// A key created here signs at once without having been published
    /// ahead; resource servers fetch it on the first unknown `kid`.
    ///
    /// # Errors
    /// [`AuthError::InvalidInput`] when signing with a configured HMAC
    /// secret (rotate it in configuration); store errors.
    pub async fn rotate_now(
        &self,
        store: &dyn KeyStore,
        master: &MasterKey,
        settings: &KeyringSettings,
        clock: &dyn Clock,
        audit: Option<&RotationAudit<'_>>,
    ) -> Result<(), AuthError> {
        if settings.hmac_secret.is_some() {
            return Err(AuthError::invalid(
                "tokens.hmac_secret",
                "a configured HMAC secret is rotated in configuration, not here",
            ));
        }
        let _advancing = self.advancing.lock().await;
        let ring = advance(store, master, settings, clock, true, audit).await?;
        self.install(ring);
        Ok(())
    }

    fn install(&self, ring: Ring) -> bool {
        let changed = self.current.load().version != ring.version;
        if changed {
            self.current.store(Arc::new(ring));
        }
        changed
    }
}

/// Who rotates keys and where their `key.rotated` records go: written in
/// the transaction that puts a new key to signing.
#[derive(Debug, Clone, Copy)]
pub struct RotationAudit<'a> {
    /// The audit log (its database sink, when configured, is written in the
    /// key transaction; the others after the commit).
    pub log: &'a AuditLog,
    /// Who asked (an admin's user id, a client id); `None` for the schedule
    /// and the command line.
    pub actor: Option<&'a str>,
    /// Where the request came from.
    pub origin: &'a Origin,
}

impl RotationAudit<'_> {
    /// The `key.rotated` event of a plan that retires the active key, if it does.
    fn event_for(
        &self,
        stored: &[StoredKey],
        updated: &[StoredKey],
        created: &[StoredKey],
        now: OffsetDateTime,
        forced: bool,
    ) -> Option<authgate_proto::AuditEvent> {
        let old = stored.iter().find(|k| k.state == KeyState::Active)?;
        let retires = updated
            .iter()
            .any(|k| k.kid == old.kid && k.state != KeyState::Active);
        let new = updated
            .iter()
            .chain(created)
            .find(|k| k.state == KeyState::Active)?;
        if !retires {
            return None;
        }
        let mut e = crate::audit::event(authgate_proto::AuditKind::KEY_ROTATED, now, self.origin);
        e.actor_id = self.actor.map(str::to_owned);
        e.details
            .insert("active_kid".into(), new.kid.clone().into());
        e.details
            .insert("retired_kid".into(), old.kid.clone().into());
        e.details.insert("scheduled".into(), (!forced).into());
        Some(e)
    }
}

/// Plans and applies what is due, retrying on a lost race, and returns the
/// ring built from what the store then holds.
async fn advance(
    store: &dyn KeyStore,
    master: &MasterKey,
    settings: &KeyringSettings,
    clock: &dyn Clock,
    force: bool,
    audit: Option<&RotationAudit<'_>>,
) -> Result<Ring, AuthError> {
    for _ in 0..3 {
        let stored = store.keys().await?;
        let now = clock.now();
        let mut lanes = vec![KeyLane::Access];
        if settings.id_token_keys {
            lanes.push(KeyLane::IdToken);
        }
        let mut updated = Vec::new();
        let mut created = Vec::new();
        let mut event: Option<authgate_proto::AuditEvent> = None;
        for lane in lanes {
            let lane_keys: Vec<StoredKey> =
                stored.iter().filter(|k| k.lane == lane).cloned().collect();
            let plan = plan(&lane_keys, now, settings, force);
            let lane_created = plan
                .create
                .iter()
                .map(|new| create_key(settings, lane, new, master, now))
                .collect::<Result<Vec<_>, _>>()?;
            let lane_event = audit
                .and_then(|a| a.event_for(&lane_keys, &plan.updated, &lane_created, now, force));
            event = merge_rotation_events(event, lane_event, lane);
            updated.extend(plan.updated);
            created.extend(lane_created);
        }
        if updated.is_empty() && created.is_empty() {
            return build_ring(&stored, master, settings, now);
        }
        let expected: Vec<_> = stored.iter().map(|k| (k.kid.clone(), k.state)).collect();
        let in_transaction = event
            .as_ref()
            .filter(|_| audit.is_some_and(|a| a.log.store().is_some()));
        if store
            .transition_audited(&expected, &updated, &created, in_transaction)
            .await?
        {
            if let (Some(event), Some(audit)) = (event, audit) {
                audit.log.record_written(event);
            }
            for key in &updated {
                tracing::info!(kid = %key.kid, state = ?key.state, "signing key changed state");
            }
            for key in &created {
                tracing::info!(kid = %key.kid, alg = %key.alg, state = ?key.state, lane = key.lane.as_str(), "signing key created");
            }
            return build_ring(&store.keys().await?, master, settings, now);
        }
        // Another instance changed the keys first: plan again on what it did.
    }
    build_ring(&store.keys().await?, master, settings, clock.now())
}

/// One `key.rotated` record for a transition: the access lane's (as before
/// lanes existed), with the ID-token lane's kids added when both rotate at
/// once (a forced rotation); the ID-token lane's alone, marked
/// `"lane": "id_token"`, when only it rotates.
fn merge_rotation_events(
    so_far: Option<authgate_proto::AuditEvent>,
    lane_event: Option<authgate_proto::AuditEvent>,
    lane: KeyLane,
) -> Option<authgate_proto::AuditEvent> {
    match (so_far, lane_event) {
        (None, None) => None,
        (Some(e), None) => Some(e),
        (None, Some(mut e)) => {
            if lane != KeyLane::Access {
                e.details.insert("lane".into(), lane.as_str().into());
            }
            Some(e)
        }
        (Some(mut e), Some(other)) => {
            for field in ["active_kid", "retired_kid"] {
                if let Some(value) = other.details.get(field) {
                    e.details
                        .insert(format!("{}_{field}", lane.as_str()), value.clone());
                }
            }
            Some(e)
        }
    }
}

/// A key to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewKey {
    pub(crate) state: KeyState,
    pub(crate) activates_at: OffsetDateTime,
}

/// What is due: existing keys with new states or dates, keys to create.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) updated: Vec<StoredKey>,
    pub(crate) create: Vec<NewKey>,
}

/// The lifecycle as a pure function of the stored keys and the time.
///
/// 1. Retired keys past their `expires_at` expire. A retired key without
///    one (written by hand, or by an older version) gets its retirement
///    (or now, if that is unknown too) plus `verify_window`: nothing
///    verifies forever.
/// 2. A `next` key whose `activates_at` has come (or any `next`, when
///    forced) becomes active and the active key retires, verifying for
///    `verify_window` more; with no active key at all, one is made active.
/// 3. Once the next rotation is within `publish_lead` (or right after a
///    forced rotation), a `next` key is created, activating one rotation
///    interval after the active key did, and never less than `publish_lead`
///    from now, so caches hold it before it signs.
pub(crate) fn plan(
    stored: &[StoredKey],
    now: OffsetDateTime,
    s: &KeyringSettings,
    force: bool,
) -> Plan {
    let mut keys = stored.to_vec();
    let mut changed = vec![false; keys.len()];
    let mut create = Vec::new();

    for (i, key) in keys.iter_mut().enumerate() {
        if key.state != KeyState::Retired {
            continue;
        }
        if key.expires_at.is_none() {
            key.expires_at = Some(key.retires_at.unwrap_or(now) + s.verify_window);
            changed[i] = true;
        }
        if key.expires_at.is_some_and(|at| at <= now) {
            key.state = KeyState::Expired;
            changed[i] = true;
        }
    }

    let active = keys.iter().position(|k| k.state == KeyState::Active);
    let next = keys
        .iter()
        .enumerate()
        .filter(|(_, k)| k.state == KeyState::Next)
        .min_by_key(|(_, k)| k.activates_at)
        .map(|(i, _)| i);
    let next_due = next.is_some_and(|n| force || keys[n].activates_at.is_none_or(|at| at <= now));
    let mut active_since = active.and_then(|i| keys[i].activates_at.or(Some(keys[i].created_at)));
    let rotate = match (active, next) {
        (None, _) => true,
        (Some(_), Some(_)) => next_due,
        (Some(_), None) => force,
    };
    if rotate {
        if let Some(a) = active {
            let key = &mut keys[a];
            key.state = KeyState::Retired;
            key.retires_at = Some(now);
            key.expires_at = Some(now + s.verify_window);
            changed[a] = true;
        }
        match next.filter(|_| next_due || active.is_none()) {
            Some(n) => {
                let key = &mut keys[n];
                key.state = KeyState::Active;
                // A forced or late activation is recorded as it happened.
                let at = key.activates_at.filter(|at| *at <= now).unwrap_or(now);
                key.activates_at = Some(at);
                changed[n] = true;
                active_since = Some(at);
            }
            None => {
                create.push(NewKey {
                    state: KeyState::Active,
                    activates_at: now,
                });
                active_since = Some(now);
            }
        }
    }

    let next_waiting = keys.iter().any(|k| k.state == KeyState::Next);
    if let (false, Some(since)) = (next_waiting, active_since) {
        let scheduled = since + s.rotation_interval;
        if force || now >= scheduled - s.publish_lead {
            create.push(NewKey {
                state: KeyState::Next,
                activates_at: scheduled.max(now + s.publish_lead),
            });
        }
    }

    let updated = keys
        .into_iter()
        .zip(changed)
        .filter_map(|(key, changed)| changed.then_some(key))
        .collect();
    Plan { updated, create }
}

/// Generates a key for `lane` (the configured algorithm for access tokens,
/// [`ID_TOKEN_ALGORITHM`] for ID tokens), sealed with the master key.
fn create_key(
    settings: &KeyringSettings,
    lane: KeyLane,
    new: &NewKey,
    master: &MasterKey,
    now: OffsetDateTime,
) -> Result<StoredKey, AuthError> {
    let alg = match lane {
        KeyLane::IdToken => ID_TOKEN_ALGORITHM,
        _ => settings.algorithm,
    };
    let generated = if matches!(
        alg,
        Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512
    ) {
        SigningKey::generate_rsa(alg, settings.rsa_bits)
    } else {
        SigningKey::generate(alg)
    };
    let key = generated.map_err(|e| AuthError::Internal(format!("key generation failed: {e}")))?;
    let (kid, material) = if alg.is_symmetric() {
        // HMAC secrets get a random kid: a thumbprint of a secret would let anyone test guesses of it.
        let kid = format!("hs-{}", &crate::secrets::random_token()?[..16]);
        (kid, key.to_secret_bytes())
    } else {
        (key.kid().unwrap_or_default().to_owned(), key.to_pkcs8_der())
    };
    let material = material.map_err(|e| AuthError::Internal(format!("key export failed: {e}")))?;
    Ok(StoredKey {
        private_sealed: master.seal(Purpose::SigningKey, &material, kid.as_bytes())?,
        kid,
        alg: alg.as_str().to_owned(),
        state: new.state,
        lane,
        created_at: now,
        activates_at: Some(new.activates_at),
        retires_at: None,
        expires_at: None,
    })
}

/// The ring of what the store holds at `now`: keys expired by state or by
/// time are listed but do not verify.
fn build_ring(
    stored: &[StoredKey],
    master: &MasterKey,
    settings: &KeyringSettings,
    now: OffsetDateTime,
) -> Result<Ring, AuthError> {
    let mut verifying = KeySet::new();
    let mut id_verifying = KeySet::new();
    let mut signing = None;
    let mut id_signing = None;
    let mut expiries = Vec::new();
    let mut infos = Vec::with_capacity(stored.len());
    for record in stored {
        let id_lane = record.lane == KeyLane::IdToken;
        if id_lane && !settings.id_token_keys {
            // Left from when OpenID Connect was enabled: neither published nor used.
            continue;
        }
        infos.push(KeyInfo {
            kid: record.kid.clone(),
            alg: record.alg.clone(),
            state: record.state,
            lane: record.lane,
            created_at: Some(record.created_at),
            activates_at: record.activates_at,
            retires_at: record.retires_at,
            expires_at: record.expires_at,
        });
        let expires = expiry::expiry(record, settings);
        if record.state == KeyState::Expired || expires.is_some_and(|at| at <= now) {
            continue;
        }
        if let Some(at) = expires {
            expiries.push((record.kid.clone(), at));
        }
        let key = open_key(record, master)?;
        let (set, slot) = if id_lane {
            (&mut id_verifying, &mut id_signing)
        } else {
            (&mut verifying, &mut signing)
        };
        set.insert(key.verifying_key().clone())
            .map_err(|e| AuthError::Internal(format!("key {} unusable: {e}", record.kid)))?;
        if record.state == KeyState::Active {
            *slot = Some(Arc::new(key));
        }
    }
    let signing = signing.ok_or_else(|| AuthError::Internal("no active signing key".into()))?;
    if settings.id_token_keys && id_signing.is_none() {
        return Err(AuthError::Internal("no active ID-token signing key".into()));
    }
    Ok(Ring {
        signing,
        verifying,
        id_signing,
        id_verifying,
        infos,
        version: stored.iter().map(|k| (k.kid.clone(), k.state)).collect(),
        expiries,
    })
}

fn configured_hmac_ring(settings: &KeyringSettings) -> Result<Ring, AuthError> {
    if settings.id_token_keys {
        return Err(AuthError::invalid(
            "tokens.hmac_secret",
            "OpenID Connect needs stored (rotating) keys; it cannot run with a configured hmac_secret",
        ));
    }
    let secret: &[u8] = settings.hmac_secret.as_deref().map_or(&[], Vec::as_slice);
    if !settings.algorithm.is_symmetric() {
        return Err(AuthError::invalid(
            "tokens.hmac_secret",
            "hmac_secret is only for HS256/HS384/HS512",
        ));
    }
    let signing = SigningKey::from_secret(settings.algorithm, secret)
        .map_err(|e| AuthError::invalid("tokens.hmac_secret", e.to_string()))?
        .with_kid(CONFIGURED_HMAC_KID);
    let mut verifying = KeySet::new();
    verifying
        .insert(signing.verifying_key().clone())
        .map_err(|e| AuthError::Internal(e.to_string()))?;
    Ok(Ring {
        infos: vec![KeyInfo {
            kid: CONFIGURED_HMAC_KID.to_owned(),
            alg: settings.algorithm.as_str().to_owned(),
            state: KeyState::Active,
            lane: KeyLane::Access,
            created_at: None,
            activates_at: None,
            retires_at: None,
            expires_at: None,
        }],
        version: vec![(CONFIGURED_HMAC_KID.to_owned(), KeyState::Active)],
        signing: Arc::new(signing),
        verifying,
        id_signing: None,
        id_verifying: KeySet::new(),
        expiries: Vec::new(),
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
        .open(
            Purpose::SigningKey,
            &record.private_sealed,
            record.kid.as_bytes(),
        )
        .map_err(|_| unreadable("it does not decrypt with the configured master key"))?;
    let key = if alg.is_symmetric() {
        SigningKey::from_secret(alg, &material)
    } else {
        SigningKey::from_pkcs8_der(alg, &material)
    }
    .map_err(|_| unreadable("the decrypted key is invalid"))?;
    Ok(key.with_kid(record.kid.clone()))
}

mod expiry;
mod reseal;
#[cfg(test)]
mod tests;
