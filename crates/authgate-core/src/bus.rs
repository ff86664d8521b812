//! Announcing changes to the other instances sharing the store.
//!
//! The database stays the source of truth: a change is committed there
//! first, then announced on a [`ChangeBus`] so that every other instance
//! applies it to its in-process caches at once instead of at its next poll
//! of the database (every few seconds). [`NoBus`] announces nothing (one
//! instance, or no Redis); authgate-store's Redis bus publishes on a pub/sub
//! channel. A lost announcement costs only time: the polling path still
//! finds the change in the database.

use async_trait::async_trait;
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use crate::records::RecordCache;
use crate::revocation::RevocationList;

/// A change other instances must see within a second.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// A session was revoked (logout, reuse detection, an administrator);
    /// its access tokens die with it.
    SessionRevoked {
        /// The session.
        sid: Uuid,
        /// Unix time after which the revocation can be forgotten (its last
        /// access token has expired).
        until: i64,
    },
    /// One access token was revoked by its `jti`.
    TokenRevoked {
        /// The token's `jti`.
        jti: String,
        /// Unix time after which the revocation can be forgotten.
        until: i64,
    },
    /// A user was disabled, enabled or given other roles: cached copies of
    /// the record are stale.
    UserChanged {
        /// The user.
        id: Uuid,
    },
    /// The signing keys changed (a rotation, a new `next` key): reload them.
    KeysChanged,
}

impl Change {
    /// Applies a revocation or a user change to this process's caches.
    /// [`Change::KeysChanged`] is left to the caller, who owns the keyring
    /// and the verifier.
    pub fn apply_to(&self, revocations: &RevocationList, records: &RecordCache) {
        match self {
            Self::SessionRevoked { sid, until } => {
                revocations.revoke_session(*sid, *until);
                records.forget_session(sid);
            }
            Self::TokenRevoked { jti, until } => revocations.revoke_token(jti, *until),
            Self::UserChanged { id } => records.forget_user(id),
            Self::KeysChanged => {}
        }
    }
}

/// Carries [`Change`]s between the instances sharing a store.
///
/// Announcing never blocks the request that made the change and never
/// fails it: the change is already in the database, and an announcement
/// that cannot be delivered is only late (the database poll finds it).
#[async_trait]
pub trait ChangeBus: Send + Sync + std::fmt::Debug {
    /// Announces a change already committed to the database.
    fn publish(&self, change: Change);

    /// Delivers the changes announced by other instances to `sink` until
    /// `sink` is closed, reconnecting by itself when the link is lost.
    /// A (re)subscription first delivers what was kept for late subscribers
    /// (revocations still in force, a recent key change).
    fn subscribe(&self, sink: mpsc::Sender<Change>);

    /// Whether this bus's subscription is listening: `true` once it is
    /// subscribed and has delivered what was kept for late subscribers (so
    /// nothing announced from then on is missed), `false` while it is not
    /// (before the first subscription, after a lost link). Watch it to wait
    /// for the moment, never a duration. A bus with nothing to listen to is
    /// always listening.
    fn listening(&self) -> watch::Receiver<bool> {
        watch::channel(true).1
    }

    /// Waits (briefly) until the changes announced so far have been sent,
    /// for short-lived processes such as the administration commands.
    async fn flush(&self) {}
}

/// The bus of a single instance: announces nothing, delivers nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoBus;

#[async_trait]
impl ChangeBus for NoBus {
    fn publish(&self, _change: Change) {}

    fn subscribe(&self, _sink: mpsc::Sender<Change>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revoked_session_is_refused_and_its_cached_copy_dropped() {
        let (revocations, records) = (RevocationList::new(), RecordCache::new());
        let sid = Uuid::now_v7();
        Change::SessionRevoked { sid, until: 1_000 }.apply_to(&revocations, &records);
        assert!(revocations.is_session_revoked(&sid));
        Change::TokenRevoked {
            jti: "t1".into(),
            until: 1_000,
        }
        .apply_to(&revocations, &records);
        assert!(revocations.is_token_revoked("t1"));
        Change::KeysChanged.apply_to(&revocations, &records);
        assert_eq!(revocations.len(), 2, "a key change touches no revocation");
    }
}
