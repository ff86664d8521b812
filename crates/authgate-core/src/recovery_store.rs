//! The storage traits of account recovery: the mail outbox ([`OutboxStore`])
//! and password-reset tokens ([`ResetStore`]). Kept apart from `store.rs`
//! so that recovery grows without touching the core traits.

use async_trait::async_trait;
use authgate_proto::AuditEvent;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::mail::QueuedMail;
use crate::secrets::TokenHash;
use crate::store::StoreResult;

/// A password-reset token as stored: its hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetToken {
    /// SHA-256 of the token the link carries.
    pub hash: TokenHash,
    /// The account it resets.
    pub user_id: Uuid,
    /// SHA-256 of the account's password hash when the token was issued:
    /// any change of the password since (a reset, a change, an
    /// administrator) makes the token useless.
    pub password_fingerprint: TokenHash,
    /// When it was issued.
    pub created_at: OffsetDateTime,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// The mail outbox: messages acknowledged to a user survive a restart and
/// are retried until delivered or given up.
#[async_trait]
pub trait OutboxStore: Send + Sync + std::fmt::Debug {
    /// Queues `mail` unless `max_pending` messages already wait.
    /// Returns whether it was queued.
    async fn queue_mail(&self, mail: &QueuedMail, max_pending: u64) -> StoreResult<bool>;

    /// Claims up to `limit` messages due at `now`: each gets one more
    /// attempt counted and its next attempt moved to `lease_until`, so that
    /// another instance (or a crash mid-send) retries it only after then.
    async fn claim_mail(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<QueuedMail>>;

    /// Records a delivery: the sealed message is wiped, the row kept (for
    /// the per-recipient limits) until purged.
    async fn mail_sent(&self, id: Uuid, now: OffsetDateTime) -> StoreResult<()>;

    /// Records a failed attempt: retried at `retry_at`, or given up (the
    /// message wiped) when `None`. `error` says why, without the message.
    async fn mail_failed(
        &self,
        id: Uuid,
        retry_at: Option<OffsetDateTime>,
        error: &str,
    ) -> StoreResult<()>;

    /// Messages of `kind` queued for `recipient` at or after `since`.
    async fn count_mail_to(
        &self,
        recipient: &str,
        kind: &str,
        since: OffsetDateTime,
    ) -> StoreResult<u64>;

    /// Messages still waiting to be delivered.
    async fn pending_mail(&self) -> StoreResult<u64>;

    /// Deletes messages queued before `before` that are no longer pending,
    /// and reset tokens that expired before it. Returns how many rows went.
    async fn purge_mail(&self, before: OffsetDateTime) -> StoreResult<u64>;
}

/// Password-reset tokens, each write with its message and audit record.
#[async_trait]
pub trait ResetStore: Send + Sync + std::fmt::Debug {
    /// In one transaction: queues `mail` (unless `max_pending` messages wait),
    /// replaces the user's earlier tokens with `token` (when `Some`: an
    /// address with no account has none) and appends `audit`. Returns
    /// whether it was queued; `false` changes nothing.
    async fn request_reset(
        &self,
        token: Option<&ResetToken>,
        mail: &QueuedMail,
        max_pending: u64,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool>;

    /// The token whose hash is `hash`, expired or not.
    async fn reset_token(&self, hash: &TokenHash) -> StoreResult<Option<ResetToken>>;

    /// In one transaction, if `token` is still stored, unexpired at `now`,
    /// and its account's password hash still has its fingerprint: sets the
    /// password hash to `new_hash`, deletes every token of the account,
    /// revokes every live session of it and appends `audit`. Returns the
    /// revoked sessions, or `None`, changing nothing (a token used or
    /// replaced meanwhile: only one of two racing resets wins).
    async fn reset_password(
        &self,
        token: &ResetToken,
        new_hash: &str,
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<Option<Vec<Uuid>>>;
}
