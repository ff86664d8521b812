//! Just enough DER to read SubjectPublicKeyInfo and PKCS#1 RSAPublicKey, and to
//! write the latter: aws-lc-rs parses keys, but JWK export needs the raw
//! numbers and points, which it does not expose for every key type.

use crate::Error;

const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OID: u8 = 0x06;
const TAG_SEQUENCE: u8 = 0x30;

pub(crate) const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
pub(crate) const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
pub(crate) const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
pub(crate) const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
pub(crate) const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
pub(crate) const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

const BAD: Error = Error::InvalidKey("malformed DER");

/// Reads one tag-length-value, returning `(content, rest)`; only minimal definite lengths are accepted.
fn read(input: &[u8], tag: u8) -> Result<(&[u8], &[u8]), Error> {
    let (&t, rest) = input.split_first().ok_or(BAD)?;
    if t != tag {
        return Err(BAD);
    }
    let (&first, mut rest) = rest.split_first().ok_or(BAD)?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 2 || rest.len() < n {
            return Err(BAD);
        }
        let mut len = 0usize;
        for &b in &rest[..n] {
            len = (len << 8) | usize::from(b);
        }
        rest = &rest[n..];
        if len < 0x80 || (n == 2 && len < 0x100) {
            return Err(BAD);
        }
        len
    };
    if rest.len() < len {
        return Err(BAD);
    }
    Ok(rest.split_at(len))
}

/// The parts of a SubjectPublicKeyInfo we need.
#[derive(Debug)]
pub(crate) struct Spki<'a> {
    /// Algorithm OID (content bytes).
    pub(crate) algorithm: &'a [u8],
    /// Named-curve OID for EC keys.
    pub(crate) curve: Option<&'a [u8]>,
    /// The BIT STRING's key bytes (unused-bits octet removed).
    pub(crate) key: &'a [u8],
}

/// Parses a DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7).
pub(crate) fn parse_spki(der: &[u8]) -> Result<Spki<'_>, Error> {
    let (spki, trailing) = read(der, TAG_SEQUENCE)?;
    if !trailing.is_empty() {
        return Err(BAD);
    }
    let (alg_id, rest) = read(spki, TAG_SEQUENCE)?;
    let (algorithm, params) = read(alg_id, TAG_OID)?;
    let curve = if params.first() == Some(&TAG_OID) {
        Some(read(params, TAG_OID)?.0)
    } else {
        None
    };
    let (bits, trailing) = read(rest, TAG_BIT_STRING)?;
    if !trailing.is_empty() {
        return Err(BAD);
    }
    match bits.split_first() {
        Some((0, key)) => Ok(Spki {
            algorithm,
            curve,
            key,
        }),
        _ => Err(BAD),
    }
}

/// Parses a PKCS#1 RSAPublicKey into `(n, e)`, big-endian without leading zeros.
pub(crate) fn parse_rsa_public_key(der: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    let (seq, trailing) = read(der, TAG_SEQUENCE)?;
    if !trailing.is_empty() {
        return Err(BAD);
    }
    let (n, rest) = read(seq, TAG_INTEGER)?;
    let (e, rest) = read(rest, TAG_INTEGER)?;
    if !rest.is_empty() {
        return Err(BAD);
    }
    Ok((strip_zeros(n), strip_zeros(e)))
}

fn strip_zeros(mut n: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = n {
        n = rest;
    }
    n
}

/// Writes a PKCS#1 RSAPublicKey for the big-endian `n` and `e`.
pub(crate) fn encode_rsa_public_key(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(n.len() + e.len() + 16);
    write_integer(&mut body, strip_zeros(n));
    write_integer(&mut body, strip_zeros(e));
    let mut out = Vec::with_capacity(body.len() + 4);
    write_header(&mut out, TAG_SEQUENCE, body.len());
    out.extend_from_slice(&body);
    out
}

fn write_integer(out: &mut Vec<u8>, magnitude: &[u8]) {
    let pad = magnitude.first().is_none_or(|&b| b & 0x80 != 0);
    write_header(out, TAG_INTEGER, magnitude.len() + usize::from(pad));
    if pad {
        out.push(0);
    }
    out.extend_from_slice(magnitude);
}

fn write_header(out: &mut Vec<u8>, tag: u8, len: usize) {
    out.push(tag);
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_public_key_round_trips_with_high_bit_modulus() {
        let n = vec![0xc0; 256];
        let e = [0x01, 0x00, 0x01];
        let der = encode_rsa_public_key(&n, &e);
        assert_eq!(parse_rsa_public_key(&der).unwrap(), (&n[..], &e[..]));
    }

    #[test]
    fn non_minimal_lengths_are_rejected() {
        // INTEGER 5 written with a long-form length.
        let der = [
            TAG_SEQUENCE,
            0x07,
            TAG_INTEGER,
            0x81,
            0x01,
            0x05,
            TAG_INTEGER,
            0x01,
            0x03,
        ];
        assert!(parse_rsa_public_key(&der).is_err());
    }

    #[test]
    fn truncated_input_is_rejected_without_panicking() {
        let der = encode_rsa_public_key(&[0x7f; 300], &[3]);
        for cut in 0..der.len() {
            assert!(parse_rsa_public_key(&der[..cut]).is_err());
        }
    }
}
