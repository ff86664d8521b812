//! [`KeyStore`] on PostgreSQL: the `signing_keys` table.

use async_trait::async_trait;
use authgate_core::{KeyStore, StoreError, StoreResult, StoredKey};
use authgate_proto::AuditEvent;
use authgate_proto::KeyState;
use time::OffsetDateTime;

use super::PostgresStore;
use super::codec::{ts, ts_opt};
use super::error::map_err;
use sqlx::{Postgres, Transaction};

use crate::common::keys::lane_of;
use crate::common::keys::{self, KeyTx};
use crate::common::{UPDATE_KEY, detached, state_of, state_text};

/// A `signing_keys` row as PostgreSQL returns it, before validation.
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
    /// Creation time.
    created_at: OffsetDateTime,
    /// When it starts (or started) signing.
    activates_at: Option<OffsetDateTime>,
    /// When it stops (or stopped) signing.
    retires_at: Option<OffsetDateTime>,
    /// When it stops verifying.
    expires_at: Option<OffsetDateTime>,
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
            created_at: row.created_at,
            activates_at: row.activates_at,
            retires_at: row.retires_at,
            expires_at: row.expires_at,
        })
    }
}

#[async_trait]
impl KeyStore for PostgresStore {
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
        // A plain INSERT takes ROW EXCLUSIVE on the table, so it waits for a
        // transition in progress (see below) rather than slipping under it.
        insert(&self.pool, key).await
    }

    async fn reseal_key(&self, kid: &str, from: &[u8], to: &[u8]) -> StoreResult<bool> {
        let replaced = sqlx::query(
            "UPDATE signing_keys SET private_sealed = $3 WHERE kid = $1 AND private_sealed = $2",
        )
        .bind(kid)
        .bind(from)
        .bind(to)
        .execute(&self.pool)
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
            let begin = this.begin_transition();
            keys::transition(begin, &expected, &updated, &inserted, audit.as_ref()).await
        })
        .await
    }
}

impl PostgresStore {
    /// Begins a key transition's transaction holding the table lock that
    /// rival transitions queue on.
    ///
    /// The lock conflicts with itself and with every write to the table but
    /// not with reads. Row locks (SELECT … FOR UPDATE) would not do: with no
    /// key yet, or when the rivals insert different kids, there is no row to
    /// wait on. Under READ COMMITTED the transition's SELECT takes its
    /// snapshot after the lock is granted, so each instance compares the set
    /// the previous one committed.
    async fn begin_transition(&self) -> StoreResult<Transaction<'static, Postgres>> {
        let mut tx = self.begin_write().await?;
        sqlx::query("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        Ok(tx)
    }
}

#[async_trait]
impl KeyTx for Transaction<'static, Postgres> {
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
            .bind(ts_opt(key.activates_at)?)
            .bind(ts_opt(key.retires_at)?)
            .bind(ts_opt(key.expires_at)?)
            .execute(&mut **self)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn insert_key(&mut self, key: &StoredKey) -> StoreResult<()> {
        insert(&mut **self, key).await
    }
}

/// Inserts one key with `executor` (the pool, or the caller's transaction).
async fn insert<'e, E: sqlx::PgExecutor<'e>>(executor: E, key: &StoredKey) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, alg, state, private_sealed, created_at, \
         activates_at, retires_at, expires_at, lane) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&key.kid)
    .bind(&key.alg)
    .bind(state_text(key.state)?)
    .bind(&key.private_sealed)
    .bind(ts(key.created_at)?)
    .bind(ts_opt(key.activates_at)?)
    .bind(ts_opt(key.retires_at)?)
    .bind(ts_opt(key.expires_at)?)
    .bind(key.lane.as_str())
    .execute(executor)
    .await
    .map_err(map_err)?;
    Ok(())
}
