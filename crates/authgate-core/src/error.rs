//! Errors of the domain and of storage, each mapped to one docs/http-api.md error code by the server.

/// Why a domain operation failed; each variant is one row of docs/http-api.md's error table.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// A field is missing or invalid; `field` names it and `reason` says why (safe to show).
    #[error("{field}: {reason}")]
    InvalidInput {
        /// The request field at fault.
        field: &'static str,
        /// A description safe to return to the client.
        reason: String,
    },
    /// Unknown user or wrong password: the two are indistinguishable on purpose.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The password was right but the account is disabled.
    #[error("account disabled")]
    AccountDisabled,
    /// The email or username (named) is already registered.
    #[error("{0} already registered")]
    Conflict(&'static str),
    /// A refresh token that is unknown, expired, revoked or reused.
    #[error("invalid grant")]
    InvalidGrant,
    /// A password-reset token that is unknown, used, replaced or expired,
    /// or was issued before the password last changed.
    #[error("invalid reset token")]
    InvalidResetToken,
    /// An email-verification token that is unknown, used, replaced or expired.
    #[error("invalid verification token")]
    InvalidVerificationToken,
    /// The password was right but the account's address is not verified
    /// and `auth.require_verified_email` is on.
    #[error("email not verified")]
    EmailNotVerified,
    /// A second-factor code that is wrong, expired or was already used
    /// (TOTP or recovery code).
    #[error("invalid second-factor code")]
    InvalidMfaCode,
    /// An `mfa_token` that is unknown, expired, used, worn out by wrong
    /// codes, or of another kind of login.
    #[error("invalid mfa token")]
    InvalidMfaToken,
    /// A second factor is already enabled: disable it before enrolling again.
    #[error("second factor already enabled")]
    MfaAlreadyEnabled,
    /// No enrolment waits for a confirming code.
    #[error("no second-factor enrolment pending")]
    MfaNotPending,
    /// Service-client authentication failed (unknown client or wrong secret).
    #[error("invalid client")]
    InvalidClient,
    /// A token request asked for a scope beyond the grant (RFC 6749 §5.2
    /// `invalid_scope`); nothing was changed.
    #[error("invalid scope")]
    InvalidScope,
    /// The caller is authenticated but its roles lack the permission.
    #[error("insufficient scope")]
    InsufficientScope,
    /// Too many login attempts (from the address, or failures on the
    /// account); try again after this many seconds.
    #[error("rate limited")]
    RateLimited(u64),
    /// Registration is closed by configuration.
    #[error("registration is closed")]
    RegistrationClosed,
    /// The resource does not exist or is not the caller's.
    #[error("not found")]
    NotFound,
    /// A backing store is down; nothing was half-written.
    #[error("store unavailable")]
    Unavailable(#[source] StoreError),
    /// The server cannot take this work now (every password-hashing thread
    /// is busy past the wait limit); nothing was changed, retry shortly.
    /// Expected under a login flood, so it is not logged as a failure.
    #[error("overloaded: {0}")]
    Overloaded(&'static str),
    /// A bug or an unexpected failure; the cause is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
    /// A store failed in a way that is neither an outage nor a conflict
    /// (corrupt data, a backend error); the cause is kept for the log,
    /// never shown.
    #[error("internal error: {0}")]
    Storage(#[source] StoreError),
}

/// Why a storage operation failed. `Clone`, so one failure can be the
/// answer of every write that shared it (a group commit).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store cannot be reached or timed out.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness rule was violated; the value names what (`"email"`, `"username"`, …).
    #[error("conflict on {0}")]
    Conflict(&'static str),
    /// The backend refused a text value it cannot store (PostgreSQL's
    /// SQLSTATE 22021 for a NUL, 22P05): a request the boundary's rules
    /// should have refused, so a 400 rather than a 500.
    #[error("text the store cannot hold: {0}")]
    Unstorable(String),
    /// Stored data cannot be decoded (a bug or tampering).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// Any other failure of the backend.
    #[error("store error: {0}")]
    Other(String),
}

impl From<StoreError> for AuthError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(_) => Self::Unavailable(err),
            StoreError::Conflict(what) => Self::Conflict(what),
            StoreError::Unstorable(why) => {
                tracing::warn!(error = %why, "text reached the store that input rules should have refused");
                Self::invalid(
                    "request",
                    "a text field holds a character that cannot be stored",
                )
            }
            other => Self::Storage(other),
        }
    }
}

impl AuthError {
    /// An [`AuthError::InvalidInput`] for `field`.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            field,
            reason: reason.into(),
        }
    }
}
