//! The storage trait of second factors ([`MfaStore`]): a user's TOTP
//! factor (its secret sealed), recovery codes (hashes only) and the
//! pending second steps of logins. Kept apart from `store.rs` so that
//! second factors grow without touching the core traits.

use async_trait::async_trait;
use authgate_proto::AuditEvent;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::secrets::TokenHash;
use crate::store::StoreResult;

/// A user's TOTP factor as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpFactor {
    /// Whose it is (one factor per user).
    pub user_id: Uuid,
    /// The secret sealed under [`Purpose::TotpSecret`](crate::Purpose),
    /// the user id as context: a database dump alone gives no codes.
    pub sealed_secret: Vec<u8>,
    /// When enrolment began.
    pub created_at: OffsetDateTime,
    /// When a code confirmed it; `None` while pending (logins ignore it).
    pub confirmed_at: Option<OffsetDateTime>,
    /// The last time step whose code was accepted: no code of it or of an
    /// earlier step is accepted again (replay within the window).
    pub last_step: Option<i64>,
}

impl std::fmt::Debug for TotpFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpFactor")
            .field("user_id", &self.user_id)
            .field("created_at", &self.created_at)
            .field("confirmed_at", &self.confirmed_at)
            .field("last_step", &self.last_step)
            .finish_non_exhaustive()
    }
}

/// The second step of a login whose password was right: what the
/// `mfa_token` (only its hash is stored) continues into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaChallenge {
    /// SHA-256 of the `mfa_token`.
    pub hash: TokenHash,
    /// Who typed the right password.
    pub user_id: Uuid,
    /// The audience the login asked for.
    pub audience: String,
    /// Whether the login was a browser's (pages): a browser challenge
    /// never finishes an API login, nor the reverse.
    pub browser: bool,
    /// When the password was checked.
    pub created_at: OffsetDateTime,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// Second factors, each multi-row write in one transaction.
#[async_trait]
pub trait MfaStore: Send + Sync + std::fmt::Debug {
    /// The user's TOTP factor, pending or confirmed.
    async fn totp_factor(&self, user_id: Uuid) -> StoreResult<Option<TotpFactor>>;

    /// Stores a pending factor, replacing a pending one of the user;
    /// `false`, changing nothing, when the user has a confirmed factor.
    async fn put_pending_totp(&self, factor: &TotpFactor) -> StoreResult<bool>;

    /// Confirms the user's pending factor, if it is still the one sealed as
    /// `sealed_secret`: records `step` as used, replaces the user's
    /// recovery codes with `codes` (hashes) and appends `audit`, in one
    /// transaction. `false`, changing nothing, otherwise.
    async fn confirm_totp(
        &self,
        user_id: Uuid,
        sealed_secret: &[u8],
        step: i64,
        codes: &[TokenHash],
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool>;

    /// Records `step` as used on the user's confirmed factor if it is later
    /// than the last one used; `false` (a replay, or a racing request that
    /// used it first) otherwise.
    async fn use_totp_step(&self, user_id: Uuid, step: i64) -> StoreResult<bool>;

    /// Marks the user's unused recovery code with hash `hash` used at
    /// `now`; `false` when there is none (unknown or used already).
    async fn use_recovery_code(
        &self,
        user_id: Uuid,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> StoreResult<bool>;

    /// How many of the user's recovery codes are unused.
    async fn recovery_codes_left(&self, user_id: Uuid) -> StoreResult<u64>;

    /// Removes the user's factor, recovery codes and pending login steps,
    /// appending `audit` when there was a factor (pending or confirmed), in
    /// one transaction. Returns whether there was one.
    async fn remove_mfa(&self, user_id: Uuid, audit: Option<&AuditEvent>) -> StoreResult<bool>;

    /// Stores a login's second step (and deletes steps expired at its
    /// `created_at`).
    async fn insert_mfa_challenge(&self, challenge: &MfaChallenge) -> StoreResult<()>;

    /// Counts one attempt on the challenge with hash `hash` if it is live at
    /// `now` and has had fewer than `max_attempts`; returns it then, `None`
    /// otherwise (unknown, used, expired or worn out).
    async fn attempt_mfa_challenge(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
        max_attempts: u32,
    ) -> StoreResult<Option<MfaChallenge>>;

    /// Deletes the challenge with hash `hash`; whether this call did (of
    /// two racing completions, one only).
    async fn take_mfa_challenge(&self, hash: &TokenHash) -> StoreResult<bool>;
}
