//! oxitoken's crypto backend, re-implemented over aws-lc-rs 1.19.
//!
//! Why this exists: oxitoken 0.1.0 ships an aws-lc backend (feature
//! `aws-lc-rs`), but it does not compile against aws-lc-rs >= 1.15: it takes
//! `&raw const` of the algorithm statics to compare them by address, and those
//! items became `const`s. jsonwebtoken 11 needs aws-lc-rs >= 1.15.4, so
//! oxitoken is built here with `default-features = false` and this module
//! mirrors its `src/crypto/aws_lc/{verify.rs,sign.rs}` line for line (a
//! `VerificationKey` over `ParsedPublicKey`/`hmac::Key`, a `Signer` over the
//! key pairs), comparing algorithms with `==` instead of by address. So
//! oxitoken runs the same aws-lc-rs primitives as authgate and jsonwebtoken.

use aws_lc_rs::error::Unspecified;
use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING,
    ECDSA_P521_SHA512_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, ParsedPublicKey,
    RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512, RsaKeyPair, RsaSignatureEncoding,
};
use oxitoken::Algorithm;
use oxitoken::encoding::{JwtEncodingError, Signer};
use oxitoken::error::JwtError;
use oxitoken::validation::VerificationKey;

/// The key material, as oxitoken's `KeyType`.
enum KeyType {
    Asymmetric(ParsedPublicKey),
    /// Boxed as upstream does: the HMAC context is large.
    Hmac(Box<hmac::Key>),
}

/// oxitoken's `AwsLcVerificationKey`: the JWS algorithm resolved once, at load.
pub(crate) struct VerifyingKey {
    alg: Algorithm,
    key: KeyType,
}

impl VerifyingKey {
    /// A key verifying `alg` with an already parsed public key.
    pub(crate) fn public(alg: Algorithm, key: ParsedPublicKey) -> Self {
        Self {
            alg,
            key: KeyType::Asymmetric(key),
        }
    }

    /// A key verifying `alg` (an HMAC algorithm) with a shared secret.
    pub(crate) fn hmac(alg: Algorithm, key: hmac::Key) -> Self {
        Self {
            alg,
            key: KeyType::Hmac(Box::new(key)),
        }
    }
}

impl VerificationKey for VerifyingKey {
    fn alg(&self) -> Option<Algorithm> {
        Some(self.alg)
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), JwtError> {
        match &self.key {
            KeyType::Asymmetric(key) => key.verify_sig(message, signature),
            KeyType::Hmac(key) => hmac::verify(key, message, signature),
        }
        .map_err(|_| JwtError::InvalidSignature)
    }
}

/// The key pairs oxitoken implements `Signer` on, in one type (a local type
/// is needed anyway: both trait and key types are foreign here).
pub(crate) enum SigningKey {
    /// Boxed: the HMAC context is large.
    Hmac(Box<hmac::Key>),
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

fn rsa_encoding(alg: Algorithm) -> Option<&'static RsaSignatureEncoding> {
    match alg {
        Algorithm::RS256 => Some(&RSA_PKCS1_SHA256),
        Algorithm::RS384 => Some(&RSA_PKCS1_SHA384),
        Algorithm::RS512 => Some(&RSA_PKCS1_SHA512),
        _ => None,
    }
}

impl Signer for SigningKey {
    type Error = Unspecified;

    fn check_alg(&self, alg: Algorithm) -> Result<(), JwtEncodingError<Unspecified>> {
        let ok = match (self, alg) {
            (Self::Hmac(key), Algorithm::HS256) => key.algorithm() == hmac::HMAC_SHA256,
            (Self::Hmac(key), Algorithm::HS384) => key.algorithm() == hmac::HMAC_SHA384,
            (Self::Hmac(key), Algorithm::HS512) => key.algorithm() == hmac::HMAC_SHA512,
            (Self::Rsa(pair), Algorithm::RS256) => pair.public_modulus_len() == 256,
            (Self::Rsa(pair), Algorithm::RS384) => pair.public_modulus_len() == 384,
            (Self::Rsa(pair), Algorithm::RS512) => pair.public_modulus_len() == 512,
            (Self::Ecdsa(pair), Algorithm::ES256) => {
                *pair.algorithm() == ECDSA_P256_SHA256_FIXED_SIGNING
            }
            (Self::Ecdsa(pair), Algorithm::ES384) => {
                *pair.algorithm() == ECDSA_P384_SHA384_FIXED_SIGNING
            }
            (Self::Ecdsa(pair), Algorithm::ES512) => {
                *pair.algorithm() == ECDSA_P521_SHA512_FIXED_SIGNING
            }
            (Self::Ed25519(_), Algorithm::EdDSA) => true,
            _ => return Err(JwtEncodingError::UnsupportedAlgorithm),
        };
        if ok {
            Ok(())
        } else {
            Err(JwtEncodingError::WrongAlgorithm)
        }
    }

    fn siglen(&self) -> usize {
        match self {
            Self::Hmac(key) => key.algorithm().digest_algorithm().output_len(),
            Self::Rsa(pair) => pair.public_modulus_len(),
            Self::Ecdsa(pair) if *pair.algorithm() == ECDSA_P384_SHA384_FIXED_SIGNING => 96,
            Self::Ecdsa(pair) if *pair.algorithm() == ECDSA_P521_SHA512_FIXED_SIGNING => 132,
            Self::Ecdsa(_) | Self::Ed25519(_) => 64,
        }
    }

    fn sign_jwt(
        &self,
        alg: Algorithm,
        jwt: &mut String,
    ) -> Result<(), JwtEncodingError<Unspecified>> {
        match self {
            Self::Hmac(key) => {
                let mut ctx = hmac::Context::with_key(key);
                ctx.update(jwt.as_bytes());
                let sig = ctx.sign();
                self.append_sig(sig.as_ref(), jwt);
            }
            Self::Rsa(pair) => {
                let encoding = rsa_encoding(alg).ok_or(JwtEncodingError::UnsupportedAlgorithm)?;
                let mut sig = vec![0; pair.public_modulus_len()];
                pair.sign(encoding, &SystemRandom::new(), jwt.as_bytes(), &mut sig)?;
                self.append_sig(sig, jwt);
            }
            Self::Ecdsa(pair) => {
                let sig = pair.sign(&SystemRandom::new(), jwt.as_bytes())?;
                self.append_sig(sig, jwt);
            }
            Self::Ed25519(pair) => {
                let sig = pair.sign(jwt.as_bytes());
                self.append_sig(sig, jwt);
            }
        }
        Ok(())
    }
}
