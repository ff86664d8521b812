//! The access token of a browser session, as the account page shows it.
//!
//! A browser session is carried by its cookie, not by access tokens; but
//! its login issued one, as every login does. This book keeps that token's
//! verified claims (never the token itself) by session, in this process
//! only: after a restart, or on another instance, the account page says it
//! has none to show rather than inventing one.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use authgate_proto::AccessClaims;
use uuid::Uuid;

/// Most sessions remembered; past it, tokens expired long ago go first,
/// then everything (the page then shows no token, nothing breaks).
const CAPACITY: usize = 100_000;

/// Session id → the claims of the access token its login issued.
#[derive(Debug, Default)]
pub(crate) struct ClaimsBook(Mutex<HashMap<Uuid, AccessClaims>>);

impl ClaimsBook {
    /// Remembers the claims of `sid`'s access token; `now` is unix seconds.
    pub(crate) fn insert(&self, sid: Uuid, claims: AccessClaims, now: i64, keep_for: i64) {
        let mut book = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if book.len() >= CAPACITY {
            book.retain(|_, c| c.exp + keep_for > now);
            if book.len() >= CAPACITY {
                book.clear();
            }
        }
        book.insert(sid, claims);
    }

    /// The claims remembered for `sid`.
    pub(crate) fn get(&self, sid: &Uuid) -> Option<AccessClaims> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(sid)
            .cloned()
    }

    /// Forgets `sid` (its session ended).
    pub(crate) fn remove(&self, sid: &Uuid) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(sid);
    }
}
