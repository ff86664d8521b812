//! [`KeyStore`] on SQLite: the `signing_keys` table.

use async_trait::async_trait;
use authgate_core::{KeyStore, StoreError, StoreResult, StoredKey};
use authgate_proto::AuditEvent;
use authgate_proto::KeyState;

use super::SqliteStore;
use super::codec::{micros, micros_opt, time_of, time_opt};
use super::error::map_err;
use sqlx::{Sqlite, Transaction};

use crate::common::keys::lane_of;
use crate::common::keys::{self, KeyTx};
use crate::common::{UPDATE_KEY, detached, state_of, state_text};

/// A `signing_keys` row as SQLite returns it, before validation.
#[derive(sqlx::FromRow)]
struct KeyRow {
    /// Key id.
    kid: String,
    /// JWS algorithm name.
    alg: String,
    /// The serde name of a [`KeyState`].
    state: String,
    /// The name of a [`KeyLane`](authgate_proto::KeyLane).
    lane: String,
    /// Sealed private material.
    private_sealed: Vec<u8>,
    /// Microseconds since the epoch.
    created_at: i64,
    /// Microseconds since the epoch.
    activates_at: Option<i64>,
    /// Microseconds since the epoch.
    retires_at: Option<i64>,
    /// Microseconds since the epoch.
    expires_at: Option<i64>,
}

impl TryFrom<KeyRow> for StoredKey {
    type Error = StoreError;

    fn try_from(row: KeyRow) -> StoreResult<Self> {
        Ok(StoredKey {
            state: state_of(&row.state)?,
            lane: lane_of(&row.lane)?,
            kid: row.kid,
            alg: row.alg,
            private_sealed: row.private_sealed,
            created_at: time_of(row.created_at, "signing_keys.created_at")?,
            activates_at: time_opt(row.activates_at, "signing_keys.activates_at")?,
            retires_at: time_opt(row.retires_at, "signing_keys.retires_at")?,
            expires_at: time_opt(row.expires_at, "signing_keys.expires_at")?,
        })
    }
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn keys(&self) -> StoreResult<Vec<StoredKey>> {
        let rows = sqlx::query_as::<_, KeyRow>(
            "SELECT kid, alg, state, lane, private_sealed, created_at, activates_at, \
             retires_at, expires_at FROM signing_keys ORDER BY created_at, kid",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.into_iter().map(StoredKey::try_from).collect()
    }

    async fn insert_key(&self, key: &StoredKey) -> StoreResult<()> {
        insert(&self.pool, key).await
    }

    async fn reseal_key(&self, kid: &str, from: &[u8], to: &[u8]) -> StoreResult<bool> {
        let replaced = sqlx::query(
            "UPDATE signing_keys SET private_sealed = $3 WHERE kid = $1 AND private_sealed = $2",
        )
        .bind(kid)
        .bind(from)
        .bind(to)
        .execute(&self.writer)
        .await
        .map_err(map_err)?
        .rows_affected();
        Ok(replaced == 1)
    }

    async fn transition_audited(
        &self,
        expected: &[(String, KeyState)],
        updated: &[StoredKey],
        inserted: &[StoredKey],
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool> {
        let (this, audit) = (self.clone(), audit.cloned());
        let (expected, updated, inserted) =
            (expected.to_vec(), updated.to_vec(), inserted.to_vec());
        detached(async move {
            // BEGIN IMMEDIATE: instances racing a rotation queue on the write
            // lock; each compares the set the previous one committed.
            let begin = this.begin_write();
            keys::transition(begin, &expected, &updated, &inserted, audit.as_ref()).await
        })
        .await
    }
}

#[async_trait]
impl KeyTx for Transaction<'static, Sqlite> {
    async fn key_states(&mut self) -> StoreResult<Vec<(String, KeyState)>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT kid, state FROM signing_keys ORDER BY kid")
                .fetch_all(&mut **self)
                .await
                .map_err(map_err)?;
        rows.into_iter()
            .map(|(kid, state)| Ok((kid, state_of(&state)?)))
            .collect()
    }

    async fn update_key(&mut self, key: &StoredKey) -> StoreResult<u64> {
        let done = sqlx::query(UPDATE_KEY)
            .bind(&key.kid)
            .bind(state_text(key.state)?)
            .bind(micros_opt(key.activates_at)?)
            .bind(micros_opt(key.retires_at)?)
            .bind(micros_opt(key.expires_at)?)
            .execute(&mut **self)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn insert_key(&mut self, key: &StoredKey) -> StoreResult<()> {
        insert(&mut **self, key).await
    }
}

async fn insert<'e, E: sqlx::SqliteExecutor<'e>>(executor: E, key: &StoredKey) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, alg, state, private_sealed, created_at, \
         activates_at, retires_at, expires_at, lane) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&key.kid)
    .bind(&key.alg)
    .bind(state_text(key.state)?)
    .bind(&key.private_sealed)
    .bind(micros(key.created_at)?)
    .bind(micros_opt(key.activates_at)?)
    .bind(micros_opt(key.retires_at)?)
    .bind(micros_opt(key.expires_at)?)
    .bind(key.lane.as_str())
    .execute(executor)
    .await
    .map_err(map_err)?;
    Ok(())
}
