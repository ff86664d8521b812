//! `KeyStore` (including the `transition` compare-and-swap under
//! concurrency) and `Ping`.

use std::sync::Arc;

use authgate_core::{KeyStore, Ping, StoreError, StoredKey};
use authgate_proto::KeyState;

use crate::fixtures::{at, key};

pub(crate) async fn inserted_keys_are_listed_oldest_first_with_every_field(store: &dyn KeyStore) {
    assert!(store.keys().await.unwrap().is_empty());
    let newer = key("kid-b", at(100));
    let mut older = key("kid-a", at(0));
    older.state = KeyState::Retired;
    older.retires_at = Some(at(100));
    older.expires_at = Some(at(1000));
    let mut next = key("kid-c", at(200));
    next.state = KeyState::Next;
    next.activates_at = Some(at(86_400));
    store.insert_key(&newer).await.unwrap();
    store.insert_key(&next).await.unwrap();
    store.insert_key(&older).await.unwrap();
    assert_eq!(store.keys().await.unwrap(), vec![older, newer, next]);
}

pub(crate) async fn duplicate_kid_is_a_conflict_on_kid(store: &dyn KeyStore) {
    store.insert_key(&key("kid-a", at(0))).await.unwrap();
    let mut again = key("kid-a", at(10));
    again.alg = "ES256".to_owned();
    let err = store.insert_key(&again).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict("kid")), "{err:?}");
    assert_eq!(store.keys().await.unwrap(), vec![key("kid-a", at(0))]);
}

pub(crate) async fn reseal_replaces_the_material_only_if_it_is_unchanged(store: &dyn KeyStore) {
    let old = key("kid-a", at(0));
    store.insert_key(&old).await.unwrap();
    assert!(
        !store
            .reseal_key("kid-a", b"not what is stored", b"v2")
            .await
            .unwrap(),
        "someone re-sealed it first: left alone"
    );
    assert!(
        !store
            .reseal_key("kid-z", &old.private_sealed, b"v2")
            .await
            .unwrap()
    );
    assert!(
        store
            .reseal_key("kid-a", &old.private_sealed, b"v2")
            .await
            .unwrap()
    );
    let mut resealed = old.clone();
    resealed.private_sealed = b"v2".to_vec();
    assert_eq!(
        store.keys().await.unwrap(),
        vec![resealed],
        "only the material changed"
    );
}

/// `old`, retired at `at(100)`: what a rotation writes back for it.
fn retired(old: &StoredKey) -> StoredKey {
    let mut key = old.clone();
    key.state = KeyState::Retired;
    key.retires_at = Some(at(100));
    key.expires_at = Some(at(1_000));
    key
}

/// The (kid, state) pairs `transition` compares.
fn expected(keys: &[&StoredKey]) -> Vec<(String, KeyState)> {
    keys.iter().map(|k| (k.kid.clone(), k.state)).collect()
}

pub(crate) async fn transition_applies_only_to_the_expected_key_set(store: &dyn KeyStore) {
    let a = key("kid-a", at(0));
    store.insert_key(&a).await.unwrap();
    let b = key("kid-b", at(100));
    assert!(
        store
            .transition(&expected(&[&a]), &[retired(&a)], std::slice::from_ref(&b))
            .await
            .unwrap()
    );
    assert_eq!(store.keys().await.unwrap(), vec![retired(&a), b.clone()]);

    // The same plan again is stale: a is no longer active.
    let c = key("kid-c", at(200));
    assert!(
        !store
            .transition(&expected(&[&a]), &[retired(&a)], std::slice::from_ref(&c))
            .await
            .unwrap()
    );
    // A subset of the stored keys is not the stored set.
    assert!(
        !store
            .transition(&expected(&[&b]), &[], std::slice::from_ref(&c))
            .await
            .unwrap()
    );
    assert!(
        !store
            .transition(&[], &[], std::slice::from_ref(&c))
            .await
            .unwrap()
    );
    assert_eq!(store.keys().await.unwrap(), vec![retired(&a), b.clone()]);

    // The expected pairs may come in any order.
    let ra = retired(&a);
    assert!(
        store
            .transition(&expected(&[&b, &ra]), &[], std::slice::from_ref(&c))
            .await
            .unwrap()
    );
    assert_eq!(store.keys().await.unwrap(), vec![ra, b, c]);
}

pub(crate) async fn a_failed_transition_changes_nothing(store: &dyn KeyStore) {
    let a = key("kid-a", at(0));
    store.insert_key(&a).await.unwrap();
    // Updating a key that does not exist fails after a's update was written:
    // both that update and the insert are rolled back.
    let ghost = key("kid-ghost", at(50));
    let result = store
        .transition(
            &expected(&[&a]),
            &[retired(&a), ghost],
            &[key("kid-b", at(100))],
        )
        .await;
    assert!(result.is_err(), "{result:?}");
    // Inserting a kid that exists is a conflict, and rolls back a's update.
    let err = store
        .transition(&expected(&[&a]), &[retired(&a)], &[key("kid-a", at(100))])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("kid")), "{err:?}");
    assert_eq!(store.keys().await.unwrap(), vec![a]);
}

/// Runs `racers` concurrent transitions built by `plan(n)`, all released at
/// once, and returns how many applied.
async fn race(
    store: &Arc<dyn KeyStore>,
    racers: usize,
    plan: impl Fn(usize) -> (Vec<(String, KeyState)>, Vec<StoredKey>, Vec<StoredKey>),
) -> usize {
    warm_up(store, racers).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(racers));
    let mut tasks = Vec::new();
    for n in 0..racers {
        let (store, barrier, (expected, updated, inserted)) =
            (store.clone(), barrier.clone(), plan(n));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store.transition(&expected, &updated, &inserted).await
        }));
    }
    let mut applied = 0;
    for task in tasks {
        if task.await.unwrap().unwrap() {
            applied += 1;
        }
    }
    applied
}

/// Reads from `racers` tasks at once, so a pooled store opens its
/// connections now: racers that had to wait for a new connection each
/// would run one after the other, and the race would prove nothing.
async fn warm_up(store: &Arc<dyn KeyStore>, racers: usize) {
    let readers: Vec<_> = (0..racers)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.keys().await })
        })
        .collect();
    for reader in readers {
        reader.await.unwrap().unwrap();
    }
}

/// Several instances find the active key due for rotation at once: exactly
/// one retires it and adds its successor; the others find the set changed.
/// Several rounds, each from the set the previous one left.
pub(crate) async fn racing_transitions_from_the_same_set_apply_exactly_once(
    store: Arc<dyn KeyStore>,
) {
    const RACERS: usize = 16;
    const ROUNDS: usize = 5;
    store.insert_key(&key("kid-0", at(0))).await.unwrap();
    for round in 1..=ROUNDS {
        let before = store.keys().await.unwrap();
        let active = before
            .iter()
            .find(|k| k.state == KeyState::Active)
            .unwrap()
            .clone();
        let expected: Vec<_> = before.iter().map(|k| (k.kid.clone(), k.state)).collect();
        let created = at(i64::try_from(round).unwrap() * 100);
        let applied = race(&store, RACERS, |n| {
            (
                expected.clone(),
                vec![retired(&active)],
                vec![key(&format!("kid-{round}-{n}"), created)],
            )
        })
        .await;
        assert_eq!(applied, 1, "round {round}");
        let after = store.keys().await.unwrap();
        assert_eq!(after.len(), round + 1, "round {round}: {after:?}");
        let actives: Vec<_> = after
            .iter()
            .filter(|k| k.state == KeyState::Active)
            .collect();
        assert_eq!(actives.len(), 1, "round {round}: {after:?}");
        assert!(actives[0].kid.starts_with(&format!("kid-{round}-")));
    }
}

/// Several instances start on an empty store at once: exactly one creates
/// the first key, although there is no row yet for them to contend on.
pub(crate) async fn racing_first_key_creations_apply_exactly_once(store: Arc<dyn KeyStore>) {
    const RACERS: usize = 16;
    let applied = race(&store, RACERS, |n| {
        (
            Vec::new(),
            Vec::new(),
            vec![key(&format!("kid-{n}"), at(0))],
        )
    })
    .await;
    assert_eq!(applied, 1);
    assert_eq!(store.keys().await.unwrap().len(), 1);
}

pub(crate) async fn ping_succeeds_on_an_open_store(store: &dyn Ping) {
    store.ping().await.unwrap();
}
