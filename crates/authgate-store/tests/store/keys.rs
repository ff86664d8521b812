//! `KeyStore` and `Ping`.

use authgate_core::{KeyStore, Ping, StoreError};
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

pub(crate) async fn ping_succeeds_on_an_open_store(store: &dyn Ping) {
    store.ping().await.unwrap();
}
