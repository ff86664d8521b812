//! Short-lived in-process copies of user and session records, so the
//! authenticated hot path (every Bearer request, `GET /me`) does not read the
//! database each time, and of the account page's overview of a user (their
//! live sessions and latest audit events), so `GET /account` does not either. An entry is trusted for [`FRESH_FOR`]; changes made
//! through this process drop it at once, changes made by other processes
//! sharing the store are seen within that time (docs/architecture.md: within a second).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use uuid::Uuid;

use authgate_proto::AuditEvent;

use crate::model::{Session, User};

/// How long a copy is trusted without reading the store again.
pub const FRESH_FOR: time::Duration = time::Duration::seconds(1);

/// Entries kept per kind before the map is emptied; bounds memory under a
/// flood of distinct sessions (each refilled on its next request).
const MAX_ENTRIES: usize = 100_000;

/// A copy of a record and when it was read (Unix milliseconds).
#[derive(Debug)]
struct Entry<T> {
    read_at_ms: i64,
    record: Arc<T>,
}

/// A user's live sessions (newest first) and latest audit events (newest
/// first), as one read of the store saw them.
#[derive(Debug)]
pub struct AccountOverview {
    /// The live sessions, at most the number asked for.
    pub sessions: Vec<Session>,
    /// The latest events about the user, at most the number asked for.
    pub events: Vec<AuditEvent>,
    /// The user's second factor as it stood (its changes are audited, or
    /// touch the mark, so a copy never outlives one made here).
    pub mfa: crate::service::MfaState,
    /// The limits they were read with: a copy serves only the same ask.
    pub(crate) limits: (u32, u32),
    /// [`crate::audit::AuditLog::user_mark`] of the user before the read: a
    /// copy is this instance's latest only while the mark has not moved.
    pub(crate) mark: u64,
}

/// Recently read users and sessions by id.
#[derive(Debug, Default)]
pub struct RecordCache {
    /// Users by id.
    users: RwLock<HashMap<Uuid, Entry<User>>>,
    /// Sessions by id.
    sessions: RwLock<HashMap<Uuid, Entry<Session>>>,
    /// Account overviews by user id.
    overviews: RwLock<HashMap<Uuid, Entry<AccountOverview>>>,
}

impl RecordCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The user, if read less than [`FRESH_FOR`] before `now_ms`.
    pub fn fresh_user(&self, id: &Uuid, now_ms: i64) -> Option<Arc<User>> {
        fresh(&self.users, id, now_ms)
    }

    /// Keeps a copy of `user` read at `now_ms`.
    pub fn put_user(&self, user: Arc<User>, now_ms: i64) {
        put(&self.users, user.id, user, now_ms);
    }

    /// Drops the copy of a user that changed, and their overview.
    pub fn forget_user(&self, id: &Uuid) {
        self.users
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
        self.overviews
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
    }

    /// The user's overview, if read less than [`FRESH_FOR`] before `now_ms`
    /// with the same `limits`, and the user's audit mark still `mark`.
    pub fn fresh_overview(
        &self,
        user: &Uuid,
        now_ms: i64,
        mark: u64,
        limits: (u32, u32),
    ) -> Option<Arc<AccountOverview>> {
        fresh(&self.overviews, user, now_ms).filter(|o| o.mark == mark && o.limits == limits)
    }

    /// Keeps a copy of the user's overview read at `now_ms`.
    pub fn put_overview(&self, user: Uuid, overview: Arc<AccountOverview>, now_ms: i64) {
        put(&self.overviews, user, overview, now_ms);
    }

    /// The session, if read less than [`FRESH_FOR`] before `now_ms`.
    pub fn fresh_session(&self, id: &Uuid, now_ms: i64) -> Option<Arc<Session>> {
        fresh(&self.sessions, id, now_ms)
    }

    /// Keeps a copy of `session` read at `now_ms`.
    pub fn put_session(&self, session: Arc<Session>, now_ms: i64) {
        put(&self.sessions, session.id, session, now_ms);
    }

    /// Drops the copy of a session that changed.
    pub fn forget_session(&self, id: &Uuid) {
        self.sessions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
    }

    /// Drops every copy no longer fresh at `now_ms`.
    pub fn prune(&self, now_ms: i64) {
        self.users
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, e| is_fresh(e.read_at_ms, now_ms));
        self.sessions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, e| is_fresh(e.read_at_ms, now_ms));
        self.overviews
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, e| is_fresh(e.read_at_ms, now_ms));
    }
}

fn is_fresh(read_at_ms: i64, now_ms: i64) -> bool {
    read_at_ms <= now_ms && now_ms - read_at_ms < FRESH_FOR.whole_milliseconds() as i64
}

fn fresh<T>(map: &RwLock<HashMap<Uuid, Entry<T>>>, id: &Uuid, now_ms: i64) -> Option<Arc<T>> {
    let map = map.read().unwrap_or_else(PoisonError::into_inner);
    let entry = map.get(id)?;
    is_fresh(entry.read_at_ms, now_ms).then(|| Arc::clone(&entry.record))
}

fn put<T>(map: &RwLock<HashMap<Uuid, Entry<T>>>, id: Uuid, record: Arc<T>, now_ms: i64) {
    let mut map = map.write().unwrap_or_else(PoisonError::into_inner);
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
    map.insert(
        id,
        Entry {
            read_at_ms: now_ms,
            record,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    fn session() -> Session {
        let t = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        Session {
            id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            created_at: t,
            last_used_at: t,
            expires_at: t,
            ip: None,
            user_agent: None,
            audience: "authgate".into(),
            revoked_at: None,
            client: None,
        }
    }

    #[test]
    fn copies_are_trusted_for_one_second_then_read_again() {
        let cache = RecordCache::new();
        let s = Arc::new(session());
        cache.put_session(s.clone(), 10_000);
        assert!(cache.fresh_session(&s.id, 10_999).is_some());
        assert!(cache.fresh_session(&s.id, 11_000).is_none());
        // A clock that stepped back does not make an old copy fresh.
        assert!(cache.fresh_session(&s.id, 9_000).is_none());
    }

    #[test]
    fn forgetting_a_changed_record_takes_effect_at_once() {
        let cache = RecordCache::new();
        let s = Arc::new(session());
        cache.put_session(s.clone(), 10_000);
        cache.forget_session(&s.id);
        assert!(cache.fresh_session(&s.id, 10_001).is_none());
    }
}
