//! SQLite: the embedded, single-instance backend.
//!
//! One file per trait (`users`, `sessions` with the statements of its writes
//! in `session_tx` and the group commit of the hot writes in
//! `group_commit`, `keys`, `clients`, `audit`); `codec` turns domain
//! values into columns and back, `error` turns sqlx errors into
//! [`StoreError`]s.
//!
//! # Durability
//!
//! The database runs in WAL mode with `synchronous = FULL`: every commit
//! fsyncs the write-ahead log before it returns. `NORMAL` would already
//! survive a crash or SIGKILL of the process (committed pages sit in the OS
//! page cache), but a power loss or kernel crash could then drop the last
//! commits, and for an auth server those are exactly the ones that matter: a
//! revoked session coming back to life, or a rotated refresh token becoming
//! unused again (so a thief's replay is no longer detected). One fsync per
//! write is cheap next to an argon2 hash on login.
//!
//! # Transactions
//!
//! Every multi-statement write starts with `BEGIN IMMEDIATE`, which takes
//! SQLite's write lock up front (waiting up to the busy timeout). A deferred
//! transaction that reads and then writes can instead fail with `SQLITE_BUSY`
//! at once when another writer got in between, without waiting.
//!
//! Those transactions run on one connection of their own, the writer: SQLite
//! lets one writer at a time in anyway, and concurrent writers then wait in
//! line for that connection, asleep until it is theirs, instead of each
//! taking a reading connection and polling the lock in SQLite's busy handler
//! (a sleep and a retry, a thread switch each time: under 64 concurrent
//! refreshes that polling was most of a refresh's CPU). The busy timeout
//! still covers another process writing (the command line).

mod audit;
mod clients;
mod codec;
mod error;
mod group_commit;
mod keys;
mod mfa;
mod oidc;
mod recovery;
mod session_tx;
mod sessions;
mod users;
mod verification;

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use authgate_core::{Ping, StoreError, StoreResult};
use authgate_proto::AuditEvent;
use sqlx::migrate::MigrateError;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use self::error::map_err;
use crate::common::WriteTx;

/// How long a statement waits for another connection's write lock before
/// failing with "database is locked" ([`StoreError::Unavailable`]).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a caller waits for a free connection from the pool.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections in the pool: readers run in parallel under WAL, writers
/// queue on SQLite's single write lock, so more would not add throughput.
const MAX_CONNECTIONS: u32 = 8;

/// Connections for write transactions: one, as SQLite admits one writer.
const WRITERS: u32 = 1;

/// The statement that opens every write transaction (see the module docs).
const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// The SQLite implementation of authgate-core's `UserStore`, `SessionStore`,
/// `KeyStore`, `ServiceClientStore`, `AuditStore` and `Ping`.
///
/// Cheap to clone: clones share one connection pool.
///
/// Every multi-statement write runs on its own task (`common::detached`): if the
/// request that started it is dropped (a client that disconnects), the
/// transaction still commits or rolls back. Cancelling sqlx mid-`BEGIN`
/// can leave a pooled connection inside a transaction, after which every
/// write fails until restart (found under load; sqlx issue 3932).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Up to [`MAX_CONNECTIONS`] connections to one database file: reads and
    /// single-statement writes.
    pool: SqlitePool,
    /// The [`WRITERS`] connection of the write transactions (see the module
    /// docs), to the same file.
    writer: SqlitePool,
    /// Commits the hot writes (rotations, new sessions, code uses) in
    /// groups on `writer`.
    committer: group_commit::Committer,
}

impl SqliteStore {
    /// Opens (creating it if missing) the database file at `path` and brings
    /// its schema up to date.
    ///
    /// Every connection uses WAL journaling, `synchronous = FULL`,
    /// `foreign_keys = ON` and a 5 s busy timeout; the pool holds at most 8
    /// connections, the write transactions have one more of their own, and
    /// each waits at most 5 s for a free one.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the file cannot be opened or created
    /// (or stays locked); [`StoreError::Corrupt`] when it is not a SQLite
    /// database; [`StoreError::Other`] when the migrations do not apply (for
    /// example, the database was written by a newer authgate).
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        // sqlx pings every connection it hands out by default, to catch
        // dropped network links. An embedded database file has no link to
        // drop, and each ping is a round trip to the connection's worker
        // thread: two of them on every login, one on every /me.
        let pool_of = |size| {
            SqlitePoolOptions::new()
                .max_connections(size)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .test_before_acquire(false)
        };
        let pool = pool_of(MAX_CONNECTIONS)
            .connect_with(options.clone())
            .await
            .map_err(map_err)?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| match e {
                MigrateError::Execute(inner) => map_err(inner),
                other => StoreError::Other(format!("sqlite migration failed: {other}")),
            })?;
        // Connected only after the migrations: a pool connects lazily per
        // connection, and this one's first use is then on the final schema.
        let writer = pool_of(WRITERS).connect_lazy_with(options);
        let committer = group_commit::Committer::start(writer.clone());
        tracing::debug!(path = %path.display(), "sqlite store opened");
        Ok(Self {
            pool,
            writer,
            committer,
        })
    }

    /// Closes every connection, waiting for those in use to be returned.
    /// Later calls on this store (or its clones) fail with
    /// [`StoreError::Unavailable`].
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

impl SqliteStore {
    /// Begins a write transaction (`BEGIN IMMEDIATE`) on the writer
    /// connection, waiting in line for it (see the module docs).
    async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.writer.begin_with(BEGIN_WRITE).await.map_err(map_err)
    }
}

#[async_trait]
impl WriteTx for sqlx::Transaction<'static, sqlx::Sqlite> {
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
impl Ping for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
