//! The statements of the mail outbox and password-reset tokens whose text
//! is the same on both backends (their binds differ: see each `codec`).

/// The columns every outbox query returns, in `MailRow` order.
macro_rules! mail_columns {
    () => {
        "id, kind, recipient, sender, sealed, attempts, created_at, next_attempt_at"
    };
}

/// Messages still waiting (delivered and abandoned ones have no next attempt).
pub(crate) const COUNT_PENDING_MAIL: &str =
    "SELECT count(*) FROM outbox WHERE next_attempt_at IS NOT NULL";

/// Queues a message: `$1`..`$8` in [`mail_columns`] order.
pub(crate) const INSERT_MAIL: &str = concat!(
    "INSERT INTO outbox (",
    mail_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
);

/// Up to `$2` messages due at `$1` (id and due time), oldest first.
pub(crate) const DUE_MAIL: &str = "SELECT id, next_attempt_at FROM outbox \
     WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $1 \
     ORDER BY next_attempt_at LIMIT $2";

/// Claims message `$1` if it is still due at `$2` (no other instance took
/// it meanwhile): one more attempt, the next one at `$3`.
pub(crate) const CLAIM_MAIL: &str = concat!(
    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $3 \
     WHERE id = $1 AND next_attempt_at = $2 RETURNING ",
    mail_columns!()
);

/// Message `$1` was delivered at `$2`: its text goes, the row stays for the limits.
pub(crate) const MAIL_SENT: &str = "UPDATE outbox SET sealed = NULL, next_attempt_at = NULL, \
     sent_at = $2, last_error = NULL WHERE id = $1";

/// Message `$1` failed: retried at `$2`, or (NULL) given up and its text wiped.
pub(crate) const MAIL_FAILED: &str = "UPDATE outbox SET next_attempt_at = $2, last_error = $3, \
     sealed = CASE WHEN $2 IS NULL THEN NULL ELSE sealed END WHERE id = $1";

/// Messages of kind `$2` queued for `$1` at or after `$3`.
pub(crate) const COUNT_MAIL_TO: &str =
    "SELECT count(*) FROM outbox WHERE recipient = $1 AND kind = $2 AND created_at >= $3";

/// Messages queued before `$1` that no longer wait.
pub(crate) const PURGE_MAIL: &str =
    "DELETE FROM outbox WHERE created_at < $1 AND next_attempt_at IS NULL";

/// Reset tokens expired before `$1`.
pub(crate) const PURGE_RESETS: &str = "DELETE FROM password_resets WHERE expires_at < $1";

/// Every reset token of user `$1`.
pub(crate) const DELETE_USER_RESETS: &str = "DELETE FROM password_resets WHERE user_id = $1";

/// Stores a reset token: hash, user, fingerprint, created, expires.
pub(crate) const INSERT_RESET: &str = "INSERT INTO password_resets \
     (hash, user_id, password_fingerprint, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";

/// The reset token with hash `$1`.
pub(crate) const RESET_BY_HASH: &str = "SELECT hash, user_id, password_fingerprint, created_at, \
     expires_at FROM password_resets WHERE hash = $1";

/// Takes (deletes) reset token `$1` if unexpired at `$2`; returns its user.
/// Of two racing resets with one token, only one gets the row.
pub(crate) const TAKE_RESET: &str =
    "DELETE FROM password_resets WHERE hash = $1 AND expires_at > $2 RETURNING user_id";
