//! The in-process list of revoked sessions, checked on every authenticated
//! request; the database stays the source of truth and rebuilds it at start.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use uuid::Uuid;

/// Revoked session ids, each kept until every access token of the session
/// has expired anyway, and sessions recently confirmed live in the store.
#[derive(Debug, Default)]
pub struct RevocationList {
    /// sid → Unix time after which it can be forgotten.
    sessions: RwLock<HashMap<Uuid, i64>>,
    /// sid → Unix milliseconds when the store last said it was live.
    confirmed: RwLock<HashMap<Uuid, i64>>,
}

impl RevocationList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that session `sid` is revoked; its tokens die with it.
    pub fn revoke_session(&self, sid: Uuid, forget_after: i64) {
        let mut map = self
            .sessions
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let entry = map.entry(sid).or_insert(forget_after);
        *entry = (*entry).max(forget_after);
    }

    /// Whether session `sid` is revoked.
    pub fn is_session_revoked(&self, sid: &Uuid) -> bool {
        self.sessions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(sid)
    }

    /// Whether the store confirmed `sid` live within `max_age_ms` of `now_ms`.
    pub fn recently_confirmed(&self, sid: &Uuid, now_ms: i64, max_age_ms: i64) -> bool {
        self.confirmed
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(sid)
            .is_some_and(|at| now_ms.saturating_sub(*at) < max_age_ms && *at <= now_ms)
    }

    /// Records that the store said `sid` is live at `now_ms`.
    pub fn confirm(&self, sid: Uuid, now_ms: i64) {
        self.confirmed
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(sid, now_ms);
    }

    /// Forgets revocations whose tokens have all expired by `now`, and
    /// liveness confirmations older than a minute.
    pub fn prune(&self, now: i64) {
        self.sessions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, until| *until >= now);
        self.confirmed
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, at| *at / 1000 + 60 >= now);
    }

    /// How many revocations are remembered.
    pub fn len(&self) -> usize {
        self.sessions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liveness_confirmations_expire_and_a_revocation_drops_them() {
        let list = RevocationList::new();
        let sid = Uuid::now_v7();
        list.confirm(sid, 10_000);
        assert!(list.recently_confirmed(&sid, 10_999, 1_000));
        assert!(!list.recently_confirmed(&sid, 11_000, 1_000));
        list.revoke_session(sid, 100);
        assert!(!list.recently_confirmed(&sid, 10_500, 1_000));
    }

    #[test]
    fn revoked_sessions_are_remembered_until_their_tokens_expire() {
        let list = RevocationList::new();
        let sid = Uuid::now_v7();
        list.revoke_session(sid, 1_000);
        assert!(list.is_session_revoked(&sid));
        list.prune(1_000);
        assert!(list.is_session_revoked(&sid));
        list.prune(1_001);
        assert!(!list.is_session_revoked(&sid));
    }
}
