//! The JWS algorithms authgate signs and verifies with (RFC 7518 §3, RFC 8037).

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// A JWS signature algorithm, as named in a token's `alg` header.
///
/// Every key carries exactly one of these: a token is verified only with a key
/// whose algorithm equals the token's `alg` (RFC 8725 §3.1), so algorithm
/// confusion cannot happen. `none` is not a variant and never will be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC with SHA-256; the key is a shared secret of at least 32 bytes.
    HS256,
    /// HMAC with SHA-384; the key is a shared secret of at least 48 bytes.
    HS384,
    /// HMAC with SHA-512; the key is a shared secret of at least 64 bytes.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256, RSA keys of 2048 bits or more.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384, RSA keys of 2048 bits or more.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512, RSA keys of 2048 bits or more.
    RS512,
    /// RSASSA-PSS with SHA-256 and MGF1-SHA-256, RSA keys of 2048 bits or more.
    PS256,
    /// RSASSA-PSS with SHA-384 and MGF1-SHA-384, RSA keys of 2048 bits or more.
    PS384,
    /// RSASSA-PSS with SHA-512 and MGF1-SHA-512, RSA keys of 2048 bits or more.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// ECDSA on P-521 with SHA-512.
    ES512,
    /// EdDSA with Ed25519 (RFC 8037).
    EdDSA,
}

/// The kind of key an algorithm needs; also the JWK `kty` family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Hmac,
    Rsa,
    Ec,
    Okp,
}

impl Algorithm {
    /// Every supported algorithm, for iteration in tests and configuration help.
    pub const ALL: [Algorithm; 13] = [
        Self::HS256,
        Self::HS384,
        Self::HS512,
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::PS256,
        Self::PS384,
        Self::PS512,
        Self::ES256,
        Self::ES384,
        Self::ES512,
        Self::EdDSA,
    ];

    /// The name used in the JWS `alg` header and in JWKs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::ES512 => "ES512",
            Self::EdDSA => "EdDSA",
        }
    }

    /// Whether this is a shared-secret (HMAC) algorithm, whose keys must never be published.
    pub const fn is_symmetric(self) -> bool {
        matches!(self, Self::HS256 | Self::HS384 | Self::HS512)
    }

    pub(crate) const fn family(self) -> Family {
        match self {
            Self::HS256 | Self::HS384 | Self::HS512 => Family::Hmac,
            Self::RS256 | Self::RS384 | Self::RS512 | Self::PS256 | Self::PS384 | Self::PS512 => {
                Family::Rsa
            }
            Self::ES256 | Self::ES384 | Self::ES512 => Family::Ec,
            Self::EdDSA => Family::Okp,
        }
    }

    /// Parses an `alg` value exactly (case-sensitive, as RFC 7515 §4.1.1 requires).
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "HS256" => Self::HS256,
            "HS384" => Self::HS384,
            "HS512" => Self::HS512,
            "RS256" => Self::RS256,
            "RS384" => Self::RS384,
            "RS512" => Self::RS512,
            "PS256" => Self::PS256,
            "PS384" => Self::PS384,
            "PS512" => Self::PS512,
            "ES256" => Self::ES256,
            "ES384" => Self::ES384,
            "ES512" => Self::ES512,
            "EdDSA" => Self::EdDSA,
            _ => return None,
        })
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    /// Parses an algorithm name; `none` and unknown names are [`Error::UnsupportedAlgorithm`].
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::from_name(s).ok_or(Error::UnsupportedAlgorithm)
    }
}

impl serde::Serialize for Algorithm {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Algorithm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::from_name(&name).ok_or_else(|| serde::de::Error::custom("unsupported JWS algorithm"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_round_trips_through_its_name() {
        for alg in Algorithm::ALL {
            assert_eq!(alg.as_str().parse::<Algorithm>().unwrap(), alg);
        }
    }

    #[test]
    fn none_and_lowercase_names_are_unsupported() {
        for name in ["none", "None", "hs256", "eddsa", "ES256K", "Ed448", ""] {
            assert!(matches!(
                name.parse::<Algorithm>(),
                Err(Error::UnsupportedAlgorithm)
            ));
        }
    }
}
