//! The OpenID Connect statements both SQL backends run as they are (the
//! column encodings differ, the SQL does not).

/// Deletes up to `$2` authorization codes that expired before `$1`, spent
/// or not. A spent code is kept until then so that presenting it again
/// still finds it and revokes what it gave (RFC 6749 §4.1.2).
pub(crate) const PURGE_CODES: &str = "DELETE FROM oidc_codes WHERE hash IN (\
     SELECT hash FROM oidc_codes WHERE expires_at < $1 LIMIT $2)";

/// Marks revoked at `$4` the live sessions that client `$2` got for user
/// `$1` through browser session `$3`; returns their ids.
pub(crate) const REVOKE_CLIENT_SESSIONS: &str = "UPDATE sessions SET revoked_at = $4 \
     WHERE user_id = $1 AND oidc_client_id = $2 AND oidc_sid = $3 AND revoked_at IS NULL \
     RETURNING id";
