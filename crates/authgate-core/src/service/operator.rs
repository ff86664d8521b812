//! What the server's wiring and the operator's commands ask of the service
//! beyond the flows: finding a user by login, flushing queued work before
//! the process ends, and the numbers the metrics report.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::audit::SinkCounters;
use crate::error::AuthError;
use crate::model::User;

use super::AuthService;

impl AuthService {
    /// The user whose email or username is `login`, normalised as a login
    /// normalises it (trimmed, lower-cased); `None` when there is none.
    ///
    /// # Errors
    /// Store errors.
    pub async fn find_user(&self, login: &str) -> Result<Option<User>, AuthError> {
        let login = login.trim().to_lowercase();
        Ok(self.deps.users.user_by_login(&login).await?)
    }

    /// Waits until every queued audit record has reached its sinks and
    /// every queued announcement its bus: what a process does before it
    /// ends, so the last requests' records (failed logins above all) and
    /// changes (a disable) are not lost with the runtime.
    pub async fn flush(&self) {
        self.deps.audit.flush().await;
        self.deps.bus.flush().await;
    }

    /// Password hashes waiting for a hashing thread, for the metrics.
    pub fn password_hash_queue_depth(&self) -> usize {
        self.deps.hasher.queue_depth()
    }

    /// Each audit sink's failure and drop counters by sink name, for the
    /// metrics and for tests.
    pub fn audit_counters(&self) -> BTreeMap<String, Arc<SinkCounters>> {
        self.deps.audit.counters()
    }
}
