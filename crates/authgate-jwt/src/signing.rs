//! Private (or shared-secret) keys that sign tokens: generate, import, export.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair, RsaEncoding, RsaKeyPair,
};
use zeroize::Zeroizing;

use crate::algorithm::Family;
use crate::verifying::{MIN_RSA_BYTES, PublicParams, ec_params, hmac_key};
use crate::{Algorithm, Error, VerifyingKey, b64};

/// A key that signs tokens with exactly one [`Algorithm`].
///
/// Asymmetric keys get their RFC 7638 thumbprint as `kid` unless one is set;
/// HMAC keys get no `kid` by default, since a thumbprint of a secret would
/// let anyone test guesses of it offline. `Debug` never shows key material.
pub struct SigningKey {
    /// The algorithm every token signed by this key declares.
    alg: Algorithm,
    /// The `kid` written into every header this key signs.
    kid: Option<Box<str>>,
    /// The private key (or secret) in the crypto library's form.
    inner: Inner,
    /// The matching verifier, built once so callers need not re-derive it.
    verifying: VerifyingKey,
}

enum Inner {
    /// The secret is kept (zeroized on drop) so it can be exported for storage.
    Hmac(Box<aws_lc_rs::hmac::Key>, Zeroizing<Vec<u8>>),
    Rsa(RsaKeyPair, &'static dyn RsaEncoding),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

impl SigningKey {
    /// Generates a fresh key: 64 random bytes for HMAC, 2048-bit RSA, or a new EC/Ed25519 key.
    ///
    /// # Errors
    /// [`Error::Crypto`] if the system random source fails.
    pub fn generate(alg: Algorithm) -> Result<Self, Error> {
        match alg.family() {
            Family::Hmac => {
                let mut secret = Zeroizing::new(vec![0u8; 64]);
                SystemRandom::new()
                    .fill(&mut secret)
                    .map_err(|_| Error::Crypto)?;
                Self::from_secret(alg, &secret)
            }
            Family::Rsa => Self::generate_rsa(alg, 2048),
            Family::Ec => {
                let pair = EcdsaKeyPair::generate(ecdsa_alg(alg)).map_err(|_| Error::Crypto)?;
                Self::from_inner(alg, Inner::Ec(pair))
            }
            Family::Okp => {
                let pair = Ed25519KeyPair::generate().map_err(|_| Error::Crypto)?;
                Self::from_inner(alg, Inner::Ed(pair))
            }
        }
    }

    /// Generates an RSA key of `bits` (2048, 3072 or 4096) for an RSA algorithm.
    ///
    /// # Errors
    /// [`Error::KeyUsage`] for a non-RSA algorithm, [`Error::InvalidKey`] for
    /// another size, [`Error::Crypto`] if generation fails.
    pub fn generate_rsa(alg: Algorithm, bits: u32) -> Result<Self, Error> {
        if alg.family() != Family::Rsa {
            return Err(Error::KeyUsage("not an RSA algorithm"));
        }
        let size = match bits {
            2048 => KeySize::Rsa2048,
            3072 => KeySize::Rsa3072,
            4096 => KeySize::Rsa4096,
            _ => return Err(Error::InvalidKey("RSA keys are 2048, 3072 or 4096 bits")),
        };
        let pair = RsaKeyPair::generate(size).map_err(|_| Error::Crypto)?;
        Self::from_inner(alg, Inner::Rsa(pair, rsa_encoding(alg)))
    }

    /// A key signing HMAC tokens with a shared `secret` (at least as long as the hash).
    ///
    /// # Errors
    /// [`Error::KeyUsage`] if `alg` is not HMAC, [`Error::InvalidKey`] if the secret is too short.
    pub fn from_secret(alg: Algorithm, secret: &[u8]) -> Result<Self, Error> {
        let key = hmac_key(alg, secret)?;
        let verifying = VerifyingKey::from_secret(alg, secret)?;
        Ok(Self {
            alg,
            kid: None,
            inner: Inner::Hmac(Box::new(key), Zeroizing::new(secret.to_vec())),
            verifying,
        })
    }

    /// A key from an unencrypted PKCS#8 DER private key (v1 or v2).
    ///
    /// # Errors
    /// [`Error::KeyUsage`] for HMAC algorithms, [`Error::InvalidKey`] if the DER
    /// is malformed, of another key type or curve, or an RSA key under 2048 bits.
    pub fn from_pkcs8_der(alg: Algorithm, der: &[u8]) -> Result<Self, Error> {
        const BAD: Error = Error::InvalidKey("PKCS#8 key rejected for this algorithm");
        let inner = match alg.family() {
            Family::Hmac => return Err(Error::KeyUsage("HMAC keys are secrets, not PKCS#8")),
            Family::Rsa => {
                let pair = RsaKeyPair::from_pkcs8(der).map_err(|_| BAD)?;
                if pair.public_modulus_len() < MIN_RSA_BYTES {
                    return Err(Error::InvalidKey("RSA keys must have at least 2048 bits"));
                }
                Inner::Rsa(pair, rsa_encoding(alg))
            }
            Family::Ec => {
                Inner::Ec(EcdsaKeyPair::from_pkcs8(ecdsa_alg(alg), der).map_err(|_| BAD)?)
            }
            Family::Okp => Inner::Ed(Ed25519KeyPair::from_pkcs8(der).map_err(|_| BAD)?),
        };
        Self::from_inner(alg, inner)
    }

    /// A key from a PEM `PRIVATE KEY` (PKCS#8) block.
    ///
    /// # Errors
    /// As [`from_pkcs8_der`](Self::from_pkcs8_der), plus [`Error::InvalidKey`] for bad PEM.
    pub fn from_pkcs8_pem(alg: Algorithm, pem: &str) -> Result<Self, Error> {
        let block = pem::parse(pem).map_err(|_| Error::InvalidKey("malformed PEM"))?;
        if block.tag() != "PRIVATE KEY" {
            return Err(Error::InvalidKey(
                "expected a PEM PRIVATE KEY (PKCS#8) block",
            ));
        }
        let der = Zeroizing::new(block.into_contents());
        Self::from_pkcs8_der(alg, &der)
    }

    /// The private key as unencrypted PKCS#8 v1 DER, for storing (encrypted) at rest.
    ///
    /// # Errors
    /// [`Error::KeyUsage`] for HMAC keys (use [`to_secret_bytes`](Self::to_secret_bytes)).
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        let der = match &self.inner {
            Inner::Hmac(..) => return Err(Error::KeyUsage("HMAC keys are secrets, not PKCS#8")),
            Inner::Rsa(pair, _) => pair.as_der().map(|d| d.as_ref().to_vec()),
            Inner::Ec(pair) => pair.to_pkcs8v1().map(|d| d.as_ref().to_vec()),
            Inner::Ed(pair) => pair.to_pkcs8v1().map(|d| d.as_ref().to_vec()),
        };
        der.map(Zeroizing::new).map_err(|_| Error::Crypto)
    }

    /// The private key as a PEM `PRIVATE KEY` block.
    ///
    /// # Errors
    /// As [`to_pkcs8_der`](Self::to_pkcs8_der).
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, Error> {
        let der = self.to_pkcs8_der()?;
        Ok(Zeroizing::new(pem::encode(&pem::Pem::new(
            "PRIVATE KEY",
            der.to_vec(),
        ))))
    }

    /// The shared secret of an HMAC key, for storing (encrypted) at rest.
    ///
    /// # Errors
    /// [`Error::KeyUsage`] for asymmetric keys.
    pub fn to_secret_bytes(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        match &self.inner {
            Inner::Hmac(_, secret) => Ok(secret.clone()),
            _ => Err(Error::KeyUsage("only HMAC keys have a shared secret")),
        }
    }

    fn from_inner(alg: Algorithm, inner: Inner) -> Result<Self, Error> {
        let params = match &inner {
            Inner::Hmac(..) => return Err(Error::KeyUsage("HMAC keys are built from secrets")),
            Inner::Rsa(pair, _) => {
                let public = pair.public_key();
                PublicParams::Rsa {
                    n: public.modulus().big_endian_without_leading_zero().into(),
                    e: public.exponent().big_endian_without_leading_zero().into(),
                }
            }
            Inner::Ec(pair) => ec_params(alg, pair.public_key().as_ref())?,
            Inner::Ed(pair) => PublicParams::Ed25519 {
                x: pair.public_key().as_ref().into(),
            },
        };
        let verifying = VerifyingKey::from_params(alg, params)?;
        let kid = verifying.thumbprint()?;
        Ok(Self {
            alg,
            kid: Some(kid.clone().into_boxed_str()),
            inner,
            verifying: verifying.with_kid(kid),
        })
    }

    /// Sets the key id written into the header of every token this key signs.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        let kid: String = kid.into();
        self.verifying = self.verifying.with_kid(kid.clone());
        self.kid = Some(kid.into_boxed_str());
        self
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key id, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The key that verifies this key's signatures (same `kid`).
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }

    /// Signs `message`, appending the base64url signature to `out`.
    pub(crate) fn sign_into(&self, message: &[u8], out: &mut String) -> Result<(), Error> {
        match &self.inner {
            Inner::Hmac(key, _) => {
                b64::encode_into(aws_lc_rs::hmac::sign(key, message).as_ref(), out)
            }
            Inner::Rsa(pair, encoding) => {
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign(*encoding, &SystemRandom::new(), message, &mut sig)
                    .map_err(|_| Error::Crypto)?;
                b64::encode_into(&sig, out);
            }
            Inner::Ec(pair) => {
                let sig = pair
                    .sign(&SystemRandom::new(), message)
                    .map_err(|_| Error::Crypto)?;
                b64::encode_into(sig.as_ref(), out);
            }
            Inner::Ed(pair) => b64::encode_into(pair.sign(message).as_ref(), out),
        }
        Ok(())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn rsa_encoding(alg: Algorithm) -> &'static dyn RsaEncoding {
    match alg {
        Algorithm::RS384 => &signature::RSA_PKCS1_SHA384,
        Algorithm::RS512 => &signature::RSA_PKCS1_SHA512,
        Algorithm::PS256 => &signature::RSA_PSS_SHA256,
        Algorithm::PS384 => &signature::RSA_PSS_SHA384,
        Algorithm::PS512 => &signature::RSA_PSS_SHA512,
        _ => &signature::RSA_PKCS1_SHA256,
    }
}

fn ecdsa_alg(alg: Algorithm) -> &'static EcdsaSigningAlgorithm {
    match alg {
        Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        Algorithm::ES512 => &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
        _ => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
    }
}
