//! The key lifecycle, walked with a moving clock.

use super::*;

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

fn settings() -> KeyringSettings {
    KeyringSettings::default()
}

fn key(kid: &str, state: KeyState, activates_at: Option<OffsetDateTime>) -> StoredKey {
    StoredKey {
        kid: kid.into(),
        alg: "EdDSA".into(),
        state,
        lane: KeyLane::Access,
        private_sealed: vec![],
        created_at: t0(),
        activates_at,
        retires_at: None,
        expires_at: None,
    }
}

/// Applies a plan the way the store would, naming created keys k1, k2, …
fn apply(keys: &mut Vec<StoredKey>, plan: Plan, now: OffsetDateTime) {
    for updated in plan.updated {
        let slot = keys.iter_mut().find(|k| k.kid == updated.kid).unwrap();
        *slot = updated;
    }
    for new in plan.create {
        let mut k = key(
            &format!("k{}", keys.len() + 1),
            new.state,
            Some(new.activates_at),
        );
        k.created_at = now;
        keys.push(k);
    }
}

fn step(keys: &mut Vec<StoredKey>, now: OffsetDateTime, s: &KeyringSettings) {
    let p = plan(keys, now, s, false);
    apply(keys, p, now);
}

fn states(keys: &[StoredKey]) -> Vec<(&str, KeyState)> {
    keys.iter().map(|k| (k.kid.as_str(), k.state)).collect()
}

#[test]
fn first_start_creates_one_active_key_and_nothing_else() {
    let plan = plan(&[], t0(), &settings(), false);
    assert_eq!(
        plan.create,
        vec![NewKey {
            state: KeyState::Active,
            activates_at: t0()
        }]
    );
    assert!(plan.updated.is_empty());
}

#[test]
fn a_key_walks_next_active_retired_expired_on_schedule() {
    let s = settings();
    let mut keys = vec![];
    step(&mut keys, t0(), &s);
    assert_eq!(states(&keys), [("k1", KeyState::Active)]);

    // Nothing is due until one publication lead before the rotation.
    let before_lead = t0() + Duration::days(14) - Duration::seconds(1);
    assert_eq!(plan(&keys, before_lead, &s, false), Plan::default());

    // One lead before the rotation the next key is created and published.
    let at_lead = t0() + Duration::days(14);
    step(&mut keys, at_lead, &s);
    assert_eq!(
        states(&keys),
        [("k1", KeyState::Active), ("k2", KeyState::Next)]
    );
    assert_eq!(keys[1].activates_at, Some(t0() + Duration::days(15)));
    assert_eq!(
        plan(&keys, at_lead + Duration::hours(23), &s, false),
        Plan::default()
    );

    // At the rotation the next key signs and the old one retires.
    let rotation = t0() + Duration::days(15);
    step(&mut keys, rotation, &s);
    assert_eq!(
        states(&keys),
        [("k1", KeyState::Retired), ("k2", KeyState::Active)]
    );
    assert_eq!(keys[0].retires_at, Some(rotation));
    assert_eq!(keys[0].expires_at, Some(rotation + s.verify_window));

    // The retired key verifies until access-token lifetime + leeway have passed.
    let still = rotation + s.verify_window - Duration::seconds(1);
    assert_eq!(plan(&keys, still, &s, false), Plan::default());
    let gone = rotation + s.verify_window;
    step(&mut keys, gone, &s);
    assert_eq!(
        states(&keys),
        [("k1", KeyState::Expired), ("k2", KeyState::Active)]
    );
}

#[test]
fn a_late_start_publishes_the_next_key_a_full_lead_ahead() {
    let s = settings();
    let keys = vec![key("k1", KeyState::Active, Some(t0()))];
    // The server was down past the scheduled rotation.
    let late = t0() + Duration::days(20);
    let plan = plan(&keys, late, &s, false);
    assert_eq!(
        plan.create,
        vec![NewKey {
            state: KeyState::Next,
            activates_at: late + s.publish_lead
        }]
    );
}

#[test]
fn forced_rotation_promotes_the_waiting_key_and_creates_a_new_next() {
    let s = settings();
    let now = t0() + Duration::days(3);
    let keys = vec![
        key("k1", KeyState::Active, Some(t0())),
        key("k2", KeyState::Next, Some(t0() + Duration::days(15))),
    ];
    let plan = plan(&keys, now, &s, true);
    let by_kid = |kid: &str| plan.updated.iter().find(|k| k.kid == kid).unwrap();
    assert_eq!(by_kid("k1").state, KeyState::Retired);
    assert_eq!(by_kid("k2").state, KeyState::Active);
    assert_eq!(by_kid("k2").activates_at, Some(now));
    assert_eq!(
        plan.create,
        vec![NewKey {
            state: KeyState::Next,
            activates_at: now + s.rotation_interval
        }]
    );
}

#[test]
fn forced_rotation_without_a_waiting_key_creates_an_active_and_a_next() {
    let s = settings();
    let now = t0() + Duration::days(3);
    let keys = vec![key("k1", KeyState::Active, Some(t0()))];
    let plan = plan(&keys, now, &s, true);
    assert_eq!(plan.updated[0].state, KeyState::Retired);
    assert_eq!(
        plan.create,
        vec![
            NewKey {
                state: KeyState::Active,
                activates_at: now
            },
            NewKey {
                state: KeyState::Next,
                activates_at: now + s.rotation_interval
            },
        ]
    );
}

#[test]
fn a_lone_next_key_is_promoted_whatever_its_date() {
    let keys = vec![key("k1", KeyState::Next, Some(t0() + Duration::days(1)))];
    let plan = plan(&keys, t0(), &settings(), false);
    assert_eq!(plan.updated[0].state, KeyState::Active);
    assert!(plan.create.iter().all(|k| k.state != KeyState::Active));
}

/// Keys in memory, with a compare-and-swap like the real stores, and a
/// gate that can hold one `keys()` call after it has read.
#[derive(Debug, Default)]
struct HeldStore {
    keys: std::sync::Mutex<Vec<StoredKey>>,
    hold_next_read: std::sync::Mutex<Option<tokio::sync::oneshot::Receiver<()>>>,
    reading: tokio::sync::Notify,
    /// While set, every call fails as an unreachable database would.
    down: std::sync::atomic::AtomicBool,
}

impl HeldStore {
    fn check_up(&self) -> crate::store::StoreResult<()> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(crate::error::StoreError::Unavailable(
                "the test store is down".into(),
            ));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl KeyStore for HeldStore {
    async fn keys(&self) -> crate::store::StoreResult<Vec<StoredKey>> {
        self.check_up()?;
        let read = self.keys.lock().unwrap().clone();
        let gate = self.hold_next_read.lock().unwrap().take();
        if let Some(gate) = gate {
            self.reading.notify_one();
            let _ = gate.await;
        }
        Ok(read)
    }

    async fn insert_key(&self, key: &StoredKey) -> crate::store::StoreResult<()> {
        self.keys.lock().unwrap().push(key.clone());
        Ok(())
    }

    async fn transition_audited(
        &self,
        expected: &[(String, KeyState)],
        updated: &[StoredKey],
        inserted: &[StoredKey],
        _audit: Option<&authgate_proto::AuditEvent>,
    ) -> crate::store::StoreResult<bool> {
        self.check_up()?;
        let mut keys = self.keys.lock().unwrap();
        let same = keys.len() == expected.len()
            && keys
                .iter()
                .all(|k| expected.contains(&(k.kid.clone(), k.state)));
        if !same {
            return Ok(false);
        }
        for u in updated {
            if let Some(slot) = keys.iter_mut().find(|k| k.kid == u.kid) {
                *slot = u.clone();
            }
        }
        keys.extend(inserted.iter().cloned());
        Ok(true)
    }

    async fn reseal_key(
        &self,
        kid: &str,
        from: &[u8],
        to: &[u8],
    ) -> crate::store::StoreResult<bool> {
        self.check_up()?;
        let mut keys = self.keys.lock().unwrap();
        match keys
            .iter_mut()
            .find(|k| k.kid == kid && k.private_sealed == from)
        {
            Some(key) => {
                key.private_sealed = to.to_vec();
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// A keyring over a [`HeldStore`], shared by the tasks of a test.
#[derive(Debug)]
struct Held {
    store: HeldStore,
    ring: Keyring,
    master: MasterKey,
    settings: KeyringSettings,
    clock: crate::ManualClock,
}

#[tokio::test]
async fn a_tick_that_read_the_keys_before_a_rotation_does_not_undo_it() {
    let store = HeldStore::default();
    let master = MasterKey::from_bytes(&[7; 32]).unwrap();
    let clock = crate::ManualClock::new(OffsetDateTime::now_utc());
    let settings = settings();
    let ring = Keyring::load_or_create(&store, &master, &settings, &clock)
        .await
        .unwrap();
    let held = std::sync::Arc::new(Held {
        store,
        ring,
        master,
        settings,
        clock,
    });

    // A scheduled tick reads the keys and is held there...
    let (release, gate) = tokio::sync::oneshot::channel();
    *held.store.hold_next_read.lock().unwrap() = Some(gate);
    let tick = tokio::spawn({
        let h = held.clone();
        async move {
            h.ring
                .tick(&h.store, &h.master, &h.settings, &h.clock, None)
                .await
                .unwrap()
        }
    });
    held.store.reading.notified().await;

    // ...while an admin rotates; then the tick goes on with what it read.
    let rotate = tokio::spawn({
        let h = held.clone();
        async move {
            h.ring
                .rotate_now(&h.store, &h.master, &h.settings, &h.clock, None)
                .await
                .unwrap()
        }
    });
    tokio::task::yield_now().await;
    release.send(()).unwrap();
    tick.await.unwrap();
    rotate.await.unwrap();

    let stored = held.store.keys().await.unwrap();
    assert_eq!(states(&stored).len(), 3, "active, retired and next");
    let active = stored.iter().find(|k| k.state == KeyState::Active).unwrap();
    assert_eq!(held.ring.ring().signing.kid(), Some(active.kid.as_str()));
    let version: Vec<_> = stored.iter().map(|k| (k.kid.clone(), k.state)).collect();
    assert_eq!(held.ring.ring().version, version);
}

#[test]
fn a_retired_key_without_an_expiry_expires_one_verify_window_after_retiring() {
    let s = settings();
    let retired_at = t0() + Duration::days(15);
    let mut retired = key("k1", KeyState::Retired, Some(t0()));
    retired.retires_at = Some(retired_at);
    let mut keys = vec![retired, key("k2", KeyState::Active, Some(retired_at))];

    step(&mut keys, retired_at + Duration::minutes(1), &s);
    assert_eq!(keys[0].expires_at, Some(retired_at + s.verify_window));
    assert_eq!(keys[0].state, KeyState::Retired);
    step(&mut keys, retired_at + s.verify_window, &s);
    assert_eq!(keys[0].state, KeyState::Expired);

    // Retired without a date at all: it gets one verify window from now.
    let mut keys = vec![
        key("k1", KeyState::Retired, Some(t0())),
        key("k2", KeyState::Active, Some(t0())),
    ];
    let later = t0() + Duration::days(100);
    step(&mut keys, later, &s);
    assert_eq!(keys[0].expires_at, Some(later + s.verify_window));
    step(&mut keys, later + s.verify_window, &s);
    assert_eq!(keys[0].state, KeyState::Expired);
}

#[tokio::test]
async fn a_key_past_its_expiry_stops_verifying_while_the_store_is_down() {
    let store = HeldStore::default();
    let master = MasterKey::from_bytes(&[7; 32]).unwrap();
    let clock = crate::ManualClock::new(t0());
    let s = settings();
    let ring = Keyring::load_or_create(&store, &master, &s, &clock)
        .await
        .unwrap();
    let old = ring.ring().signing.kid().unwrap().to_owned();
    ring.rotate_now(&store, &master, &s, &clock, None)
        .await
        .unwrap();
    assert!(
        ring.ring().verifying.get(&old).is_some(),
        "retired, still verifying"
    );

    store.down.store(true, std::sync::atomic::Ordering::SeqCst);
    clock.advance(s.verify_window - Duration::seconds(1));
    assert!(ring.tick(&store, &master, &s, &clock, None).await.is_err());
    assert!(ring.ring().verifying.get(&old).is_some(), "not expired yet");

    clock.advance(Duration::seconds(1));
    assert!(ring.tick(&store, &master, &s, &clock, None).await.is_err());
    let now = ring.ring();
    assert!(
        now.verifying.get(&old).is_none(),
        "expired by time, store or not"
    );
    assert!(
        now.jwks()
            .keys
            .iter()
            .all(|k| k.kid.as_deref() != Some(old.as_str()))
    );
    assert!(now.version.contains(&(old.clone(), KeyState::Expired)));
    assert!(now.signing.kid().is_some(), "the active key still signs");
}

#[tokio::test]
async fn a_retired_key_stored_without_an_expiry_does_not_verify_past_its_window() {
    let store = HeldStore::default();
    let master = MasterKey::from_bytes(&[7; 32]).unwrap();
    let clock = crate::ManualClock::new(t0());
    let s = settings();
    let ring = Keyring::load_or_create(&store, &master, &s, &clock)
        .await
        .unwrap();
    let old = ring.ring().signing.kid().unwrap().to_owned();
    ring.rotate_now(&store, &master, &s, &clock, None)
        .await
        .unwrap();
    // As an older version or a hand edit could leave it.
    for key in store.keys.lock().unwrap().iter_mut() {
        if key.kid == old {
            key.expires_at = None;
        }
    }
    clock.advance(s.verify_window);
    // The ring built from the store (any instance, any start) judges by time.
    let fresh = Keyring::load_or_create(&store, &master, &s, &clock)
        .await
        .unwrap();
    assert!(fresh.ring().verifying.get(&old).is_none());
    let stored = store.keys().await.unwrap();
    let record = stored.iter().find(|k| k.kid == old).unwrap();
    assert_eq!(record.state, KeyState::Expired);
}

/// How the previous version sealed a key: AES-256-GCM under the master key
/// itself, nonce ‖ ciphertext ‖ tag, kid as AAD.
fn seal_v1(master: &[u8; 32], plaintext: &[u8], kid: &str) -> Vec<u8> {
    use aws_lc_rs::aead::{AES_256_GCM, Aad, RandomizedNonceKey};
    let key = RandomizedNonceKey::new(&AES_256_GCM, master).unwrap();
    let mut buf = plaintext.to_vec();
    let nonce = key
        .seal_in_place_append_tag(Aad::from(kid.as_bytes()), &mut buf)
        .unwrap();
    [nonce.as_ref(), &buf[..]].concat()
}

#[tokio::test]
async fn keys_written_in_the_previous_format_load_and_are_resealed_on_start() {
    let bytes = [5u8; 32];
    let master = MasterKey::from_bytes(&bytes).unwrap();
    let clock = crate::ManualClock::new(t0());
    let s = settings();
    let signing = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let kid = signing.kid().unwrap().to_owned();
    let der = signing.to_pkcs8_der().unwrap();
    let mut old = key(&kid, KeyState::Active, Some(t0()));
    old.private_sealed = seal_v1(&bytes, &der, &kid);
    let store = HeldStore::default();
    store.keys.lock().unwrap().push(old.clone());

    let ring = Keyring::load_or_create(&store, &master, &s, &clock)
        .await
        .unwrap();
    assert_eq!(ring.ring().signing.kid(), Some(kid.as_str()));
    let stored = store.keys().await.unwrap();
    let record = stored.iter().find(|k| k.kid == kid).unwrap();
    assert_ne!(record.private_sealed, old.private_sealed, "re-sealed");
    assert!(record.private_sealed.starts_with(b"ag2:"));
    assert_eq!(
        &master
            .open(Purpose::SigningKey, &record.private_sealed, kid.as_bytes())
            .unwrap()[..],
        &der[..]
    );
    // A second start finds nothing to migrate.
    assert_eq!(reseal::reseal_stored(&store, &master).await.unwrap(), 0);
}

#[tokio::test]
async fn the_id_token_lane_keeps_rs256_keys_that_rotate_with_the_access_keys_and_verify_no_access_token()
 {
    let store = HeldStore::default();
    let master = MasterKey::from_bytes(&[7; 32]).unwrap();
    let clock = crate::ManualClock::new(t0());
    let s = KeyringSettings {
        id_token_keys: true,
        ..settings()
    };
    let ring = Keyring::load_or_create(&store, &master, &s, &clock)
        .await
        .unwrap();
    let first = ring.ring();
    let id_key = first.id_signing.clone().expect("an ID-token key");
    assert_eq!(id_key.algorithm(), Algorithm::RS256);
    assert_eq!(first.signing.algorithm(), Algorithm::EdDSA);
    let id_kid = id_key.kid().unwrap().to_owned();
    assert!(
        first.verifying.get(&id_kid).is_none(),
        "not an access-token key"
    );
    assert!(
        first
            .jwks()
            .keys
            .iter()
            .any(|k| k.kid.as_deref() == Some(id_kid.as_str()))
    );
    assert!(
        first
            .infos
            .iter()
            .any(|i| i.kid == id_kid && i.lane == KeyLane::IdToken),
        "{:?}",
        first.infos
    );

    ring.rotate_now(&store, &master, &s, &clock, None)
        .await
        .unwrap();
    let rotated = ring.ring();
    let new_id_kid = rotated
        .id_signing
        .as_ref()
        .unwrap()
        .kid()
        .unwrap()
        .to_owned();
    assert_ne!(
        new_id_kid, id_kid,
        "a forced rotation rotates the ID-token lane too"
    );
    assert!(
        rotated.id_verifying.get(&id_kid).is_some(),
        "retired, still published"
    );
    let lanes = |lane: KeyLane, state: KeyState| {
        rotated
            .infos
            .iter()
            .filter(|i| i.lane == lane && i.state == state)
            .count()
    };
    for lane in [KeyLane::Access, KeyLane::IdToken] {
        assert_eq!(lanes(lane, KeyState::Active), 1, "{lane:?}");
        assert_eq!(lanes(lane, KeyState::Retired), 1, "{lane:?}");
        assert_eq!(lanes(lane, KeyState::Next), 1, "{lane:?}");
    }

    clock.advance(s.verify_window);
    ring.tick(&store, &master, &s, &clock, None).await.unwrap();
    assert!(
        ring.ring().id_verifying.get(&id_kid).is_none(),
        "expired on time"
    );
}

#[tokio::test]
async fn without_oidc_no_id_token_key_is_made_or_published() {
    let store = HeldStore::default();
    let master = MasterKey::from_bytes(&[7; 32]).unwrap();
    let clock = crate::ManualClock::new(t0());
    let ring = Keyring::load_or_create(&store, &master, &settings(), &clock)
        .await
        .unwrap();
    assert!(ring.ring().id_signing.is_none());
    assert!(
        store
            .keys()
            .await
            .unwrap()
            .iter()
            .all(|k| k.lane == KeyLane::Access)
    );
}
