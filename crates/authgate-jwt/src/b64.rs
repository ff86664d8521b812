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

/// Decodes unpadded, canonical base64url.
///
/// Padding, characters outside the URL-safe alphabet and non-zero trailing
/// bits are all rejected: two spellings of one token must not both verify.
pub(crate) fn decode(input: &[u8], what: &'static str) -> Result<Vec<u8>, Error> {
    URL_SAFE_NO_PAD
        .decode(input)
        .map_err(|_| Error::Malformed(what))
}

/// Decodes into `out`, returning the decoded length; for fixed-size buffers
/// such as signatures, so the verify path does not allocate.
pub(crate) fn decode_slice(
    input: &[u8],
    out: &mut [u8],
    what: &'static str,
) -> Result<usize, Error> {
    URL_SAFE_NO_PAD
        .decode_slice(input, out)
        .map_err(|_| Error::Malformed(what))
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
    fn standard_alphabet_characters_are_malformed() {
        assert!(decode(b"+/8", "x").is_err());
        assert_eq!(decode(b"-_8", "x").unwrap(), vec![0xfb, 0xff]);
    }

    #[test]
    fn slice_decode_refuses_input_larger_than_the_buffer() {
        let mut buf = [0u8; 2];
        assert!(decode_slice(b"YWJjZA", &mut buf, "x").is_err());
        assert_eq!(decode_slice(b"YWI", &mut buf, "x").unwrap(), 2);
    }
}
