//! Public (or shared-secret) keys that verify signatures, parsed once at load time.

use std::fmt;

use aws_lc_rs::digest;
use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, ParsedPublicKey, VerificationAlgorithm};

use crate::algorithm::Family;
use crate::der;
use crate::header::KnownHeaders;
use crate::{Algorithm, Error};

/// Smallest RSA modulus we accept, in bytes (2048 bits; RFC 7518 §3.3).
pub(crate) const MIN_RSA_BYTES: usize = 256;

/// A key that verifies signatures of exactly one [`Algorithm`].
///
/// Parsing happens when the key is built; verifying does no parsing and no
/// allocation. For HMAC algorithms this holds the shared secret, so it is
/// never exported as a JWK and its `Debug` output hides it.
#[derive(Clone)]
pub struct VerifyingKey {
    /// The one algorithm this key verifies; tokens naming another are refused.
    alg: Algorithm,
    /// Key id matched against the token header's `kid`.
    kid: Option<Box<str>>,
    /// The parsed key, ready for the crypto library.
    inner: Inner,
    /// The headers authgate signs with this `alg` and `kid`, encoded.
    known_headers: KnownHeaders,
}

#[derive(Clone)]
enum Inner {
    /// Boxed: the precomputed HMAC context is over a kilobyte.
    Hmac(Box<hmac::Key>),
    Public {
        key: ParsedPublicKey,
        /// The public numbers, kept for JWK export and thumbprints.
        params: PublicParams,
    },
}

/// The public numbers of an asymmetric key, as a JWK spells them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PublicParams {
    Rsa {
        n: Box<[u8]>,
        e: Box<[u8]>,
    },
    Ec {
        crv: &'static str,
        x: Box<[u8]>,
        y: Box<[u8]>,
    },
    Ed25519 {
        x: Box<[u8]>,
    },
}

impl VerifyingKey {
    /// A key verifying HMAC tokens with a shared `secret`.
    ///
    /// # Errors
    /// [`Error::KeyUsage`] if `alg` is not an HMAC algorithm, [`Error::InvalidKey`]
    /// if the secret is shorter than the hash output (RFC 7518 §3.2).
    pub fn from_secret(alg: Algorithm, secret: &[u8]) -> Result<Self, Error> {
        Ok(Self::new(
            alg,
            Inner::Hmac(Box::new(hmac_key(alg, secret)?)),
        ))
    }

    /// A key from a DER SubjectPublicKeyInfo (what `-----BEGIN PUBLIC KEY-----` holds).
    ///
    /// # Errors
    /// [`Error::InvalidKey`] if the DER is malformed, of another key type than
    /// `alg` needs, on the wrong curve, or an RSA key under 2048 bits.
    pub fn from_public_key_der(alg: Algorithm, der: &[u8]) -> Result<Self, Error> {
        let spki = der::parse_spki(der)?;
        let params = match (alg.family(), spki.algorithm) {
            (Family::Rsa, der::OID_RSA) => {
                let (n, e) = der::parse_rsa_public_key(spki.key)?;
                PublicParams::Rsa {
                    n: n.into(),
                    e: e.into(),
                }
            }
            (Family::Ec, der::OID_EC) => {
                let expected = curve_oid(alg);
                if spki.curve != Some(expected) {
                    return Err(Error::InvalidKey(
                        "EC key is on another curve than the algorithm's",
                    ));
                }
                ec_params(alg, spki.key)?
            }
            (Family::Okp, der::OID_ED25519) => PublicParams::Ed25519 { x: spki.key.into() },
            (Family::Hmac, _) => {
                return Err(Error::KeyUsage("HMAC keys are secrets, not public keys"));
            }
            _ => {
                return Err(Error::InvalidKey(
                    "public key type does not match the algorithm",
                ));
            }
        };
        Self::from_params(alg, params)
    }

    /// A key from a PEM `PUBLIC KEY` block.
    ///
    /// # Errors
    /// As [`from_public_key_der`](Self::from_public_key_der), plus [`Error::InvalidKey`] for bad PEM.
    pub fn from_public_key_pem(alg: Algorithm, pem: &str) -> Result<Self, Error> {
        let block = pem::parse(pem).map_err(|_| Error::InvalidKey("malformed PEM"))?;
        if block.tag() != "PUBLIC KEY" {
            return Err(Error::InvalidKey("expected a PEM PUBLIC KEY block"));
        }
        Self::from_public_key_der(alg, block.contents())
    }

    /// Builds and checks a key from its public numbers.
    pub(crate) fn from_params(alg: Algorithm, params: PublicParams) -> Result<Self, Error> {
        let key = match &params {
            PublicParams::Rsa { n, e } => {
                // Leading zero bytes (which RFC 7518 forbids anyway) do not make a key longer.
                let significant = n.iter().position(|&b| b != 0).map_or(0, |i| n.len() - i);
                if significant < MIN_RSA_BYTES {
                    return Err(Error::InvalidKey("RSA keys must have at least 2048 bits"));
                }
                ParsedPublicKey::new(verification_alg(alg), der::encode_rsa_public_key(n, e))
            }
            PublicParams::Ec { x, y, .. } => {
                let mut point = Vec::with_capacity(1 + x.len() + y.len());
                point.push(0x04);
                point.extend_from_slice(x);
                point.extend_from_slice(y);
                ParsedPublicKey::new(verification_alg(alg), point)
            }
            PublicParams::Ed25519 { x } => ParsedPublicKey::new(verification_alg(alg), x),
        }
        .map_err(|_| Error::InvalidKey("public key rejected by the crypto library"))?;
        Ok(Self::new(alg, Inner::Public { key, params }))
    }

    fn new(alg: Algorithm, inner: Inner) -> Self {
        Self {
            alg,
            kid: None,
            inner,
            known_headers: KnownHeaders::new(alg, None),
        }
    }

    /// Sets the key id published in JWKS and matched against token headers.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        let kid = kid.into();
        self.known_headers = KnownHeaders::new(self.alg, Some(&kid));
        self.kid = Some(kid.into_boxed_str());
        self
    }

    /// The `typ` of an encoded token header when it is byte for byte one
    /// that [`sign`](crate::sign) writes with this key's `alg` and `kid`
    /// (`typ` absent, `JWT` or `at+jwt`), so verification can skip parsing
    /// it. `None` for any other header, which is then parsed.
    pub fn header_typ(&self, segment: &[u8]) -> Option<Option<&'static str>> {
        self.known_headers.typ_of(segment)
    }

    /// The algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key id, if one was set.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The public key as a DER SubjectPublicKeyInfo.
    ///
    /// # Errors
    /// [`Error::KeyUsage`] for HMAC keys, which have no public half.
    pub fn to_public_key_der(&self) -> Result<Vec<u8>, Error> {
        use aws_lc_rs::encoding::AsDer;
        match &self.inner {
            Inner::Hmac(_) => Err(Error::KeyUsage("HMAC keys have no public key")),
            Inner::Public { key, .. } => key
                .as_der()
                .map(|d| d.as_ref().to_vec())
                .map_err(|_| Error::Crypto),
        }
    }

    /// The public key as a PEM `PUBLIC KEY` block.
    ///
    /// # Errors
    /// [`Error::KeyUsage`] for HMAC keys.
    pub fn to_public_key_pem(&self) -> Result<String, Error> {
        let der = self.to_public_key_der()?;
        Ok(pem::encode(&pem::Pem::new("PUBLIC KEY", der)))
    }

    pub(crate) fn params(&self) -> Option<&PublicParams> {
        match &self.inner {
            Inner::Hmac(_) => None,
            Inner::Public { params, .. } => Some(params),
        }
    }

    /// Checks `signature` over `message`; HMAC tags are compared in constant time.
    #[inline]
    pub(crate) fn verify_signature(&self, message: &[u8], signature: &[u8]) -> Result<(), Error> {
        let ok = match &self.inner {
            Inner::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
            Inner::Public { key, .. } => key.verify_sig(message, signature).is_ok(),
        };
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidSignature)
        }
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// An HMAC key, refusing secrets shorter than the hash (RFC 7518 §3.2).
pub(crate) fn hmac_key(alg: Algorithm, secret: &[u8]) -> Result<hmac::Key, Error> {
    let (hmac_alg, min) = match alg {
        Algorithm::HS256 => (hmac::HMAC_SHA256, 32),
        Algorithm::HS384 => (hmac::HMAC_SHA384, 48),
        Algorithm::HS512 => (hmac::HMAC_SHA512, 64),
        _ => return Err(Error::KeyUsage("not an HMAC algorithm")),
    };
    if secret.len() < min {
        return Err(Error::InvalidKey(
            "HMAC secret is shorter than the hash output",
        ));
    }
    Ok(hmac::Key::new(hmac_alg, secret))
}

fn verification_alg(alg: Algorithm) -> &'static dyn VerificationAlgorithm {
    match alg {
        Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
        Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
        Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
        Algorithm::ES512 => &signature::ECDSA_P521_SHA512_FIXED,
        // HMAC never reaches here: callers build Inner::Hmac for it.
        Algorithm::EdDSA | Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            &signature::ED25519
        }
    }
}

/// The JWK `crv` name and coordinate length of an EC algorithm.
pub(crate) fn curve(alg: Algorithm) -> (&'static str, usize) {
    match alg {
        Algorithm::ES384 => ("P-384", 48),
        Algorithm::ES512 => ("P-521", 66),
        _ => ("P-256", 32),
    }
}

fn curve_oid(alg: Algorithm) -> &'static [u8] {
    match alg {
        Algorithm::ES384 => der::OID_P384,
        Algorithm::ES512 => der::OID_P521,
        _ => der::OID_P256,
    }
}

/// Splits an uncompressed SEC1 point into JWK coordinates.
pub(crate) fn ec_params(alg: Algorithm, point: &[u8]) -> Result<PublicParams, Error> {
    let (crv, len) = curve(alg);
    match point.split_first() {
        Some((0x04, xy)) if xy.len() == 2 * len => {
            let (x, y) = xy.split_at(len);
            Ok(PublicParams::Ec {
                crv,
                x: x.into(),
                y: y.into(),
            })
        }
        _ => Err(Error::InvalidKey(
            "EC public key is not an uncompressed point on the curve",
        )),
    }
}

/// SHA-256 helper shared by thumbprints.
pub(crate) fn sha256(data: &[u8]) -> digest::Digest {
    digest::digest(&digest::SHA256, data)
}
