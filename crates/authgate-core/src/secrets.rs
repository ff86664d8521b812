//! Secrets: random opaque tokens, their hashes, and the master key that seals
//! private material at rest (AES-256-GCM).

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::constant_time;
use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use zeroize::{Zeroize, Zeroizing};

use crate::error::AuthError;

/// Bytes of randomness in refresh tokens and client secrets (256 bits).
pub const TOKEN_BYTES: usize = 32;

/// A new opaque token: 256 random bits, base64url without padding.
///
/// # Errors
/// [`AuthError::Internal`] if the system random source fails.
pub fn random_token() -> Result<Zeroizing<String>, AuthError> {
    let mut bytes = Zeroizing::new([0u8; TOKEN_BYTES]);
    SystemRandom::new()
        .fill(bytes.as_mut())
        .map_err(|_| AuthError::Internal("random source failed".into()))?;
    Ok(Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_ref())))
}

/// SHA-256 of an opaque token: what is stored instead of the token.
///
/// A plain hash is enough (no salt, no argon2): the token has 256 bits of
/// entropy, so the hash cannot be reversed by guessing.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    /// Hashes a presented token.
    pub fn of(token: &str) -> Self {
        let mut out = [0u8; 32];
        out.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
        Self(out)
    }

    /// Compares in constant time, for the few places a hash is compared outside an index lookup.
    pub fn ct_eq(&self, other: &Self) -> bool {
        constant_time::verify_slices_are_equal(&self.0, &other.0).is_ok()
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash([redacted])")
    }
}

/// The key that seals private keys and grace-window successors at rest.
///
/// 32 bytes, from configuration (base64) or a 0600 file the server generates
/// on first start. Losing it makes stored keys unreadable; leaking it lets
/// anyone mint tokens, so it is never logged and never stored beside a backup
/// of the database.
pub struct MasterKey {
    /// The AES-256-GCM key, ready to use.
    key: RandomizedNonceKey,
}

impl MasterKey {
    /// A master key from 32 raw bytes.
    ///
    /// # Errors
    /// [`AuthError::InvalidInput`] for another length.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, AuthError> {
        if bytes.len() != 32 {
            return Err(AuthError::invalid(
                "master_key",
                "the master key must be exactly 32 bytes",
            ));
        }
        let key = RandomizedNonceKey::new(&AES_256_GCM, bytes)
            .map_err(|_| AuthError::Internal("AES key setup failed".into()))?;
        Ok(Self { key })
    }

    /// A master key from base64 (standard or URL-safe alphabet) of 32 bytes.
    ///
    /// # Errors
    /// [`AuthError::InvalidInput`] when it is not base64 of 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, AuthError> {
        let text = text.trim();
        let mut bytes = STANDARD
            .decode(text)
            .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
            .map_err(|_| {
                AuthError::invalid("master_key", "the master key must be base64 of 32 bytes")
            })?;
        let key = Self::from_bytes(&bytes);
        bytes.zeroize();
        key
    }

    /// Generates a new master key, returning it and its base64 form (to be saved).
    ///
    /// # Errors
    /// [`AuthError::Internal`] if the random source fails.
    pub fn generate() -> Result<(Self, Zeroizing<String>), AuthError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| AuthError::Internal("random source failed".into()))?;
        Ok((
            Self::from_bytes(bytes.as_ref())?,
            Zeroizing::new(STANDARD.encode(bytes.as_ref())),
        ))
    }

    /// Seals `plaintext`, bound to `context` (authenticated, not encrypted):
    /// nonce ‖ ciphertext ‖ tag.
    ///
    /// # Errors
    /// [`AuthError::Internal`] if encryption fails.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, AuthError> {
        let mut buf = plaintext.to_vec();
        let nonce = self
            .key
            .seal_in_place_append_tag(Aad::from(context), &mut buf)
            .map_err(|_| AuthError::Internal("sealing failed".into()))?;
        let mut out = Vec::with_capacity(NONCE_LEN + buf.len());
        out.extend_from_slice(nonce.as_ref());
        out.extend_from_slice(&buf);
        buf.zeroize();
        Ok(out)
    }

    /// Opens what [`seal`](Self::seal) produced with the same `context`.
    ///
    /// # Errors
    /// [`AuthError::Internal`] when the data was sealed with another key or
    /// context, or altered: the caller says which stored item was unreadable.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Zeroizing<Vec<u8>>, AuthError> {
        const BAD: &str = "sealed data does not open with this master key";
        if sealed.len() < NONCE_LEN {
            return Err(AuthError::Internal(BAD.into()));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| AuthError::Internal(BAD.into()))?;
        let mut buf = Zeroizing::new(ciphertext.to_vec());
        let len = self
            .key
            .open_in_place(nonce, Aad::from(context), &mut buf)
            .map_err(|_| AuthError::Internal(BAD.into()))?
            .len();
        buf.truncate(len);
        Ok(buf)
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_data_opens_only_with_the_same_key_and_context() {
        let (key, _) = MasterKey::generate().unwrap();
        let (other, _) = MasterKey::generate().unwrap();
        let sealed = key.seal(b"private key", b"kid-1").unwrap();
        assert_eq!(&key.open(&sealed, b"kid-1").unwrap()[..], b"private key");
        assert!(key.open(&sealed, b"kid-2").is_err());
        assert!(other.open(&sealed, b"kid-1").is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(key.open(&tampered, b"kid-1").is_err());
    }

    #[test]
    fn master_key_round_trips_through_base64_and_refuses_other_lengths() {
        let (key, text) = MasterKey::generate().unwrap();
        let again = MasterKey::from_base64(&text).unwrap();
        let sealed = key.seal(b"x", b"c").unwrap();
        assert_eq!(&again.open(&sealed, b"c").unwrap()[..], b"x");
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(MasterKey::from_base64("not base64!").is_err());
    }

    #[test]
    fn tokens_are_256_bit_base64url_and_distinct() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(*a, *b);
        assert!(TokenHash::of(&a).ct_eq(&TokenHash::of(&a)));
        assert!(!TokenHash::of(&a).ct_eq(&TokenHash::of(&b)));
    }
}
