//! [`ServiceClientStore`] on PostgreSQL: the `clients` table.

use async_trait::async_trait;
use authgate_core::{ServiceClient, ServiceClientStore, StoreResult};
use authgate_proto::AuditEvent;
use time::OffsetDateTime;

use super::PostgresStore;
use super::audit::insert_event;
use super::codec::{hash_of, ts};
use super::error::map_err;
use crate::common::detached;

/// A `clients` row as PostgreSQL returns it.
#[derive(sqlx::FromRow)]
struct ClientRow {
    /// The client_id.
    id: String,
    /// Display name.
    name: String,
    /// SHA-256 of the secret.
    secret_hash: Vec<u8>,
    /// Role names.
    roles: Vec<String>,
    /// Creation time.
    created_at: OffsetDateTime,
    /// `false` once disabled.
    is_active: bool,
}

#[async_trait]
impl ServiceClientStore for PostgresStore {
    async fn insert_client_audited(
        &self,
        client: &ServiceClient,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<()> {
        let (this, client, audit) = (self.clone(), client.clone(), audit.cloned());
        detached(async move {
            let mut tx = this.pool.begin().await.map_err(map_err)?;
            sqlx::query(
                "INSERT INTO clients (id, name, secret_hash, roles, created_at, is_active) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&client.id)
            .bind(&client.name)
            .bind(client.secret_hash.0.as_slice())
            .bind(&client.roles)
            .bind(ts(client.created_at)?)
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
        let row = sqlx::query_as::<_, ClientRow>(
            "SELECT id, name, secret_hash, roles, created_at, is_active FROM clients WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.map(ClientRow::into_client).transpose()
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
        .map(ClientRow::into_client)
        .collect()
    }

    async fn delete_client_audited(
        &self,
        id: &str,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool> {
        let (this, id, audit) = (self.clone(), id.to_owned(), audit.cloned());
        detached(async move {
            let mut tx = this.pool.begin().await.map_err(map_err)?;
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
            let mut tx = this.pool.begin().await.map_err(map_err)?;
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
            row.map(ClientRow::into_client).transpose()
        })
        .await
    }
}

impl ClientRow {
    /// The client this row holds, its hash checked.
    fn into_client(self) -> StoreResult<ServiceClient> {
        Ok(ServiceClient {
            secret_hash: hash_of(&self.secret_hash, "clients.secret_hash")?,
            id: self.id,
            name: self.name,
            roles: self.roles,
            created_at: self.created_at,
            is_active: self.is_active,
        })
    }
}
