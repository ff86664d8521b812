//! [`AuditStore`] on SQLite: the append-only `audit_events` table.

use async_trait::async_trait;
use authgate_core::{AuditFilter, AuditStore, StoreError, StoreResult};
use authgate_proto::{AuditEvent, AuditKind};
use time::OffsetDateTime;

use std::sync::Arc;

use super::SqliteStore;
use super::codec::{corrupt, micros, time_of, uuid_of, uuid_text};
use super::error::map_err;
use crate::common::{WriteTx, detached};

/// An `audit_events` row as SQLite returns it, before validation.
#[derive(sqlx::FromRow)]
struct EventRow {
    /// UUID v7.
    id: String,
    /// Microseconds since the epoch.
    at: i64,
    /// Dotted kind name.
    kind: String,
    /// UUID of the user the event is about.
    user_id: Option<String>,
    /// Who caused it.
    actor_id: Option<String>,
    /// The service client involved.
    client_id: Option<String>,
    /// UUID of the session involved.
    session_id: Option<String>,
    /// Client address.
    ip: Option<String>,
    /// `User-Agent`.
    user_agent: Option<String>,
    /// JSON object.
    details: String,
}

impl TryFrom<EventRow> for AuditEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> StoreResult<Self> {
        Ok(AuditEvent {
            id: uuid_of(&row.id, "audit_events.id")?,
            at: time_of(row.at, "audit_events.at")?,
            kind: AuditKind::new(row.kind),
            user_id: row
                .user_id
                .map(|u| uuid_of(&u, "audit_events.user_id"))
                .transpose()?,
            actor_id: row.actor_id,
            client_id: row.client_id,
            session_id: row
                .session_id
                .map(|s| uuid_of(&s, "audit_events.session_id"))
                .transpose()?,
            ip: row
                .ip
                .map(|ip| {
                    ip.parse()
                        .map_err(|_| corrupt("audit_events.ip", "is not an IP address"))
                })
                .transpose()?,
            user_agent: row.user_agent,
            details: serde_json::from_str(&row.details)
                .map_err(|_| corrupt("audit_events.details", "is not a JSON object"))?,
        })
    }
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_event(&self, event: &AuditEvent) -> StoreResult<()> {
        insert_event(&self.writer, event).await
    }

    async fn append_events(&self, events: &[Arc<AuditEvent>]) -> StoreResult<()> {
        let (this, events) = (self.clone(), events.to_vec());
        detached(async move {
            let mut tx = this.begin_write().await?;
            for chunk in events.chunks(EVENTS_PER_INSERT) {
                let sql = insert_events_sql(chunk.len());
                let mut query = sqlx::query(&sql);
                for event in chunk {
                    query = bind_event(query, event)?;
                }
                // Statements of every length would crowd the statement cache.
                query
                    .persistent(false)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
            WriteTx::commit(tx).await
        })
        .await
    }

    async fn events(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEvent>> {
        let since = filter.since.map(micros).transpose()?;
        sqlx::query_as::<_, EventRow>(
            "SELECT id, at, kind, user_id, actor_id, client_id, session_id, ip, user_agent, details \
             FROM audit_events \
             WHERE ($1 IS NULL OR user_id = $1) AND ($2 IS NULL OR kind = $2) \
               AND ($3 IS NULL OR at >= $3) AND ($5 IS NULL OR at < $5) \
               AND ($6 IS NULL OR at < $6 OR (at = $6 AND id < $7)) \
             ORDER BY at DESC, id DESC LIMIT $4",
        )
        .bind(filter.user_id.map(uuid_text))
        .bind(filter.kind.as_deref())
        .bind(since)
        .bind(i64::from(filter.limit))
        .bind(filter.until.map(micros).transpose()?)
        .bind(filter.after.map(|c| micros(c.at)).transpose()?)
        .bind(filter.after.map(|c| uuid_text(c.id)))
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
                .bind(micros(since)?)
                .fetch_one(&self.pool)
                .await
                .map_err(map_err)?;
        u64::try_from(n).map_err(|_| corrupt("COUNT(*) of audit events", "is negative"))
    }
}

/// Appends `event` through `executor`: the pool, or the transaction of the
/// change the event records.
pub(super) async fn insert_event<'e, E>(executor: E, event: &AuditEvent) -> StoreResult<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    bind_event(
        sqlx::query(
            "INSERT INTO audit_events \
             (id, at, kind, user_id, actor_id, client_id, session_id, ip, user_agent, details) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        ),
        event,
    )?
    .execute(executor)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// Most events in one `INSERT` of [`AuditStore::append_events`] (ten
/// parameters each, far below SQLite's limit).
const EVENTS_PER_INSERT: usize = 64;

/// `INSERT INTO audit_events … VALUES (…), (…)` for `rows` events, each
/// row's ten positional parameters in [`bind_event`]'s order.
fn insert_events_sql(rows: usize) -> String {
    let row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    let mut sql = String::from(
        "INSERT INTO audit_events \
         (id, at, kind, user_id, actor_id, client_id, session_id, ip, user_agent, details) VALUES ",
    );
    for n in 0..rows {
        if n > 0 {
            sql.push_str(", ");
        }
        sql.push_str(row);
    }
    sql
}

/// Binds `event`'s columns, in `audit_events` order (id, at, kind, user_id,
/// actor_id, client_id, session_id, ip, user_agent, details), as the next
/// ten arguments of `query`.
///
/// # Errors
/// [`StoreError::Other`] for details that do not serialize; a time out of range.
pub(super) fn bind_event<'q>(
    query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    event: &AuditEvent,
) -> StoreResult<sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>> {
    let details = serde_json::to_string(&event.details)
        .map_err(|_| StoreError::Other("audit details do not serialize".into()))?;
    Ok(query
        .bind(uuid_text(event.id))
        .bind(micros(event.at)?)
        .bind(event.kind.as_str().to_owned())
        .bind(event.user_id.map(uuid_text))
        .bind(event.actor_id.clone())
        .bind(event.client_id.clone())
        .bind(event.session_id.map(uuid_text))
        .bind(event.ip.map(|ip| ip.to_string()))
        .bind(event.user_agent.clone())
        .bind(details))
}
