//! [`AuditStore`] on PostgreSQL: the append-only `audit_events` table.

use async_trait::async_trait;
use authgate_core::{AuditFilter, AuditStore, StoreError, StoreResult};
use authgate_proto::{AuditEvent, AuditKind};
use time::OffsetDateTime;
use uuid::Uuid;

use std::sync::Arc;

use super::PostgresStore;
use super::codec::{corrupt, count, ts, ts_opt};
use super::error::map_err;
use crate::common::{WriteTx, detached};

/// An `audit_events` row as PostgreSQL returns it.
#[derive(sqlx::FromRow)]
struct EventRow {
    /// UUID v7.
    id: Uuid,
    /// When.
    at: OffsetDateTime,
    /// Dotted kind name.
    kind: String,
    /// The user the event is about.
    user_id: Option<Uuid>,
    /// Who caused it.
    actor_id: Option<String>,
    /// The service client involved.
    client_id: Option<String>,
    /// The session involved.
    session_id: Option<Uuid>,
    /// Client address.
    ip: Option<String>,
    /// `User-Agent`.
    user_agent: Option<String>,
    /// JSON object.
    details: sqlx::types::Json<serde_json::Map<String, serde_json::Value>>,
}

impl TryFrom<EventRow> for AuditEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> StoreResult<Self> {
        Ok(AuditEvent {
            id: row.id,
            at: row.at,
            kind: AuditKind::new(row.kind),
            user_id: row.user_id,
            actor_id: row.actor_id,
            client_id: row.client_id,
            session_id: row.session_id,
            ip: row
                .ip
                .map(|ip| {
                    ip.parse()
                        .map_err(|_| corrupt("audit_events.ip", "is not an IP address"))
                })
                .transpose()?,
            user_agent: row.user_agent,
            details: row.details.0,
        })
    }
}

#[async_trait]
impl AuditStore for PostgresStore {
    async fn append_event(&self, event: &AuditEvent) -> StoreResult<()> {
        insert_event(&self.pool, event).await
    }

    async fn append_events(&self, events: &[Arc<AuditEvent>]) -> StoreResult<()> {
        let (this, events) = (self.clone(), events.to_vec());
        detached(async move {
            let mut tx = this.begin_write().await?;
            for event in &events {
                insert_event(&mut *tx, event).await?;
            }
            WriteTx::commit(tx).await
        })
        .await
    }

    async fn events(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEvent>> {
        sqlx::query_as::<_, EventRow>(
            "SELECT id, at, kind, user_id, actor_id, client_id, session_id, ip, user_agent, details \
             FROM audit_events \
             WHERE ($1::uuid IS NULL OR user_id = $1) AND ($2::text IS NULL OR kind = $2) \
               AND ($3::timestamptz IS NULL OR at >= $3) \
               AND ($5::timestamptz IS NULL OR at < $5) \
               AND ($6::timestamptz IS NULL OR at < $6 OR (at = $6 AND id < $7::uuid)) \
             ORDER BY at DESC, id DESC LIMIT $4",
        )
        .bind(filter.user_id)
        .bind(filter.kind.as_deref())
        .bind(ts_opt(filter.since)?)
        .bind(i64::from(filter.limit))
        .bind(ts_opt(filter.until)?)
        .bind(ts_opt(filter.after.map(|c| c.at))?)
        .bind(filter.after.map(|c| c.id))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?
        .into_iter()
        .map(AuditEvent::try_from)
        .collect()
    }

    async fn count_events(&self, kind: &str, since: OffsetDateTime) -> StoreResult<u64> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE kind = $1 AND at >= $2")
                .bind(kind)
                .bind(ts(since)?)
                .fetch_one(&self.pool)
                .await
                .map_err(map_err)?;
        count(n, "COUNT(*) of audit events")
    }
}

/// Appends `event` through `executor`: the pool, or the transaction of the
/// change the event records.
pub(super) async fn insert_event<'e, E>(executor: E, event: &AuditEvent) -> StoreResult<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Postgres>,
{
    sqlx::query(
        "INSERT INTO audit_events \
         (id, at, kind, user_id, actor_id, client_id, session_id, ip, user_agent, details) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(event.id)
    .bind(ts(event.at)?)
    .bind(event.kind.as_str())
    .bind(event.user_id)
    .bind(&event.actor_id)
    .bind(&event.client_id)
    .bind(event.session_id)
    .bind(event.ip.map(|ip| ip.to_string()))
    .bind(&event.user_agent)
    .bind(sqlx::types::Json(&event.details))
    .execute(executor)
    .await
    .map_err(map_err)?;
    Ok(())
}
