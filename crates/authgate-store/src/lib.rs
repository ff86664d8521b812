//! authgate-store: the storage traits of authgate-core, implemented.
//!
//! - [`SqliteStore`]: SQLite in WAL mode, the embedded single-instance
//!   default (module `sqlite`, migrations in `migrations/sqlite/`).
//!
//! PostgreSQL (for several instances) will sit beside it as a second module
//! with its own migrations folder; Redis (revocation cache, rate limits,
//! pub/sub) after that. Each backend owns its SQL; nothing here is shared but
//! the traits it implements, so the server picks a backend once at start and
//! holds it as `Arc<dyn UserStore>` and friends.

mod sqlite;

pub use sqlite::SqliteStore;
