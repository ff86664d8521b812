//! authgate-store: the storage traits of authgate-core, implemented.
//!
//! - [`SqliteStore`]: SQLite in WAL mode, the embedded single-instance
//!   default (module `sqlite`, migrations in `migrations/sqlite/`).
//! - [`PostgresStore`]: PostgreSQL, shared by several instances (module
//!   `postgres`, migrations in `migrations/postgres/`).
//! - [`RedisStore`] (optional, shared by the instances beside PostgreSQL):
//!   revocations with the remaining lifetime of their tokens, login counters
//!   ([`RedisLimiter`]) and a pub/sub channel of changes ([`RedisBus`]);
//!   module `redis`. The database stays the source of truth.
//!
//! Each backend owns its SQL; they share `common`: detached writes, the
//! steps of the key transition and of the session writes (generic over a
//! backend's transaction, which supplies the statements), the statements
//! whose text is the same on both, key state names and LIKE escaping. The server picks a backend once at start and
//! holds it as an `Arc<dyn Store>`, which it hands out as `Arc<dyn UserStore>`
//! and friends.
//!
//! The `test-util` feature adds [`testing`]: a fresh PostgreSQL schema per
//! test and a TCP proxy that can cut a test's link to a backing service.

mod common;
mod postgres;
mod redis;
mod sqlite;
#[cfg(feature = "test-util")]
pub mod testing;

use authgate_core::MfaStore;
use authgate_core::oidc::store::OidcStore;
use authgate_core::{
    AuditStore, KeyStore, OutboxStore, Ping, ResetStore, ServiceClientStore, SessionStore,
    UserStore, VerificationStore,
};

pub use postgres::PostgresStore;
pub use redis::{DEFAULT_REDIS_PREFIX, RedisBus, RedisLimiter, RedisStore};
pub use sqlite::SqliteStore;

/// Every storage trait the server needs, in one object: what each backend
/// implements, so that choosing one at start-up yields a single
/// `Arc<dyn Store>` that coerces to `Arc<dyn UserStore>`, `Arc<dyn KeyStore>`
/// and so on. A new storage trait joins the list here.
pub trait Store:
    UserStore
    + SessionStore
    + KeyStore
    + ServiceClientStore
    + AuditStore
    + Ping
    + OutboxStore
    + ResetStore
    + OidcStore
    + VerificationStore
    + MfaStore
{
}

impl<
    T: UserStore
        + SessionStore
        + KeyStore
        + ServiceClientStore
        + AuditStore
        + Ping
        + OutboxStore
        + ResetStore
        + OidcStore
        + VerificationStore
        + MfaStore
        + ?Sized,
> Store for T
{
}
