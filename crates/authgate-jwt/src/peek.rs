//! Reading a token without verifying it: for clients that display a token or
//! decide when to refresh it, never for deciding whom to trust.

use serde::de::{DeserializeOwned, IgnoredAny};

use crate::claims::{Registered, read_claims};
use crate::jws::split;
use crate::validation::DEFAULT_MAX_TOKEN_LEN;
use crate::{Error, Header, b64};

/// A token's header and claims, **not verified**: anyone can write these.
#[derive(Debug, Clone, PartialEq)]
pub struct Unverified<T> {
    /// The JOSE header as written in the token.
    pub header: Header,
    /// The claims as written in the token.
    pub claims: T,
}

/// Decodes header and claims without checking the signature or any claim.
///
/// For display and refresh scheduling only; a server must use [`verify`](crate::verify).
/// The structure and base64url of all three parts are still checked, and
/// tokens over 8 KiB are refused.
///
/// # Errors
/// [`Error::TooLarge`] or [`Error::Malformed`].
pub fn decode_unverified<T: DeserializeOwned>(token: &str) -> Result<Unverified<T>, Error> {
    let payload = checked_payload(token)?;
    let parts = split(token.as_bytes())?;
    let header = b64::decode(parts.header, "header is not base64url")?;
    if header.trim_ascii_start().first() != Some(&b'{') {
        return Err(Error::Malformed("header is not a JOSE header object"));
    }
    Ok(Unverified {
        header: serde_json::from_slice(&header)
            .map_err(|_| Error::Malformed("header is not a JOSE header object"))?,
        claims: read_claims(&payload, &[], &mut Registered::default())
            .map_err(|_| Error::Malformed("claims do not fit the expected type"))?,
    })
}

/// Whether the token's `exp` is at or before `now` (Unix seconds), unverified.
///
/// A token without `exp` never expires; a malformed token counts as expired,
/// so a client holding garbage goes to fetch a new token.
pub fn is_expired(token: &str, now: i64) -> bool {
    match expires_in(token, now) {
        Ok(Some(left)) => left <= 0,
        Ok(None) => false,
        Err(_) => true,
    }
}

/// Seconds from `now` until the token's `exp` (zero or negative once expired),
/// or `None` when it has no `exp`; unverified.
///
/// # Errors
/// [`Error::TooLarge`] or [`Error::Malformed`].
pub fn expires_in(token: &str, now: i64) -> Result<Option<i64>, Error> {
    let payload = checked_payload(token)?;
    let mut reg = Registered::default();
    read_claims::<IgnoredAny>(&payload, &[], &mut reg).map_err(|_| {
        Error::Malformed("claims are not a JSON object with well-typed registered claims")
    })?;
    Ok(reg.exp.map(|exp| exp.saturating_sub(now)))
}

/// Checks size and structure (all three parts canonical base64url) and returns the decoded payload.
fn checked_payload(token: &str) -> Result<String, Error> {
    if token.len() > DEFAULT_MAX_TOKEN_LEN {
        return Err(Error::TooLarge);
    }
    let parts = split(token.as_bytes())?;
    b64::decode(parts.signature, "signature is not base64url")?;
    let payload = b64::decode(parts.payload, "payload is not base64url")?;
    String::from_utf8(payload).map_err(|_| Error::Malformed("claims are not UTF-8"))
}
