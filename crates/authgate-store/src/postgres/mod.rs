//! PostgreSQL: the shared backend for several instances.
//!
//! One file per trait (`users`, `sessions` with the statements of its writes
//! in `session_tx`, `keys`, `clients`, `audit`); `codec` turns domain
//! values into columns, `error` turns sqlx errors into [`StoreError`]s. The
//! tables live in the connection's `search_path` schema (`public` unless
//! the URL says otherwise), migrations in `migrations/postgres/`.
//!
//! # Transactions and races
//!
//! Transactions run at READ COMMITTED. The two compare-and-swaps that
//! instances race on are made safe by locks, not by retries: `rotate` is one
//! conditional `UPDATE` whose row lock makes later rivals re-check the
//! committed row, and `transition` locks the `signing_keys` table against
//! other writers before it compares the key set.
//!
//! # When the database is down
//!
//! A caller waits at most [`ACQUIRE_TIMEOUT`] for a connection (sqlx keeps
//! retrying a refused connection until then) and gets
//! [`StoreError::Unavailable`]; nothing half-written survives, since every
//! multi-statement write is one transaction that PostgreSQL rolls back when
//! its connection dies. Each connection is checked before it is lent out,
//! so once the database is back the pool replaces dead connections by
//! itself: no restart is needed.

mod audit;
mod clients;
mod codec;
mod error;
mod keys;
mod mfa;
mod oidc;
mod recovery;
mod session_tx;
mod sessions;
mod users;
mod verification;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use authgate_core::{Ping, StoreError, StoreResult};
use authgate_proto::AuditEvent;
use sqlx::migrate::MigrateError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use self::error::map_err;
use crate::common::WriteTx;

/// How long a caller waits for a connection before the store answers
/// [`StoreError::Unavailable`]: long enough to ride out a burst that
/// saturates the pool, short enough that a dead database yields a 503
/// promptly rather than a hung request.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Connections per instance. Several instances share one server (whose
/// default `max_connections` is 100), and requests hold a connection only
/// for a statement or a short transaction (hashing happens outside).
const MAX_CONNECTIONS: u32 = 10;

/// Idle connections are closed after this, so a quiet instance does not
/// hold server slots (and stale connections do not pile up).
const IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// The PostgreSQL implementation of authgate-core's `UserStore`,
/// `SessionStore`, `KeyStore` and `Ping`.
///
/// Cheap to clone: clones share one connection pool. Every multi-statement
/// write runs to completion on its own task, as SQLite's do (see
/// `common::detached`).
#[derive(Debug, Clone)]
pub struct PostgresStore {
    /// Up to [`MAX_CONNECTIONS`] connections to one database.
    pool: PgPool,
    /// `postgres://user@host:port/database`, without the password, for logs.
    location: String,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://` or `postgresql://`,
    /// with any parameter libpq-style URLs take, such as `sslmode` or
    /// `options=-c search_path=…`) and brings its schema up to date.
    ///
    /// # Errors
    /// As [`PostgresStore::open_with`]; also [`StoreError::Other`] when `url`
    /// does not parse (the message never repeats the URL, which may hold a
    /// password).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(|_| {
            StoreError::Other("the database URL is not a valid PostgreSQL URL".into())
        })?;
        Self::open_with(options).await
    }

    /// Connects with `options` and brings the schema up to date: the
    /// migrations run under PostgreSQL's advisory lock, so instances that
    /// start together apply each one once.
    ///
    /// The pool holds at most 10 connections, waits at most 3 s for one and
    /// closes those idle for 10 minutes.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the server cannot be reached within
    /// 3 s; [`StoreError::Other`] when it refuses the login or the
    /// migrations do not apply (for example, the schema was written by a
    /// newer authgate).
    pub async fn open_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        let location = format!(
            "postgres://{}@{}:{}/{}",
            options.get_username(),
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or_default()
        );
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .idle_timeout(IDLE_TIMEOUT)
            .test_before_acquire(true)
            .connect_with(options)
            .await
            .map_err(map_err)?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| match e {
                MigrateError::Execute(inner) => map_err(inner),
                other => StoreError::Other(format!("postgres migration failed: {other}")),
            })?;
        tracing::debug!(%location, "postgres store opened");
        Ok(Self { pool, location })
    }

    /// Where the store is, without credentials: `postgres://user@host:port/db`.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Closes every connection, waiting for those in use to be returned.
    /// Later calls on this store (or its clones) fail with
    /// [`StoreError::Unavailable`].
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl PostgresStore {
    /// Begins a write transaction (READ COMMITTED: see the module docs).
    async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.pool.begin().await.map_err(map_err)
    }
}

#[async_trait]
impl WriteTx for sqlx::Transaction<'static, sqlx::Postgres> {
    async fn insert_audit(&mut self, event: &AuditEvent) -> StoreResult<()> {
        audit::insert_event(&mut **self, event).await
    }

    async fn commit(self) -> StoreResult<()> {
        sqlx::Transaction::commit(self).await.map_err(map_err)
    }

    async fn rollback(self) -> StoreResult<()> {
        sqlx::Transaction::rollback(self).await.map_err(map_err)
    }
}

#[async_trait]
impl Ping for PostgresStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
