//! [`ServiceClientStore`] on SQLite: the `clients` table.

use async_trait::async_trait;
use authgate_core::{ServiceClient, ServiceClientStore, StoreResult};
use authgate_proto::AuditEvent;

use super::SqliteStore;
use super::audit::insert_event;
use super::codec::{corrupt, hash_of, micros, time_of};
use super::error::map_err;
use super::users::roles_json;
use crate::common::detached;

/// A `clients` row as SQLite returns it, before validation.
#[derive(sqlx::FromRow)]
struct ClientRow {
    /// The client_id.
    id: String,
    /// Display name.
    name: String,
    /// SHA-256 of the secret.
    secret_hash: Vec<u8>,
    /// JSON array of role names.
    roles: String,
    /// Microseconds since the epoch.
    created_at: i64,
    /// 1 while enabled, 0 once disabled.
    is_active: bool,
}

impl TryFrom<ClientRow> for ServiceClient {
    type Error = authgate_core::StoreError;

    fn try_from(row: ClientRow) -> StoreResult<Self> {
        Ok(ServiceClient {
            roles: serde_json::from_str(&row.roles)
                .map_err(|_| corrupt("clients.roles", "is not a JSON array of strings"))?,
            secret_hash: hash_of(&row.secret_hash, "clients.secret_hash")?,
            created_at: time_of(row.created_at, "clients.created_at")?,
            id: row.id,
            name: row.name,
            is_active: row.is_active,
        })
    }
}

#[async_trait]
impl ServiceClientStore for SqliteStore {
    async fn insert_client_audited(
        &self,
        client: &ServiceClient,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<()> {
        let (this, client, audit) = (self.clone(), client.clone(), audit.cloned());
        detached(async move {
            let mut tx = this.begin_write().await?;
            sqlx::query(
                "INSERT INTO clients (id, name, secret_hash, roles, created_at, is_active) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&client.id)
            .bind(&client.name)
            .bind(client.secret_hash.0.as_slice())
            .bind(roles_json(&client.roles)?)
            .bind(micros(client.created_at)?)
            .bind(client.is_active)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            if let Some(event) = &audit {
                insert_event(&mut *tx, event).await?;
            }
            tx.commit().await.map_err(map_err)
        })
        .await
    }

    async fn client(&self, id: &str) -> StoreResult<Option<ServiceClient>> {
        sqlx::query_as::<_, ClientRow>(
            "SELECT id, name, secret_hash, roles, created_at, is_active FROM clients WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?
        .map(ServiceClient::try_from)
        .transpose()
    }

    async fn list_clients(&self, limit: u32) -> StoreResult<Vec<ServiceClient>> {
        sqlx::query_as::<_, ClientRow>(
            "SELECT id, name, secret_hash, roles, created_at, is_active FROM clients \
             ORDER BY created_at DESC, id LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?
        .into_iter()
        .map(ServiceClient::try_from)
        .collect()
    }

    async fn delete_client_audited(
        &self,
        id: &str,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool> {
        let (this, id, audit) = (self.clone(), id.to_owned(), audit.cloned());
        detached(async move {
            let mut tx = this.begin_write().await?;
            let deleted = sqlx::query("DELETE FROM clients WHERE id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected()
                > 0;
            if deleted && let Some(event) = &audit {
                insert_event(&mut *tx, event).await?;
            }
            tx.commit().await.map_err(map_err)?;
            Ok(deleted)
        })
        .await
    }

    async fn set_client_active_audited(
        &self,
        id: &str,
        active: bool,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<Option<ServiceClient>> {
        let (this, id, audit) = (self.clone(), id.to_owned(), audit.cloned());
        detached(async move {
            let mut tx = this.begin_write().await?;
            let row = sqlx::query_as::<_, ClientRow>(
                "UPDATE clients SET is_active = $2 WHERE id = $1 \
                 RETURNING id, name, secret_hash, roles, created_at, is_active",
            )
            .bind(&id)
            .bind(active)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
            if row.is_some()
                && let Some(event) = &audit
            {
                insert_event(&mut *tx, event).await?;
            }
            tx.commit().await.map_err(map_err)?;
            row.map(ServiceClient::try_from).transpose()
        })
        .await
    }
}
