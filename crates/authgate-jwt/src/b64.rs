//! Canonical, unpadded base64url (RFC 7515 §2): the only encoding a JWS part may use.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::Error;

/// Encodes `bytes` as unpadded base64url, appending to `out`.
pub(crate) fn encode_into(bytes: &[u8], out: &mut String) {
    URL_SAFE_NO_PAD.encode_string(bytes, out);
}

/// Encodes `bytes` as unpadded base64url.
pub(crate) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Sextet value of each byte in the URL-safe alphabet; 0xff for anything else.
const DECODE: [u8; 256] = {
    let mut table = [0xff_u8; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut i = 0;
    while i < 64 {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// How many bytes `input` decodes to, or `None` for an impossible length.
fn decoded_len(input: &[u8]) -> Option<usize> {
    let tail = match input.len() % 4 {
        0 => 0,
        2 => 1,
        3 => 2,
        _ => return None,
    };
    Some(input.len() / 4 * 3 + tail)
}

/// Decodes unpadded, canonical base64url into `out`, returning the length.
///
/// Padding, characters outside the URL-safe alphabet and non-zero trailing
/// bits are all rejected: two spellings of one token must not both verify.
/// Hand-written because the verify path decodes every token and this is
/// measurably faster than a general-purpose engine (see the crate README).
pub(crate) fn decode_slice(
    input: &[u8],
    out: &mut [u8],
    what: &'static str,
) -> Result<usize, Error> {
    let len = decoded_len(input).ok_or(Error::Malformed(what))?;
    let out = out.get_mut(..len).ok_or(Error::Malformed(what))?;
    // Valid sextets are below 64; OR-ing every one shows whether any was invalid.
    let mut seen = 0u8;
    let mut chunks = input.chunks_exact(4);
    let mut outs = out.chunks_exact_mut(3);
    for (c, o) in (&mut chunks).zip(&mut outs) {
        let (a, b, c, d) = (
            DECODE[usize::from(c[0])],
            DECODE[usize::from(c[1])],
            DECODE[usize::from(c[2])],
            DECODE[usize::from(c[3])],
        );
        seen |= a | b | c | d;
        let n = u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d);
        o.copy_from_slice(&n.to_be_bytes()[1..]);
    }
    let tail_out = outs.into_remainder();
    match (chunks.remainder(), tail_out) {
        ([], []) => {}
        ([a, b], [x]) => {
            let (a, b) = (DECODE[usize::from(*a)], DECODE[usize::from(*b)]);
            // Canonical: the 4 bits past the byte must be zero.
            seen |= a | b | if b & 0x0f == 0 { 0 } else { 0x80 };
            *x = a << 2 | b >> 4;
        }
        ([a, b, c], [x, y]) => {
            let (a, b, c) = (
                DECODE[usize::from(*a)],
                DECODE[usize::from(*b)],
                DECODE[usize::from(*c)],
            );
            // Canonical: the 2 bits past the second byte must be zero.
            seen |= a | b | c | if c & 0x03 == 0 { 0 } else { 0x80 };
            *x = a << 2 | b >> 4;
            *y = b << 4 | c >> 2;
        }
        _ => return Err(Error::Malformed(what)),
    }
    if seen >= 64 {
        return Err(Error::Malformed(what));
    }
    Ok(len)
}

/// Decodes unpadded, canonical base64url into a new vector.
pub(crate) fn decode(input: &[u8], what: &'static str) -> Result<Vec<u8>, Error> {
    let mut out = vec![0u8; decoded_len(input).ok_or(Error::Malformed(what))?];
    decode_slice(input, &mut out, what)?;
    Ok(out)
}

/// Decodes into `stack` when it fits, else into `heap`: the verify path's
/// parts are small, so it rarely allocates, but large ones still work.
pub(crate) fn decode_part<'b>(
    input: &[u8],
    stack: &'b mut [u8],
    heap: &'b mut Vec<u8>,
    what: &'static str,
) -> Result<&'b [u8], Error> {
    let len = decoded_len(input).ok_or(Error::Malformed(what))?;
    let buf = if len <= stack.len() {
        stack
    } else {
        heap.resize(len, 0);
        &mut heap[..]
    };
    decode_slice(input, buf, what)?;
    Ok(&buf[..len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_input_is_malformed() {
        assert!(decode(b"YQ==", "x").is_err());
        assert_eq!(decode(b"YQ", "x").unwrap(), b"a");
    }

    #[test]
    fn non_canonical_trailing_bits_are_malformed() {
        // "YR" decodes to "a" too if trailing bits are ignored; only "YQ" is canonical.
        assert!(decode(b"YR", "x").is_err());
    }

    #[test]
    fn every_non_canonical_tail_is_malformed() {
        // Two-character tails carry 4 spare bits, three-character tails 2.
        for c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" {
            let two = [b'Q', *c];
            let three = [b'Q', b'Q', *c];
            assert_eq!(
                decode(&two, "x").is_ok(),
                DECODE[usize::from(*c)] & 0x0f == 0,
                "{}",
                *c as char
            );
            assert_eq!(
                decode(&three, "x").is_ok(),
                DECODE[usize::from(*c)] & 0x03 == 0,
                "{}",
                *c as char
            );
        }
    }

    #[test]
    fn standard_alphabet_characters_are_malformed() {
        assert!(decode(b"+/8", "x").is_err());
        assert_eq!(decode(b"-_8", "x").unwrap(), vec![0xfb, 0xff]);
    }

    #[test]
    fn agrees_with_the_base64_crate_on_every_length_and_byte() {
        let data: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for len in 0..data.len() {
            let text = URL_SAFE_NO_PAD.encode(&data[..len]);
            assert_eq!(decode(text.as_bytes(), "x").unwrap(), &data[..len]);
        }
    }

    #[test]
    fn impossible_lengths_and_foreign_bytes_are_malformed() {
        assert!(decode(b"A", "x").is_err());
        assert!(decode(b"AAAAA", "x").is_err());
        for bad in [b'.', b'=', b' ', 0x80, 0xff, 0] {
            assert!(decode(&[b'Q', b'Q', b'Q', bad], "x").is_err(), "{bad}");
            assert!(decode(&[b'Q', bad], "x").is_err(), "{bad}");
        }
    }

    #[test]
    fn slice_decode_refuses_input_larger_than_the_buffer() {
        let mut buf = [0u8; 2];
        assert!(decode_slice(b"YWJjZA", &mut buf, "x").is_err());
        assert_eq!(decode_slice(b"YWI", &mut buf, "x").unwrap(), 2);
    }
}
