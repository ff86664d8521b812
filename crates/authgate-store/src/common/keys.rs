//! The key transition every SQL backend runs: compare the stored key set
//! with the one the caller saw, then update, insert and audit in one
//! transaction. The backends supply the SQL through [`KeyTx`] and the lock
//! that makes rival instances queue (taken when their transaction begins).

use async_trait::async_trait;
use authgate_core::{StoreError, StoreResult, StoredKey};
use authgate_proto::{AuditEvent, KeyLane, KeyState};

use super::{WriteTx, commit_audited};

/// The `signing_keys` statements of one backend, inside its transaction.
#[async_trait]
pub(crate) trait KeyTx: WriteTx {
    /// Every stored key's kid and state, as this transaction sees them.
    ///
    /// # Errors
    /// The backend's, or [`StoreError::Corrupt`] for an unknown state.
    async fn key_states(&mut self) -> StoreResult<Vec<(String, KeyState)>>;

    /// Writes `key`'s state and times over the row of its kid; returns how
    /// many rows changed (0 when no such key exists).
    ///
    /// # Errors
    /// The backend's, mapped to [`StoreError`].
    async fn update_key(&mut self, key: &StoredKey) -> StoreResult<u64>;

    /// Inserts `key` as a new row.
    ///
    /// # Errors
    /// The backend's, mapped to [`StoreError`] (a duplicate kid included).
    async fn insert_key(&mut self, key: &StoredKey) -> StoreResult<()>;
}

/// `KeyStore::transition_audited`: begins the transaction with `begin` (the
/// backend's, holding the lock rival transitions queue on), then applies `updated` and `inserted`
/// and records `audit` only when the stored `(kid, state)` set equals
/// `expected` (in any order). Returns whether it did.
///
/// # Errors
/// The backend's; [`StoreError::Other`] when a key in `updated` does not
/// exist (nothing is changed then).
pub(crate) async fn transition<T: KeyTx>(
    begin: impl Future<Output = StoreResult<T>> + Send,
    expected: &[(String, KeyState)],
    updated: &[StoredKey],
    inserted: &[StoredKey],
    audit: Option<&AuditEvent>,
) -> StoreResult<bool> {
    let mut tx = begin.await?;
    let mut current = tx.key_states().await?;
    current.sort_by(|a, b| a.0.cmp(&b.0));
    let mut wanted = expected.to_vec();
    wanted.sort_by(|a, b| a.0.cmp(&b.0));
    if current != wanted {
        tx.rollback().await?;
        return Ok(false);
    }
    for key in updated {
        if tx.update_key(key).await? != 1 {
            tx.rollback().await?;
            return Err(StoreError::Other("a key to update does not exist".into()));
        }
    }
    for key in inserted {
        tx.insert_key(key).await?;
    }
    commit_audited(tx, audit).await?;
    Ok(true)
}

/// The lane stored as `text` (`signing_keys.lane`).
///
/// # Errors
/// [`StoreError::Corrupt`] for a name no lane has.
pub(crate) fn lane_of(text: &str) -> StoreResult<KeyLane> {
    [KeyLane::Access, KeyLane::IdToken]
        .into_iter()
        .find(|lane| lane.as_str() == text)
        .ok_or_else(|| super::corrupt("signing_keys.lane", "is not a known key lane"))
}
