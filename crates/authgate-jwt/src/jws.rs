//! Compact JWS: signing, and verification with claim validation. The hot path.

use std::mem::MaybeUninit;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::claims::{Registered, read_claims};
use crate::header::{RawHeader, header_json, typ_matches};
use crate::{Algorithm, Error, KeyResolver, SigningKey, Validation, b64};

// Parts up to these decoded sizes are decoded on the stack; larger ones (up
// to the token length cap) on the heap. Sized for real tokens: headers are
// under 200 bytes, access-token claims under 1 KiB, and RSA-4096 signatures 512 bytes.
const HEADER_STACK_LEN: usize = 256;
const CLAIMS_STACK_LEN: usize = 1024;
const SIGNATURE_STACK_LEN: usize = 512;

/// The three base64url parts of a compact JWS and the signing input (`header.payload`).
pub(crate) struct Parts<'a> {
    pub(crate) header: &'a [u8],
    pub(crate) payload: &'a [u8],
    pub(crate) signature: &'a [u8],
    pub(crate) signing_input: &'a [u8],
}

/// Splits a compact JWS; anything but exactly three parts (a JWE has five) is malformed.
///
/// The first and last dots are found from the ends, then the payload is
/// checked to hold no further dot.
pub(crate) fn split(token: &[u8]) -> Result<Parts<'_>, Error> {
    let first = memchr::memchr(b'.', token);
    let second = memchr::memrchr(b'.', token);
    match (first, second) {
        // A third dot makes 4- and 5-part tokens (JWE) malformed before any
        // key or signature is looked at.
        (Some(first), Some(second))
            if first < second && memchr::memchr(b'.', &token[first + 1..second]).is_none() =>
        {
            Ok(Parts {
                header: &token[..first],
                payload: &token[first + 1..second],
                signature: &token[second + 1..],
                signing_input: &token[..second],
            })
        }
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

    // Headers authgate wrote with one of these keys are known byte for byte;
    // anything else is decoded and parsed.
    // Buffers for a parsed header, filled only on that path.
    let (mut header_stack, mut header_heap);
    let parsed: RawHeader<'_>;
    let (key, typ) = match keys.resolve_known_header(parts.header) {
        Some((key, typ)) => (key, typ),
        None => {
            (header_stack, header_heap) = ([MaybeUninit::uninit(); HEADER_STACK_LEN], Vec::new());
            parsed = parse_header(parts.header, &mut header_stack, &mut header_heap)?;
            let alg = Algorithm::from_name(&parsed.alg).ok_or(Error::UnsupportedAlgorithm)?;
            let key = keys.resolve(parsed.kid.as_deref())?;
            if key.algorithm() != alg {
                return Err(Error::AlgorithmMismatch);
            }
            (key, parsed.typ.as_deref())
        }
    };

    let (mut stack, mut heap) = ([MaybeUninit::uninit(); SIGNATURE_STACK_LEN], Vec::new());
    let signature = b64::decode_part(
        parts.signature,
        &mut stack,
        &mut heap,
        "signature is not base64url",
    )?;
    key.verify_signature(parts.signing_input, signature)?;

    if let Some(expected) = &validation.typ {
        match typ {
            Some(typ) if typ_matches(typ, expected) => {}
            _ => return Err(Error::InvalidType),
        }
    }
    let (mut stack, mut heap) = ([MaybeUninit::uninit(); CLAIMS_STACK_LEN], Vec::new());
    let claims = b64::decode_part(
        parts.payload,
        &mut stack,
        &mut heap,
        "payload is not base64url",
    )?;
    let claims =
        std::str::from_utf8(claims).map_err(|_| Error::Malformed("claims are not UTF-8"))?;
    let mut registered = Registered::default();
    match read_claims::<T>(claims, &validation.required_claims, &mut registered) {
        Ok(value) => {
            validate_claims(&registered, validation, now)?;
            Ok(value)
        }
        // A type that failed only at the end (a missing field) still lets
        // validation name what is wrong with the token itself.
        Err(_) if registered.complete => {
            validate_claims(&registered, validation, now)?;
            Err(Error::Malformed("claims do not fit the expected type"))
        }
        Err(_) => Err(Error::Malformed(
            "claims are not a JSON object with well-typed registered claims",
        )),
    }
}

/// Decodes and parses a header segment; `crit` in any form is refused.
fn parse_header<'b>(
    segment: &[u8],
    stack: &'b mut [MaybeUninit<u8>],
    heap: &'b mut Vec<u8>,
) -> Result<RawHeader<'b>, Error> {
    let header = b64::decode_part(segment, stack, heap, "header is not base64url")?;
    let header =
        std::str::from_utf8(header).map_err(|_| Error::Malformed("header is not UTF-8"))?;
    if !header.trim_start().starts_with('{') {
        return Err(Error::Malformed("header is not a JOSE header object"));
    }
    let header: RawHeader<'_> = serde_json::from_str(header)
        .map_err(|_| Error::Malformed("header is not a JOSE header object"))?;
    if header.crit {
        return Err(Error::CriticalHeader);
    }
    Ok(header)
}

/// Applies `validation` to the registered claims read from a token.
fn validate_claims(reg: &Registered<'_>, v: &Validation, now: i64) -> Result<(), Error> {
    for (i, name) in v.required_claims.iter().enumerate() {
        let present = i < 64 && reg.present & (1u64 << i) != 0;
        if !present {
            return Err(Error::MissingClaim(name.clone()));
        }
    }
    v.check_time(reg.exp, reg.nbf, reg.iat, now)?;
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
    let header = header_json(key.algorithm(), typ, key.kid())?;
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
