//! The statements of email-verification links whose text is the same on
//! both backends (their binds differ: see each `codec`).

/// Stores a link: hash, user, email, created, expires.
pub(crate) const INSERT_VERIFICATION: &str = "INSERT INTO email_verifications \
     (hash, user_id, email, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";

/// Ends user `$1`'s links still working at `$2` (they expire at `$2`); the
/// rows stay until purged, for the per-account hourly limit.
pub(crate) const END_USER_VERIFICATIONS: &str = "UPDATE email_verifications \
     SET expires_at = $2 WHERE user_id = $1 AND expires_at > $2";

/// Links issued to user `$1` at or after `$2`.
pub(crate) const COUNT_USER_VERIFICATIONS: &str =
    "SELECT count(*) FROM email_verifications WHERE user_id = $1 AND created_at >= $2";

/// The link with hash `$1`.
pub(crate) const VERIFICATION_BY_HASH: &str = "SELECT hash, user_id, email, created_at, \
     expires_at FROM email_verifications WHERE hash = $1";

/// Ends link `$1` if it still works at `$2`; returns its user. Of two
/// racing uses of one link, only one gets the row.
pub(crate) const TAKE_VERIFICATION: &str = "UPDATE email_verifications SET expires_at = $2 \
     WHERE hash = $1 AND expires_at > $2 RETURNING user_id";

/// Whether another account than `$2` has address `$1`.
pub(crate) const EMAIL_TAKEN: &str = "SELECT count(*) FROM users WHERE email = $1 AND id <> $2";

/// Sets user `$1`'s address to `$2`, verified at `$3`.
pub(crate) const SET_VERIFIED_EMAIL: &str = "UPDATE users \
     SET email = $2, email_verified_at = $3, updated_at = $3 WHERE id = $1";

/// Links expired before `$1`.
pub(crate) const PURGE_VERIFICATIONS: &str =
    "DELETE FROM email_verifications WHERE expires_at < $1";
