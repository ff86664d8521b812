//! Client-side audit: what the client did, as `tracing` events and in an
//! in-memory [`AuditLog`] an app can show as an audit trail.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditKind {
    /// A login succeeded.
    LoginSucceeded,
    /// A login was refused or could not be sent.
    LoginFailed,
    /// The user logged out.
    LoggedOut,
    /// The tokens were refreshed (the refresh token rotated).
    Refreshed,
    /// A refresh failed for a reason that may pass (network, 5xx, 429).
    RefreshFailed,
    /// The server refused the refresh token (`invalid_grant`): the store
    /// was logged out.
    SessionExpired,
}

impl AuditKind {
    /// A stable dotted name, like the server's audit kinds (`login.failed`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login.succeeded",
            Self::LoginFailed => "login.failed",
            Self::LoggedOut => "logout",
            Self::Refreshed => "token.refreshed",
            Self::RefreshFailed => "refresh.failed",
            Self::SessionExpired => "session.expired",
        }
    }

    /// Whether this records a failure.
    pub const fn is_failure(self) -> bool {
        matches!(
            self,
            Self::LoginFailed | Self::RefreshFailed | Self::SessionExpired
        )
    }
}

impl fmt::Display for AuditKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One audit record. Never holds a password or a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// When, in Unix seconds, by the client's clock.
    pub at: i64,
    /// What happened.
    pub kind: AuditKind,
    /// Who: the email of the user, or the identifier typed at a failed login.
    pub user: Option<String>,
    /// Why, for failures: the docs/http-api.md error code or a short reason.
    pub detail: Option<String>,
}

/// A bounded in-memory list of the latest [`AuditRecord`]s; clones share it.
#[derive(Debug, Clone)]
pub struct AuditLog {
    /// Oldest first; never longer than `capacity`.
    records: Arc<Mutex<VecDeque<AuditRecord>>>,
    /// How many records are kept before the oldest are dropped.
    capacity: usize,
}

/// How many records [`AuditLog::default`] keeps.
pub const DEFAULT_AUDIT_CAPACITY: usize = 100;

impl Default for AuditLog {
    fn default() -> Self {
        Self::new(DEFAULT_AUDIT_CAPACITY)
    }
}

impl AuditLog {
    /// A log keeping the latest `capacity` records (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            records: Arc::new(Mutex::new(VecDeque::with_capacity(capacity))),
            capacity,
        }
    }

    /// Appends a record, dropping the oldest when full.
    pub fn push(&self, record: AuditRecord) {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        if records.len() == self.capacity {
            records.pop_front();
        }
        records.push_back(record);
    }

    /// The latest `n` records, newest first.
    pub fn latest(&self, n: usize) -> Vec<AuditRecord> {
        let records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        records.iter().rev().take(n).cloned().collect()
    }

    /// How many records are held.
    pub fn len(&self) -> usize {
        self.records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Emits the record as a `tracing` event (target `authgate_client::audit`)
    /// and keeps it.
    pub(crate) fn record(&self, record: AuditRecord) {
        let user = record.user.as_deref().unwrap_or("");
        let detail = record.detail.as_deref().unwrap_or("");
        if record.kind.is_failure() {
            tracing::warn!(target: "authgate_client::audit", kind = record.kind.as_str(), user, detail, at = record.at, "auth event");
        } else {
            tracing::info!(target: "authgate_client::audit", kind = record.kind.as_str(), user, detail, at = record.at, "auth event");
        }
        self.push(record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(at: i64, kind: AuditKind) -> AuditRecord {
        AuditRecord {
            at,
            kind,
            user: Some("alice@example.com".into()),
            detail: None,
        }
    }

    #[test]
    fn the_latest_records_come_newest_first() {
        let log = AuditLog::default();
        log.push(record(1, AuditKind::LoginSucceeded));
        log.push(record(2, AuditKind::Refreshed));
        log.push(record(3, AuditKind::LoggedOut));
        let latest = log.latest(2);
        assert_eq!(
            latest.iter().map(|r| r.at).collect::<Vec<_>>(),
            [3, 2],
            "{latest:?}"
        );
    }

    #[test]
    fn a_full_log_drops_the_oldest_record() {
        let log = AuditLog::new(3);
        for at in 0..5 {
            log.push(record(at, AuditKind::Refreshed));
        }
        assert_eq!(log.len(), 3);
        assert_eq!(
            log.latest(10).iter().map(|r| r.at).collect::<Vec<_>>(),
            [4, 3, 2]
        );
    }

    #[test]
    fn kinds_are_named_like_the_servers_audit_kinds() {
        assert_eq!(AuditKind::LoginFailed.to_string(), "login.failed");
        assert_eq!(AuditKind::Refreshed.as_str(), "token.refreshed");
        assert!(AuditKind::SessionExpired.is_failure());
        assert!(!AuditKind::LoggedOut.is_failure());
    }
}
