//! The statements of second factors whose text is the same on both
//! backends (their binds differ: see each `codec`).

/// The user's factor (`$1`).
pub(crate) const TOTP_FACTOR: &str = "SELECT user_id, sealed_secret, created_at, confirmed_at, \
     last_step FROM totp_factors WHERE user_id = $1";

/// A pending factor (`$1` user, `$2` sealed secret, `$3` created), replacing
/// a pending one; a confirmed one is left alone (no row affected).
pub(crate) const PUT_PENDING_TOTP: &str = "INSERT INTO totp_factors \
     (user_id, sealed_secret, created_at, confirmed_at, last_step) \
     VALUES ($1, $2, $3, NULL, NULL) \
     ON CONFLICT (user_id) DO UPDATE SET sealed_secret = excluded.sealed_secret, \
     created_at = excluded.created_at, last_step = NULL \
     WHERE totp_factors.confirmed_at IS NULL";

/// Confirms user `$1`'s pending factor if it still holds secret `$2`, at
/// `$3`, step `$4` used.
pub(crate) const CONFIRM_TOTP: &str = "UPDATE totp_factors SET confirmed_at = $3, last_step = $4 \
     WHERE user_id = $1 AND sealed_secret = $2 AND confirmed_at IS NULL";

/// Uses step `$2` of user `$1`'s confirmed factor if later than the last.
pub(crate) const USE_TOTP_STEP: &str = "UPDATE totp_factors SET last_step = $2 \
     WHERE user_id = $1 AND confirmed_at IS NOT NULL \
     AND (last_step IS NULL OR last_step < $2)";

/// Every recovery code of user `$1`.
pub(crate) const DELETE_RECOVERY_CODES: &str = "DELETE FROM recovery_codes WHERE user_id = $1";

/// A recovery code: `$1` hash, `$2` user, `$3` created.
pub(crate) const INSERT_RECOVERY_CODE: &str = "INSERT INTO recovery_codes \
     (hash, user_id, created_at, used_at) VALUES ($1, $2, $3, NULL)";

/// Uses user `$1`'s unused code of hash `$2` at `$3`.
pub(crate) const USE_RECOVERY_CODE: &str = "UPDATE recovery_codes SET used_at = $3 \
     WHERE hash = $2 AND user_id = $1 AND used_at IS NULL";

/// How many of user `$1`'s codes are unused.
pub(crate) const RECOVERY_CODES_LEFT: &str =
    "SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL";

/// User `$1`'s factor.
pub(crate) const DELETE_TOTP: &str = "DELETE FROM totp_factors WHERE user_id = $1";

/// User `$1`'s pending login steps.
pub(crate) const DELETE_USER_CHALLENGES: &str = "DELETE FROM mfa_challenges WHERE user_id = $1";

/// Login steps expired at `$1`.
pub(crate) const PURGE_CHALLENGES: &str = "DELETE FROM mfa_challenges WHERE expires_at <= $1";

/// A login step: `$1` hash, `$2` user, `$3` audience, `$4` browser,
/// `$5` created, `$6` expires.
pub(crate) const INSERT_CHALLENGE: &str = "INSERT INTO mfa_challenges \
     (hash, user_id, audience, browser, attempts, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, 0, $5, $6)";

/// One more attempt on step `$1` if live at `$2` and under `$3` attempts.
pub(crate) const ATTEMPT_CHALLENGE: &str = "UPDATE mfa_challenges SET attempts = attempts + 1 \
     WHERE hash = $1 AND expires_at > $2 AND attempts < $3 \
     RETURNING hash, user_id, audience, browser, created_at, expires_at";

/// Step `$1`, finished.
pub(crate) const TAKE_CHALLENGE: &str = "DELETE FROM mfa_challenges WHERE hash = $1";
