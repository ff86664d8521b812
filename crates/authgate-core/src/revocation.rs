//! The in-process list of revoked sessions and access tokens, checked on
//! every authenticated request; the database stays the source of truth and
//! rebuilds it at start.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use uuid::Uuid;

/// Revoked session ids and token ids, each kept until every access token it
/// kills has expired anyway.
#[derive(Debug, Default)]
pub struct RevocationList {
    /// sid → Unix time after which it can be forgotten.
    sessions: RwLock<HashMap<Uuid, i64>>,
    /// jti → Unix time after which it can be forgotten (the token's `exp`
    /// plus leeway). Service-client tokens have no session, so this is how they die.
    tokens: RwLock<HashMap<String, i64>>,
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

    /// Records that the access token `jti` is revoked.
    pub fn revoke_token(&self, jti: &str, forget_after: i64) {
        let mut map = self.tokens.write().unwrap_or_else(PoisonError::into_inner);
        let entry = map.entry(jti.to_owned()).or_insert(forget_after);
        *entry = (*entry).max(forget_after);
    }

    /// Whether the access token `jti` is revoked.
    pub fn is_token_revoked(&self, jti: &str) -> bool {
        self.tokens
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(jti)
    }

    /// Forgets revocations whose tokens have all expired by `now`.
    pub fn prune(&self, now: i64) {
        self.sessions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, until| *until >= now);
        self.tokens
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, until| *until >= now);
    }

    /// How many revocations (sessions and tokens) are remembered.
    pub fn len(&self) -> usize {
        let sessions = self
            .sessions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        sessions
            + self
                .tokens
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

    #[test]
    fn revoked_tokens_are_remembered_until_they_expire() {
        let list = RevocationList::new();
        list.revoke_token("t1", 500);
        list.revoke_token("t1", 400);
        assert!(list.is_token_revoked("t1"));
        assert!(!list.is_token_revoked("t2"));
        list.prune(500);
        assert!(list.is_token_revoked("t1"), "the later expiry wins");
        list.prune(501);
        assert!(!list.is_token_revoked("t1"));
        assert!(list.is_empty());
    }
}
