//! What the server's wiring and the operator's commands ask of the service
//! beyond the flows: finding a user by login, flushing queued work before
//! the process ends, and the numbers the metrics report.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::audit::SinkCounters;
use crate::error::AuthError;
use crate::identity::LoginName;
use crate::model::User;

use super::AuthService;

impl AuthService {
    /// The user whose email or username is `login` (parsed as a login
    /// parses it, [`LoginName`]); `None` when there is none.
    ///
    /// # Errors
    /// Store errors.
    pub async fn find_user(&self, login: &LoginName) -> Result<Option<User>, AuthError> {
        Ok(self.deps.users.user_by_login(login.as_str()).await?)
    }

    /// Waits until every queued audit record has reached its sinks and
    /// every queued announcement its bus: what a process does before it
    /// ends, so the last requests' records (failed logins above all) and
    /// changes (a disable) are not lost with the runtime.
    pub async fn flush(&self) {
        self.deps.audit.flush().await;
        self.deps.bus.flush().await;
    }

    /// Whether this instance hears the other instances' announcements now
    /// ([`crate::ChangeBus::listening`]): `true` once its subscription is up
    /// and has caught up, `false` while the link is down. A readiness signal
    /// to wait on, never a duration.
    pub fn hears_other_instances(&self) -> tokio::sync::watch::Receiver<bool> {
        self.deps.bus.listening()
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
