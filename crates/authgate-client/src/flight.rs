//! [`Flight`]: a refresh in progress, as the client's slot holds it.
//!
//! Its own module so that the client (which holds the slot) and the
//! refresh (which fills and clears it) both depend on it, not on each other.

use std::fmt;

use futures_util::future::{BoxFuture, Shared};

use crate::error::Error;

/// The outcome every waiter of one refresh shares: the new access token.
pub(crate) type SharedRefresh = Shared<BoxFuture<'static, Result<String, Error>>>;

/// A refresh in progress.
pub(crate) struct Flight {
    /// Tells this flight from a later one when it clears the slot.
    pub(crate) id: u64,
    /// The session ([`AuthStore`] epoch) whose refresh token it sends:
    /// only callers of that session may join it.
    pub(crate) epoch: u64,
    /// The request and the store update; every waiter polls a clone.
    pub(crate) future: SharedRefresh,
}

impl fmt::Debug for Flight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flight")
            .field("id", &self.id)
            .field("epoch", &self.epoch)
            .finish()
    }
}
