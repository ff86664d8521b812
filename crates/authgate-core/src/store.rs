//! The storage traits the domain needs. Backends (SQLite, PostgreSQL) live in
//! authgate-store; each multi-row change is one transaction inside them.

use async_trait::async_trait;
use authgate_proto::KeyState;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::StoreError;
use crate::model::{RefreshToken, Session, StoredKey, User, UserQuery};
use crate::secrets::TokenHash;

/// Result of a storage call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Users.
#[async_trait]
pub trait UserStore: Send + Sync + std::fmt::Debug {
    /// Inserts a new user.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] with `"email"` or `"username"` when taken.
    async fn insert_user(&self, user: &User) -> StoreResult<()>;

    /// The user with `id`.
    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<User>>;

    /// The user whose email or username equals `login` (already lower-cased).
    async fn user_by_login(&self, login: &str) -> StoreResult<Option<User>>;

    /// Replaces the password hash (after a parameter upgrade).
    async fn set_password_hash(&self, id: Uuid, hash: &str, now: OffsetDateTime)
    -> StoreResult<()>;

    /// Replaces the roles; `None` when the user does not exist.
    async fn set_roles(
        &self,
        id: Uuid,
        roles: &[String],
        now: OffsetDateTime,
    ) -> StoreResult<Option<User>>;

    /// Enables or disables the user. Disabling also revokes every live
    /// session of the user, in the same transaction; the revoked session ids
    /// are returned so caches can drop them. `None` when the user does not exist.
    async fn set_active(
        &self,
        id: Uuid,
        active: bool,
        now: OffsetDateTime,
    ) -> StoreResult<Option<(User, Vec<Uuid>)>>;

    /// A page of users ordered by id.
    async fn list_users(&self, query: &UserQuery) -> StoreResult<Vec<User>>;

    /// How many users exist.
    async fn count_users(&self) -> StoreResult<u64>;
}

/// Sessions and their refresh-token chains.
#[async_trait]
pub trait SessionStore: Send + Sync + std::fmt::Debug {
    /// Creates a session with its first refresh token, in one transaction.
    async fn create_session(&self, session: &Session, first: &RefreshToken) -> StoreResult<()>;

    /// The session with `id`.
    async fn session(&self, id: Uuid) -> StoreResult<Option<Session>>;

    /// The user's sessions that are neither revoked nor expired at `now`, newest first.
    async fn live_sessions(&self, user_id: Uuid, now: OffsetDateTime) -> StoreResult<Vec<Session>>;

    /// The refresh token with this hash.
    async fn refresh_token(&self, hash: &TokenHash) -> StoreResult<Option<RefreshToken>>;

    /// Rotates `parent` into `successor`, atomically: in one transaction,
    /// only if `parent` is unused and its session is live at `now`, marks it
    /// used (recording the successor's hash and `sealed` successor), inserts
    /// `successor` and touches the session's `last_used_at`. Returns `false`
    /// when the condition failed (another refresh won the race, or the
    /// session ended), having changed nothing.
    async fn rotate(
        &self,
        parent: &TokenHash,
        successor: &RefreshToken,
        sealed: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<bool>;

    /// Revokes a session (idempotent); returns whether it was live before.
    async fn revoke_session(&self, id: Uuid, now: OffsetDateTime) -> StoreResult<bool>;

    /// Revokes every live session of a user; returns their ids.
    async fn revoke_user_sessions(
        &self,
        user_id: Uuid,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<Uuid>>;

    /// Sessions revoked at or after `since` (to rebuild revocation caches at start).
    async fn revoked_since(&self, since: OffsetDateTime) -> StoreResult<Vec<Uuid>>;

    /// Wipes sealed successors of tokens used before `before` (the grace window has closed).
    async fn wipe_sealed_successors(&self, before: OffsetDateTime) -> StoreResult<u64>;

    /// How many sessions are live at `now`.
    async fn count_live_sessions(&self, now: OffsetDateTime) -> StoreResult<u64>;
}

/// Signing keys.
#[async_trait]
pub trait KeyStore: Send + Sync + std::fmt::Debug {
    /// Every stored key, oldest first.
    async fn keys(&self) -> StoreResult<Vec<StoredKey>>;

    /// Inserts a key.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] with `"kid"` when the kid exists.
    async fn insert_key(&self, key: &StoredKey) -> StoreResult<()>;

    /// Changes the key set atomically, and only if the stored keys still
    /// have exactly the `expected` (kid, state) pairs (in any order): the
    /// compare-and-swap that lets exactly one of several instances perform
    /// a rotation, the others finding the set changed and reloading it.
    /// `updated` keys get their state and dates replaced (never their
    /// material); `inserted` keys are added. Returns whether it applied.
    async fn transition(
        &self,
        expected: &[(String, KeyState)],
        updated: &[StoredKey],
        inserted: &[StoredKey],
    ) -> StoreResult<bool>;
}

/// Readiness of a backing store.
#[async_trait]
pub trait Ping: Send + Sync {
    /// Succeeds when the store answers.
    async fn ping(&self) -> StoreResult<()>;
}
