//! The JOSE header: the borrowed form the verify path reads, and the owned form
//! that [`decode_unverified`](crate::decode_unverified) hands to callers.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::{Algorithm, Error};

/// A token's JOSE header, as read without verification.
///
/// `alg` is kept as the raw string so that tools can display tokens with
/// algorithms we refuse to verify (`none`, say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The algorithm the token claims to be signed with.
    pub alg: String,
    /// Media type of the token (`JWT`, `at+jwt`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// Id of the key that signed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Content type, for nested tokens (which authgate never produces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cty: Option<String>,
}

/// The header fields verification looks at, borrowed from the decoded JSON.
///
/// Any other parameter (`jku`, `jwk`, `x5u`, …) is ignored on purpose: keys
/// come from the verifier's configuration, never from the token (RFC 8725 §3.10).
#[derive(Deserialize)]
pub(crate) struct RawHeader<'a> {
    #[serde(borrow)]
    pub(crate) alg: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) typ: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) kid: Option<Cow<'a, str>>,
    /// Whether a `crit` member is present at all, whatever its value (even `null`).
    #[serde(default, deserialize_with = "present")]
    pub(crate) crit: bool,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(d).map(|_| true)
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

/// The JSON header [`sign`](crate::sign) writes for a key of `alg` and `kid`.
pub(crate) fn header_json(
    alg: Algorithm,
    typ: Option<&str>,
    kid: Option<&str>,
) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(&HeaderOut {
        alg: alg.as_str(),
        typ,
        kid,
    })
    .map_err(|_| Error::Serialize)
}

/// The `typ` values whose headers a key knows in advance: none, `JWT`, and
/// `at+jwt` (RFC 9068 access tokens, what authgate issues).
const KNOWN_TYPS: [Option<&str>; 3] = [None, Some("JWT"), Some("at+jwt")];

/// The encoded headers authgate signs with one key, so that verification
/// can recognise them by a byte comparison instead of decoding and parsing.
///
/// A match means the header holds exactly `alg`, `kid` and this `typ`, no
/// `crit` and nothing else: what parsing it would have found. Any other
/// header, however equivalent, goes through the full parse.
#[derive(Clone, Debug, Default)]
pub(crate) struct KnownHeaders {
    encoded: Vec<(Box<[u8]>, Option<&'static str>)>,
}

impl KnownHeaders {
    pub(crate) fn new(alg: Algorithm, kid: Option<&str>) -> Self {
        // A header that cannot be written is simply not known (and `sign`
        // refuses to write it).
        let encoded = KNOWN_TYPS
            .iter()
            .filter_map(|&typ| {
                let json = header_json(alg, typ, kid).ok()?;
                let mut b64 = String::new();
                crate::b64::encode_into(&json, &mut b64);
                Some((b64.into_bytes().into_boxed_slice(), typ))
            })
            .collect();
        Self { encoded }
    }

    /// The `typ` of `segment` if it is one of these headers.
    pub(crate) fn typ_of(&self, segment: &[u8]) -> Option<Option<&'static str>> {
        self.encoded
            .iter()
            .find(|(known, _)| **known == *segment)
            .map(|(_, typ)| *typ)
    }
}

/// Whether a header `typ` names `expected`, comparing as RFC 7515 §4.1.9 asks:
/// case-insensitively, with the `application/` prefix optional.
pub(crate) fn typ_matches(typ: &str, expected: &str) -> bool {
    fn strip(t: &str) -> &str {
        match t.get(..12) {
            Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &t[12..],
            _ => t,
        }
    }
    strip(typ).eq_ignore_ascii_case(strip(expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typ_comparison_ignores_case_and_application_prefix() {
        assert!(typ_matches("at+jwt", "at+jwt"));
        assert!(typ_matches("application/AT+JWT", "at+jwt"));
        assert!(typ_matches("at+jwt", "application/at+jwt"));
        assert!(!typ_matches("JWT", "at+jwt"));
        assert!(!typ_matches("application/", "at+jwt"));
    }
}
