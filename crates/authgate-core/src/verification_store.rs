//! The storage trait of email verification ([`VerificationStore`]): the
//! one-time links that prove an address, for a new account or for the
//! address an account asked to change to. Kept apart from `store.rs` and
//! `recovery_store.rs` so that it grows without touching them.

use async_trait::async_trait;
use authgate_proto::AuditEvent;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::mail::QueuedMail;
use crate::secrets::TokenHash;
use crate::store::StoreResult;

/// A verification link as stored: its hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationToken {
    /// SHA-256 of the token the link carries.
    pub hash: TokenHash,
    /// The account whose address it proves.
    pub user_id: Uuid,
    /// The address it proves (lower-cased): the account's own, or the one
    /// it asked to change to, which replaces it once proven.
    pub email: String,
    /// When it was issued.
    pub created_at: OffsetDateTime,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// What a used verification link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailVerified {
    /// The account's address before: the same as the token's for a plain
    /// verification, the old one for a change.
    pub previous_email: String,
}

/// Why a verification link could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyRefusal {
    /// Unknown, used, replaced by a newer link, or expired.
    Invalid,
    /// The address the link would change to belongs to another account now.
    EmailTaken,
}

/// Email-verification links, each write with its message and audit record.
#[async_trait]
pub trait VerificationStore: Send + Sync + std::fmt::Debug {
    /// In one transaction: queues `mail` (unless `max_pending` messages
    /// wait); when `token` is `Some`, ends the account's earlier links
    /// (their rows stay, expired, for [`verifications_since`](Self::verifications_since))
    /// and stores it; appends `audit`. Returns whether it was queued;
    /// `false` changes nothing.
    async fn request_verification(
        &self,
        token: Option<&VerificationToken>,
        mail: &QueuedMail,
        max_pending: u64,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool>;

    /// Links issued to account `user_id` at or after `since` (used,
    /// replaced or not): the per-account hourly limit.
    async fn verifications_since(&self, user_id: Uuid, since: OffsetDateTime) -> StoreResult<u64>;

    /// The link whose hash is `hash`, expired or not.
    async fn verification_token(&self, hash: &TokenHash) -> StoreResult<Option<VerificationToken>>;

    /// In one transaction, if `token` is still stored and unexpired at
    /// `now`: sets the account's address to the token's (unchanged for a
    /// plain verification) and marks it verified at `now`, ends every
    /// link of the account and appends `audit`. Changes nothing and says
    /// why otherwise (only one of two racing uses wins).
    async fn verify_email(
        &self,
        token: &VerificationToken,
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<Result<EmailVerified, VerifyRefusal>>;
}
