//! The storage traits the domain needs. Backends (SQLite, PostgreSQL) live in
//! authgate-store; each multi-row change is one transaction inside them.

use async_trait::async_trait;
use authgate_proto::KeyState;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::StoreError;
use authgate_proto::AuditEvent;

use crate::model::{
    AuditFilter, RefreshContext, RefreshToken, ServiceClient, Session, StoredKey, User, UserQuery,
};
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
    async fn insert_user(&self, user: &User) -> StoreResult<()> {
        self.insert_user_audited(user, None).await
    }

    /// [`UserStore::insert_user`], appending `audit` (the event recording
    /// the change) in the same transaction: both happen or neither.
    async fn insert_user_audited(&self, user: &User, audit: Option<&AuditEvent>)
    -> StoreResult<()>;

    /// The user with `id`.
    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<User>>;

    /// The user whose email or username equals `login` (already lower-cased).
    async fn user_by_login(&self, login: &str) -> StoreResult<Option<User>>;

    /// The distinct costs ([`phc_cost`](crate::phc_cost)) of the stored
    /// password hashes: the argon2 parameter sets a login may have to
    /// verify with, which every login then pays so that unknown users take
    /// as long as known ones (docs/security.md).
    async fn password_hash_costs(&self) -> StoreResult<Vec<String>>;

    /// Replaces the password hash with `hash` (after a parameter upgrade)
    /// only if it is still `current`, the one the password was checked
    /// against; `false`, changing nothing, otherwise. An upgrade computed
    /// from the old password must never overwrite a hash set meanwhile.
    async fn set_password_hash(
        &self,
        id: Uuid,
        current: &str,
        hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;

    /// A password change, all in one transaction or not at all: the hash
    /// becomes `hash` if it is still `current` (as
    /// [`UserStore::set_password_hash`]), every live session of the user
    /// but `keep_session` (the caller's) is revoked at `now`, and `audit`
    /// is appended with `details.sessions_ended` set to how many were.
    /// Returns the revoked sessions' ids; `None`, changing nothing, when
    /// the hash changed meanwhile. A new password must never stand while
    /// the sessions it was meant to end stay alive.
    async fn change_password_audited(
        &self,
        id: Uuid,
        current: &str,
        hash: &str,
        keep_session: Uuid,
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<Option<Vec<Uuid>>>;

    /// Replaces the roles; `None` when the user does not exist.
    async fn set_roles(
        &self,
        id: Uuid,
        roles: &[String],
        now: OffsetDateTime,
    ) -> StoreResult<Option<User>> {
        self.set_roles_audited(id, roles, now, None).await
    }

    /// [`UserStore::set_roles`], appending `audit` in the same transaction
    /// (not at all when the user does not exist).
    async fn set_roles_audited(
        &self,
        id: Uuid,
        roles: &[String],
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<Option<User>>;

    /// Enables or disables the user. Disabling also revokes every live
    /// session of the user, in the same transaction; the revoked session ids
    /// are returned so caches can drop them. `None` when the user does not exist.
    async fn set_active(
        &self,
        id: Uuid,
        active: bool,
        now: OffsetDateTime,
    ) -> StoreResult<Option<(User, Vec<Uuid>)>> {
        self.set_active_audited(id, active, now, None).await
    }

    /// [`UserStore::set_active`], appending `audit` in the same transaction
    /// (not at all when the user does not exist).
    async fn set_active_audited(
        &self,
        id: Uuid,
        active: bool,
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<Option<(User, Vec<Uuid>)>>;

    /// A page of users ordered by id.
    async fn list_users(&self, query: &UserQuery) -> StoreResult<Vec<User>>;

    /// How many users exist.
    async fn count_users(&self) -> StoreResult<u64>;
}

/// Where a page of sessions ends: the last session's `created_at` and `id`
/// (the listing's order), from which the next page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCursor {
    /// The last listed session's creation time.
    pub created_at: OffsetDateTime,
    /// The last listed session's id (breaks ties of `created_at`).
    pub id: Uuid,
}

impl SessionCursor {
    /// The cursor after `session`.
    pub fn after(session: &Session) -> Self {
        Self {
            created_at: session.created_at,
            id: session.id,
        }
    }
}

/// Sessions and their refresh-token chains.
#[async_trait]
pub trait SessionStore: Send + Sync + std::fmt::Debug {
    /// Creates a session with its first refresh token, in one transaction,
    /// if its user exists and is enabled when it commits; `false`, creating
    /// nothing, otherwise. Checked in the transaction so that a login whose
    /// password check raced a disable cannot leave a live session behind
    /// (the disable's sweep of sessions would not have seen it).
    async fn create_session(&self, session: &Session, first: &RefreshToken) -> StoreResult<bool> {
        self.create_session_audited(session, first, None).await
    }

    /// [`SessionStore::create_session`], appending `audit` (the login's
    /// record) in the same transaction.
    async fn create_session_audited(
        &self,
        session: &Session,
        first: &RefreshToken,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool>;

    /// The session with `id`.
    async fn session(&self, id: Uuid) -> StoreResult<Option<Session>>;

    /// Moves a live session's `last_used_at` forward to `now` (a browser
    /// session's activity, for its idle timeout); returns whether it did.
    /// A revoked session, or one used at or after `now`, is left alone.
    async fn touch_session(&self, id: Uuid, now: OffsetDateTime) -> StoreResult<bool>;

    /// The user's sessions that are neither revoked nor expired at `now`, newest first.
    async fn live_sessions(&self, user_id: Uuid, now: OffsetDateTime) -> StoreResult<Vec<Session>>;

    /// One page of [`SessionStore::live_sessions`]: at most `limit` of
    /// them, newest first by (`created_at`, `id`), only those after `after`
    /// in that order (keyset pagination: stable while sessions come and go).
    async fn live_sessions_page(
        &self,
        user_id: Uuid,
        now: OffsetDateTime,
        after: Option<SessionCursor>,
        limit: u32,
    ) -> StoreResult<Vec<Session>>;

    /// The refresh token with this hash.
    async fn refresh_token(&self, hash: &TokenHash) -> StoreResult<Option<RefreshToken>>;

    /// The refresh token with this hash, its session and the session's
    /// user, in one trip to the store where the backend can (a refresh
    /// needs all three, and each trip is a thread hop or a network round
    /// trip on the hot path of every client).
    async fn refresh_context(&self, hash: &TokenHash) -> StoreResult<Option<RefreshContext>>;

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
    ) -> StoreResult<bool> {
        self.rotate_audited(parent, successor, sealed, now, None)
            .await
    }

    /// [`SessionStore::rotate`], appending `audit` in the same transaction
    /// when the rotation happens (and not when it returns `false`): a
    /// refresh is then one commit, where a separately queued record would
    /// be a second one on the hot path of every client.
    async fn rotate_audited(
        &self,
        parent: &TokenHash,
        successor: &RefreshToken,
        sealed: &[u8],
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool>;

    /// Revokes a session (idempotent); returns whether it was live before.
    async fn revoke_session(&self, id: Uuid, now: OffsetDateTime) -> StoreResult<bool> {
        self.revoke_session_audited(id, now, None).await
    }

    /// [`SessionStore::revoke_session`], appending `audit` in the same transaction.
    async fn revoke_session_audited(
        &self,
        id: Uuid,
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool>;

    /// Revokes every session of `ids` and appends `audit`, in one
    /// transaction: either all of it is written or nothing is (a logout
    /// that also ends the session of another refresh token never leaves
    /// one revoked and not the other). Returns the sessions this call
    /// revoked (not those revoked already).
    async fn revoke_sessions_audited(
        &self,
        ids: &[Uuid],
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<Vec<Uuid>>;

    /// Revokes every live session of a user; returns their ids.
    async fn revoke_user_sessions(
        &self,
        user_id: Uuid,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<Uuid>> {
        self.revoke_user_sessions_audited(user_id, now, None).await
    }

    /// [`SessionStore::revoke_user_sessions`], appending `audit` in the same transaction.
    async fn revoke_user_sessions_audited(
        &self,
        user_id: Uuid,
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<Vec<Uuid>>;

    /// Sessions revoked at or after `since` (to rebuild revocation caches at start).
    async fn revoked_since(&self, since: OffsetDateTime) -> StoreResult<Vec<Uuid>>;

    /// Wipes sealed successors of tokens used before `before` (the grace window has closed).
    async fn wipe_sealed_successors(&self, before: OffsetDateTime) -> StoreResult<u64>;

    /// Deletes up to `limit` sessions that expired or were revoked before
    /// `before` (their refresh tokens go with them) and up to `limit`
    /// access-token revocations whose tokens expired before it: rows that
    /// can no longer change any answer. Returns how many sessions and
    /// revocations went; the caller repeats while that is non-zero, so no
    /// single transaction grows with the backlog.
    async fn purge_ended(&self, before: OffsetDateTime, limit: u32) -> StoreResult<u64>;

    /// How many sessions are live at `now`.
    async fn count_live_sessions(&self, now: OffsetDateTime) -> StoreResult<u64>;

    /// Revokes one access token by its `jti` (idempotent), kept until
    /// `expires_at`, when the token would have died anyway. For tokens
    /// without a session (client tokens) and RFC 7009 revocation of one
    /// access token.
    async fn revoke_token(
        &self,
        jti: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        self.revoke_token_audited(jti, expires_at, now, None).await
    }

    /// [`SessionStore::revoke_token`], appending `audit` in the same transaction.
    async fn revoke_token_audited(
        &self,
        jti: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<()>;

    /// Token ids revoked at or after `since` whose tokens have not expired
    /// at `now`, with their expiry (to fill revocation caches).
    async fn revoked_tokens_since(
        &self,
        since: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<(String, OffsetDateTime)>>;
}

/// Service clients.
#[async_trait]
pub trait ServiceClientStore: Send + Sync + std::fmt::Debug {
    /// Inserts a client.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] with `"client_id"` when the id exists.
    async fn insert_client(&self, client: &ServiceClient) -> StoreResult<()> {
        self.insert_client_audited(client, None).await
    }

    /// [`ServiceClientStore::insert_client`], appending `audit` in the same transaction.
    async fn insert_client_audited(
        &self,
        client: &ServiceClient,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<()>;

    /// The client with `id`.
    async fn client(&self, id: &str) -> StoreResult<Option<ServiceClient>>;

    /// At most `limit` clients, newest first (then by id).
    async fn list_clients(&self, limit: u32) -> StoreResult<Vec<ServiceClient>>;

    /// Deletes the client with `id`, appending `audit` in the same
    /// transaction when it existed; `false` (and nothing appended) when it
    /// did not. Its tokens stop working: a caller is a client that exists.
    async fn delete_client_audited(
        &self,
        id: &str,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool>;

    /// Enables or disables the client with `id`, appending `audit` in the
    /// same transaction when it exists; the client as it is now, or `None`
    /// (and nothing appended) when it does not exist. A disabled client's
    /// secret and tokens are refused where it is read, so nothing is revoked.
    async fn set_client_active_audited(
        &self,
        id: &str,
        active: bool,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<Option<ServiceClient>>;
}

/// The append-only audit trail.
#[async_trait]
pub trait AuditStore: Send + Sync + std::fmt::Debug {
    /// Appends an event.
    async fn append_event(&self, event: &AuditEvent) -> StoreResult<()>;

    /// Appends `events`, in order, in one transaction where the backend
    /// has them (all or none): the audit sink's task hands over every event
    /// waiting, and one commit for many keeps a burst of events (a wave of
    /// sign-ins) from queueing one fsync each behind the requests' own
    /// writes. The default appends them one by one.
    async fn append_events(&self, events: &[std::sync::Arc<AuditEvent>]) -> StoreResult<()> {
        for event in events {
            self.append_event(event).await?;
        }
        Ok(())
    }

    /// Events matching `filter`, newest first.
    async fn events(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEvent>>;

    /// How many events of `kind` happened at or after `since`.
    async fn count_events(&self, kind: &str, since: OffsetDateTime) -> StoreResult<u64>;
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
    ) -> StoreResult<bool> {
        self.transition_audited(expected, updated, inserted, None)
            .await
    }

    /// Replaces a key's sealed material with `to`, only if it is still
    /// `from`: re-sealing in a newer format (the key itself is unchanged).
    /// Returns whether it replaced it.
    async fn reseal_key(&self, kid: &str, from: &[u8], to: &[u8]) -> StoreResult<bool>;

    /// [`KeyStore::transition`], appending `audit` (the rotation's record)
    /// in the same transaction when it applies.
    async fn transition_audited(
        &self,
        expected: &[(String, KeyState)],
        updated: &[StoredKey],
        inserted: &[StoredKey],
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool>;
}

/// Readiness of a backing store.
#[async_trait]
pub trait Ping: Send + Sync {
    /// Succeeds when the store answers.
    async fn ping(&self) -> StoreResult<()>;
}
