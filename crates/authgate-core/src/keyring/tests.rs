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
}

#[async_trait::async_trait]
impl KeyStore for HeldStore {
    async fn keys(&self) -> crate::store::StoreResult<Vec<StoredKey>> {
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
