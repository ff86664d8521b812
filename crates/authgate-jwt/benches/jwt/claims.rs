//! The token every library signs and verifies: a realistic RFC 9068 access
//! token, and the header and claim traits oxitoken's validators read.

use oxitoken::claims::{Aud, Exp, Iat, Iss, Nbf};
use oxitoken::header::{Alg, Kid, Typ};
use serde::{Deserialize, Serialize};

/// authgate's clock during the bench (2025-06-15). It must not be ahead of
/// the system clock, which jsonwebtoken and oxitoken read instead.
pub(crate) const NOW: i64 = 1_750_000_000;
/// `exp` of the benched tokens: 2100-01-01, so the libraries that read the
/// system clock accept them too.
pub(crate) const FAR_FUTURE: i64 = 4_102_444_800;
/// The expected issuer.
pub(crate) const ISS: &str = "https://auth.example.com";
/// The expected audience: this resource server.
pub(crate) const AUD: &str = "https://api.example.com";
/// The expected header `typ` (RFC 9068).
pub(crate) const TYP: &str = "at+jwt";

/// The claims all three libraries deserialise into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AccessClaims {
    pub(crate) iss: String,
    pub(crate) sub: String,
    pub(crate) aud: String,
    pub(crate) exp: i64,
    pub(crate) iat: i64,
    pub(crate) nbf: i64,
    pub(crate) jti: String,
    pub(crate) sid: String,
    pub(crate) roles: Vec<String>,
}

impl AccessClaims {
    /// The benched claims: valid at [`NOW`] and at the real time until 2100.
    pub(crate) fn realistic() -> Self {
        Self {
            iss: ISS.to_owned(),
            sub: "3f6c1a9e-8b2d-4e7f-9a1c-5d2e8f7b3c4a".to_owned(),
            aud: AUD.to_owned(),
            exp: FAR_FUTURE,
            iat: NOW - 5,
            nbf: NOW - 5,
            jti: "01978f2a-6c3b-7d4e-8f5a-9b0c1d2e3f40".to_owned(),
            sid: "a7d3e9b1-2c4f-4a6e-b8d0-f1e3c5a7b9d2".to_owned(),
            roles: vec!["user".to_owned(), "admin".to_owned()],
        }
    }
}

impl Iss for AccessClaims {
    fn iss(&self) -> &str {
        &self.iss
    }
}

impl Aud for AccessClaims {
    fn aud(&self) -> impl Iterator<Item = impl AsRef<str>> {
        std::iter::once(self.aud.as_str())
    }
}

impl Exp for AccessClaims {
    fn exp(&self) -> i64 {
        self.exp
    }
}

impl Nbf for AccessClaims {
    fn nbf(&self) -> i64 {
        self.nbf
    }
}

impl Iat for AccessClaims {
    fn iat(&self) -> i64 {
        self.iat
    }
}

/// oxitoken's header type: `{"alg", "typ", "kid"}`, as authgate writes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OxiHeader {
    pub(crate) alg: oxitoken::Algorithm,
    pub(crate) typ: String,
    pub(crate) kid: String,
}

impl Alg for OxiHeader {
    fn alg(&self) -> oxitoken::Algorithm {
        self.alg
    }
}

impl Typ for OxiHeader {
    type Type = str;
    fn typ(&self) -> &str {
        &self.typ
    }
}

impl Kid for OxiHeader {
    fn kid(&self) -> &str {
        &self.kid
    }
}
