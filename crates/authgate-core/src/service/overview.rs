//! The account page's overview of a user: their live sessions and latest
//! audit events, read from the store once and then served from a copy for
//! up to [`crate::FRESH_FOR`] while nothing about the user happened on this
//! instance (its audit mark stood still). A page loaded after any change
//! made here (a login, a revocation, a password change: each recorded with
//! the user's id) reads the store again; a change made by another instance
//! shows within that second, as for every cached record.

use std::sync::Arc;

use crate::model::AuditFilter;
use crate::records::AccountOverview;

use super::AuthService;
use super::sessions::SessionCaller;
use crate::error::AuthError;

impl AuthService {
    /// The caller's live sessions (at most `sessions`, newest first) and the
    /// latest events about them (at most `events`, newest first, this
    /// instance's queued ones included). Sessions may have ended since the
    /// read, by time (check `is_live` at the moment shown) or on another
    /// instance within the last second.
    ///
    /// # Errors
    /// Store errors.
    pub async fn account_overview(
        &self,
        who: &SessionCaller,
        sessions: u32,
        events: u32,
    ) -> Result<Arc<AccountOverview>, AuthError> {
        let now_ms = self.now_ms();
        let limits = (sessions, events);
        // The mark first: an event recorded during the reads below moves it,
        // and the copy kept is then already stale, never wrongly fresh.
        let mark = self.deps.audit.user_mark(&who.user_id);
        if let Some(copy) = self
            .deps
            .records
            .fresh_overview(&who.user_id, now_ms, mark, limits)
        {
            return Ok(copy);
        }
        let (live, _) = self.sessions_page(who, None, sessions).await?;
        let filter = AuditFilter {
            user_id: Some(who.user_id),
            limit: events,
            ..AuditFilter::default()
        };
        let overview = Arc::new(AccountOverview {
            sessions: live,
            events: self.audit_events(&filter).await?,
            mfa: self.mfa_state(who.user_id).await?,
            limits,
            mark,
        });
        self.deps
            .records
            .put_overview(who.user_id, Arc::clone(&overview), now_ms);
        Ok(overview)
    }
}
