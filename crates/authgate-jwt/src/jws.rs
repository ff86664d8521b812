//! Compact JWS: signing, and verification with claim validation. The hot path.

use serde::Serialize;
use serde::de::{DeserializeOwned, DeserializeSeed};

use crate::claims::RegisteredSeed;
use crate::header::{RawHeader, typ_matches};
use crate::{Algorithm, Error, KeyResolver, SigningKey, Validation, b64};

/// Largest decoded header we read; real headers are under 200 bytes.
const MAX_HEADER_LEN: usize = 1024;
/// Largest decoded signature: RSA-8192 (the largest key aws-lc-rs accepts) is 1024 bytes.
const MAX_SIGNATURE_LEN: usize = 1024;

/// The three base64url parts of a compact JWS and the signing input (`header.payload`).
pub(crate) struct Parts<'a> {
    pub(crate) header: &'a [u8],
    pub(crate) payload: &'a [u8],
    pub(crate) signature: &'a [u8],
    pub(crate) signing_input: &'a [u8],
}

/// Splits a compact JWS; anything but exactly three parts (a JWE has five) is malformed.
pub(crate) fn split(token: &[u8]) -> Result<Parts<'_>, Error> {
    let mut dots = token
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'.')
        .map(|(i, _)| i);
    match (dots.next(), dots.next(), dots.next()) {
        (Some(first), Some(second), None) => Ok(Parts {
            header: &token[..first],
            payload: &token[first + 1..second],
            signature: &token[second + 1..],
            signing_input: &token[..second],
        }),
        _ => Err(Error::Malformed("a compact JWS has exactly three parts")),
    }
}

/// Verifies `token` and returns its claims as `T`.
///
/// In order: the length cap; the structure and header (`crit` refused, `alg`
/// must be one we implement); the key chosen by `kid` through `keys`, whose
/// algorithm must equal the header's; the signature; then `typ`, the time
/// claims against `now` (Unix seconds) with leeway, `iss`, `aud` and the
/// required claims; and last the conversion into `T`. Claims are not parsed
/// before the signature has verified.
///
/// # Errors
/// The [`Error`] variant naming the first check that failed.
pub fn verify<T: DeserializeOwned>(
    token: &str,
    keys: &(impl KeyResolver + ?Sized),
    validation: &Validation,
    now: i64,
) -> Result<T, Error> {
    if token.len() > validation.max_token_len {
        return Err(Error::TooLarge);
    }
    let parts = split(token.as_bytes())?;

    let mut header_buf = [0u8; MAX_HEADER_LEN];
    let header_len = b64::decode_slice(
        parts.header,
        &mut header_buf,
        "header is not base64url or too long",
    )?;
    let header: RawHeader<'_> = serde_json::from_slice(&header_buf[..header_len])
        .map_err(|_| Error::Malformed("header is not a JOSE header object"))?;
    if header.crit.is_some() {
        return Err(Error::CriticalHeader);
    }
    let alg = Algorithm::from_name(&header.alg).ok_or(Error::UnsupportedAlgorithm)?;
    let key = keys.resolve(header.kid.as_deref())?;
    if key.algorithm() != alg {
        return Err(Error::AlgorithmMismatch);
    }

    let mut sig_buf = [0u8; MAX_SIGNATURE_LEN];
    let sig_len = b64::decode_slice(
        parts.signature,
        &mut sig_buf,
        "signature is not base64url or too long",
    )?;
    key.verify_signature(parts.signing_input, &sig_buf[..sig_len])?;

    if let Some(expected) = &validation.typ {
        match &header.typ {
            Some(typ) if typ_matches(typ, expected) => {}
            _ => return Err(Error::InvalidType),
        }
    }
    let claims = b64::decode(parts.payload, "payload is not base64url")?;
    validate_claims(&claims, validation, now)?;
    serde_json::from_slice(&claims)
        .map_err(|_| Error::Malformed("claims do not fit the expected type"))
}

/// Applies `validation` to a claims JSON object.
fn validate_claims(json: &[u8], v: &Validation, now: i64) -> Result<(), Error> {
    const BAD: Error =
        Error::Malformed("claims are not a JSON object with well-typed registered claims");
    let mut de = serde_json::Deserializer::from_slice(json);
    let reg = RegisteredSeed {
        required: &v.required_claims,
    }
    .deserialize(&mut de)
    .map_err(|_| BAD)?;
    de.end().map_err(|_| BAD)?;

    for (i, name) in v.required_claims.iter().enumerate() {
        let present = i < 64 && reg.present & (1u64 << i) != 0;
        if !present {
            return Err(Error::MissingClaim(name.clone()));
        }
    }
    if reg
        .exp
        .is_some_and(|exp| now >= exp.saturating_add(v.leeway))
    {
        return Err(Error::Expired);
    }
    if v.validate_nbf
        && reg
            .nbf
            .is_some_and(|nbf| now.saturating_add(v.leeway) < nbf)
    {
        return Err(Error::NotYetValid);
    }
    if v.validate_iat
        && reg
            .iat
            .is_some_and(|iat| iat > now.saturating_add(v.leeway))
    {
        return Err(Error::IssuedInFuture);
    }
    if let Some(expected) = &v.issuer {
        match &reg.iss {
            None => return Err(Error::MissingClaim("iss".to_owned())),
            Some(iss) if iss != expected => return Err(Error::InvalidIssuer),
            Some(_) => {}
        }
    }
    if !v.ignore_audience {
        match (&reg.aud, v.audiences.is_empty()) {
            (None, true) => {}
            (None, false) => return Err(Error::MissingClaim("aud".to_owned())),
            (Some(_), true) => return Err(Error::InvalidAudience),
            (Some(aud), false) if !aud.contains_any(&v.audiences) => {
                return Err(Error::InvalidAudience);
            }
            (Some(_), false) => {}
        }
    }
    Ok(())
}

/// The header authgate writes: `alg`, then `typ` and `kid` when given.
#[derive(Serialize)]
struct HeaderOut<'a> {
    alg: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    typ: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
}

/// Signs `claims` with `key` into a compact JWS.
///
/// The header gets the key's `alg` and `kid`, and `typ` when given: `Some("at+jwt")`
/// for access tokens (RFC 9068), `Some("JWT")` for generic ones.
///
/// # Errors
/// [`Error::Serialize`] if `claims` do not serialise to a JSON object,
/// [`Error::Crypto`] if the crypto library fails.
pub fn sign<T: Serialize + ?Sized>(
    key: &SigningKey,
    typ: Option<&str>,
    claims: &T,
) -> Result<String, Error> {
    let header = serde_json::to_vec(&HeaderOut {
        alg: key.algorithm().as_str(),
        typ,
        kid: key.kid(),
    })
    .map_err(|_| Error::Serialize)?;
    let payload = serde_json::to_vec(claims).map_err(|_| Error::Serialize)?;
    if payload.first() != Some(&b'{') {
        return Err(Error::Serialize);
    }
    let mut token = String::with_capacity((header.len() + payload.len()) * 4 / 3 + 700);
    b64::encode_into(&header, &mut token);
    token.push('.');
    b64::encode_into(&payload, &mut token);
    let signing_input_len = token.len();
    token.push('.');
    let mut signature = String::with_capacity(700);
    key.sign_into(&token.as_bytes()[..signing_input_len], &mut signature)?;
    token.push_str(&signature);
    Ok(token)
}
