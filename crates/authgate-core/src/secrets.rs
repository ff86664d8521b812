//! Secrets: random opaque tokens, their hashes, and the master key that seals
//! private material at rest (per-purpose subkeys; AES-256-GCM, AES-256-GCM-SIV).

use std::fmt;

use aws_lc_rs::aead::{
    self, AES_256_GCM, AES_256_GCM_SIV, Aad, NONCE_LEN, Nonce, RandomizedNonceKey,
};
use aws_lc_rs::constant_time;
use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::hkdf;
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

/// What a sealed blob is for. Each purpose seals under a subkey of its own,
/// derived from the master key with HKDF-SHA256 and the purpose's label, so
/// the messages sealed for one purpose never count against another's key
/// limits, and a blob of one purpose never opens as another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Purpose {
    /// Private signing keys (PKCS#8 DER or an HMAC secret), with the kid as
    /// context. AES-256-GCM with random nonces: see [`MasterKey`].
    SigningKey,
    /// Refresh-token successors kept for the reuse grace window. AES-256-GCM-SIV:
    /// sealed once per refresh, so many that random GCM nonces would meet
    /// NIST's limit (see [`MasterKey`]).
    RefreshSuccessor,
    /// TOTP secrets (reserved for second factors). AES-256-GCM-SIV.
    TotpSecret,
    /// Messages waiting in the mail outbox (they hold one-time links),
    /// with the message id as context. AES-256-GCM-SIV: one per message sent.
    OutboxMessage,
}

impl Purpose {
    /// The HKDF `info` of the purpose's subkey: never change one, or what
    /// was sealed under it no longer opens.
    const fn label(self) -> &'static [u8] {
        match self {
            Self::SigningKey => b"authgate/v2/signing-keys",
            Self::RefreshSuccessor => b"authgate/v2/refresh-successors",
            Self::TotpSecret => b"authgate/v2/totp-secrets",
            Self::OutboxMessage => b"authgate/v2/outbox-messages",
        }
    }

    /// The AEAD the purpose seals with (see [`MasterKey`] for why).
    fn algorithm(self) -> &'static aead::Algorithm {
        match self {
            Self::SigningKey => &AES_256_GCM,
            Self::RefreshSuccessor | Self::TotpSecret | Self::OutboxMessage => &AES_256_GCM_SIV,
        }
    }
}

/// The prefix of blobs sealed in the current format (v2: a purpose subkey).
/// Format v1 (a bare nonce, under the master key itself) has no prefix.
const V2_PREFIX: &[u8] = b"ag2:";

/// The key that seals private keys and grace-window successors at rest.
///
/// 32 bytes, from configuration (base64) or a 0600 file the server generates
/// on first start. Losing it makes stored keys unreadable; leaking it lets
/// anyone mint tokens, so it is never logged and never stored beside a backup
/// of the database.
///
/// # Algorithms
/// The master key itself seals nothing: each [`Purpose`] has a subkey,
/// HKDF-SHA256 (RFC 5869) of the master key with the purpose's label.
/// Signing keys are sealed with AES-256-GCM, as docs/architecture.md has it: an
/// approved AEAD (NIST SP 800-38D) with a 256-bit key, from the same
/// library as the token signatures (RFC 8725 asks for vetted algorithms
/// only). SP 800-38D allows at most 2^32 random 96-bit nonces per key;
/// signing keys are sealed a few dozen times a year, so their subkey never
/// comes near it. Refresh successors are sealed on every refresh: at 1,000
/// refreshes a second the limit would be met in 50 days, so they use
/// AES-256-GCM-SIV (RFC 8452), whose security degrades gracefully if
/// nonces repeat, under a subkey of their own.
///
/// # Formats
/// v2 (written now): `ag2:` ‖ nonce ‖ ciphertext ‖ tag, under the purpose's
/// subkey. v1 (written before subkeys): nonce ‖ ciphertext ‖ tag, AES-256-GCM
/// under the master key itself. [`MasterKey::open`] opens both, so a
/// database written by an older version still works; the server re-seals
/// its signing keys in v2 on start ([`MasterKey::reseal`]), and v1
/// successors age out with their grace window.
pub struct MasterKey {
    /// Format v1: the master key as an AES-256-GCM key; only opens.
    legacy: RandomizedNonceKey,
    /// The [`Purpose::SigningKey`] subkey.
    signing_keys: RandomizedNonceKey,
    /// The [`Purpose::RefreshSuccessor`] subkey.
    successors: RandomizedNonceKey,
    /// The [`Purpose::TotpSecret`] subkey.
    totp_secrets: RandomizedNonceKey,
    /// The [`Purpose::OutboxMessage`] subkey.
    outbox: RandomizedNonceKey,
}

/// The 32-byte length of a subkey, for HKDF.
struct SubkeyLen;

impl hkdf::KeyType for SubkeyLen {
    fn len(&self) -> usize {
        32
    }
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
        let setup = |_| AuthError::Internal("AES key setup failed".into());
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"authgate master key").extract(bytes);
        let subkey = |purpose: Purpose| -> Result<RandomizedNonceKey, AuthError> {
            let mut okm = Zeroizing::new([0u8; 32]);
            prk.expand(&[purpose.label()], SubkeyLen)
                .and_then(|okm_| okm_.fill(okm.as_mut()))
                .map_err(setup)?;
            RandomizedNonceKey::new(purpose.algorithm(), okm.as_ref()).map_err(setup)
        };
        Ok(Self {
            legacy: RandomizedNonceKey::new(&AES_256_GCM, bytes).map_err(setup)?,
            signing_keys: subkey(Purpose::SigningKey)?,
            successors: subkey(Purpose::RefreshSuccessor)?,
            totp_secrets: subkey(Purpose::TotpSecret)?,
            outbox: subkey(Purpose::OutboxMessage)?,
        })
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

    fn subkey(&self, purpose: Purpose) -> &RandomizedNonceKey {
        match purpose {
            Purpose::SigningKey => &self.signing_keys,
            Purpose::RefreshSuccessor => &self.successors,
            Purpose::TotpSecret => &self.totp_secrets,
            Purpose::OutboxMessage => &self.outbox,
        }
    }

    /// Seals `plaintext` for `purpose`, bound to `context` (authenticated,
    /// not encrypted), in the current format (v2, see [`MasterKey`]).
    ///
    /// # Errors
    /// [`AuthError::Internal`] if encryption fails.
    pub fn seal(
        &self,
        purpose: Purpose,
        plaintext: &[u8],
        context: &[u8],
    ) -> Result<Vec<u8>, AuthError> {
        let mut buf = Zeroizing::new(plaintext.to_vec());
        let nonce = self
            .subkey(purpose)
            .seal_in_place_append_tag(Aad::from(context), &mut *buf)
            .map_err(|_| AuthError::Internal("sealing failed".into()))?;
        let mut out = Vec::with_capacity(V2_PREFIX.len() + NONCE_LEN + buf.len());
        out.extend_from_slice(V2_PREFIX);
        out.extend_from_slice(nonce.as_ref());
        out.extend_from_slice(&buf);
        Ok(out)
    }

    /// Opens what [`seal`](Self::seal) produced with the same `purpose`
    /// and `context`, or what an older version sealed (format v1).
    ///
    /// # Errors
    /// [`AuthError::Internal`] when the data was sealed with another key,
    /// purpose or context, or altered: the caller says which stored item was
    /// unreadable.
    pub fn open(
        &self,
        purpose: Purpose,
        sealed: &[u8],
        context: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, AuthError> {
        self.open_any(purpose, sealed, context)
            .map(|(plain, _)| plain)
    }

    /// The blob sealed again in the current format, if `sealed` is in an
    /// older one (`None` when it is current): how stored items migrate.
    ///
    /// # Errors
    /// As [`MasterKey::open`] and [`MasterKey::seal`].
    pub fn reseal(
        &self,
        purpose: Purpose,
        sealed: &[u8],
        context: &[u8],
    ) -> Result<Option<Vec<u8>>, AuthError> {
        match self.open_any(purpose, sealed, context)? {
            (_, true) => Ok(None),
            (plain, false) => self.seal(purpose, &plain, context).map(Some),
        }
    }

    /// Opens v2, then (for the purposes v1 had) v1; says whether it was v2. A v1 blob whose random
    /// nonce happens to begin like a v2 one fails as v2 and opens as v1.
    fn open_any(
        &self,
        purpose: Purpose,
        sealed: &[u8],
        context: &[u8],
    ) -> Result<(Zeroizing<Vec<u8>>, bool), AuthError> {
        if let Some(rest) = sealed.strip_prefix(V2_PREFIX)
            && let Some(plain) = open_with(self.subkey(purpose), rest, context)
        {
            return Ok((plain, true));
        }
        // Only what was ever sealed in the v1 format may open as v1 (the
        // master key itself, not a subkey): a purpose born after v1 never
        // falls back, so its key separation does not depend on contexts.
        let legacy = match purpose {
            Purpose::SigningKey | Purpose::RefreshSuccessor => {
                open_with(&self.legacy, sealed, context)
            }
            Purpose::TotpSecret | Purpose::OutboxMessage => None,
        };
        legacy.map(|plain| (plain, false)).ok_or_else(|| {
            AuthError::Internal("sealed data does not open with this master key".into())
        })
    }
}

/// nonce ‖ ciphertext ‖ tag opened with `key`, or `None`.
fn open_with(
    key: &RandomizedNonceKey,
    sealed: &[u8],
    context: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    let (nonce, ciphertext) = sealed.split_at_checked(NONCE_LEN)?;
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    let len = key
        .open_in_place(nonce, Aad::from(context), &mut buf)
        .ok()?
        .len();
    buf.truncate(len);
    Some(buf)
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use Purpose::{RefreshSuccessor, SigningKey};

    /// What the previous version wrote: AES-256-GCM under the master key
    /// itself, nonce ‖ ciphertext ‖ tag.
    fn seal_v1(master: &[u8; 32], plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let key = RandomizedNonceKey::new(&AES_256_GCM, master).unwrap();
        let mut buf = plaintext.to_vec();
        let nonce = key
            .seal_in_place_append_tag(Aad::from(context), &mut buf)
            .unwrap();
        [nonce.as_ref(), &buf[..]].concat()
    }

    /// The subkey of `label`, derived here independently of the code under test.
    fn subkey(
        master: &[u8; 32],
        label: &[u8],
        alg: &'static aead::Algorithm,
    ) -> RandomizedNonceKey {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"authgate master key").extract(master);
        let mut bytes = [0u8; 32];
        prk.expand(&[label], SubkeyLen)
            .unwrap()
            .fill(&mut bytes)
            .unwrap();
        RandomizedNonceKey::new(alg, &bytes).unwrap()
    }

    #[test]
    fn sealed_data_opens_only_with_the_same_key_purpose_and_context() {
        let (key, _) = MasterKey::generate().unwrap();
        let (other, _) = MasterKey::generate().unwrap();
        let sealed = key.seal(SigningKey, b"private key", b"kid-1").unwrap();
        assert_eq!(
            &key.open(SigningKey, &sealed, b"kid-1").unwrap()[..],
            b"private key"
        );
        assert!(key.open(SigningKey, &sealed, b"kid-2").is_err());
        assert!(key.open(RefreshSuccessor, &sealed, b"kid-1").is_err());
        assert!(other.open(SigningKey, &sealed, b"kid-1").is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(key.open(SigningKey, &tampered, b"kid-1").is_err());
    }

    #[test]
    fn each_purpose_seals_under_its_own_hkdf_subkey_successors_with_gcm_siv() {
        let master = [9u8; 32];
        let key = MasterKey::from_bytes(&master).unwrap();
        let cases = [
            (SigningKey, &b"authgate/v2/signing-keys"[..], &AES_256_GCM),
            (
                RefreshSuccessor,
                b"authgate/v2/refresh-successors",
                &AES_256_GCM_SIV,
            ),
            (
                Purpose::TotpSecret,
                b"authgate/v2/totp-secrets",
                &AES_256_GCM_SIV,
            ),
        ];
        for (purpose, label, alg) in cases {
            let sealed = key.seal(purpose, b"secret", b"ctx").unwrap();
            let body = sealed.strip_prefix(b"ag2:").expect("the v2 marker");
            let opened = open_with(&subkey(&master, label, alg), body, b"ctx");
            assert_eq!(
                opened.as_deref().map(Vec::as_slice),
                Some(&b"secret"[..]),
                "{purpose:?}"
            );
            // Never the master key itself, nor the other AEAD.
            let legacy = RandomizedNonceKey::new(&AES_256_GCM, &master).unwrap();
            assert!(open_with(&legacy, body, b"ctx").is_none());
            let other_alg = if alg == &AES_256_GCM {
                &AES_256_GCM_SIV
            } else {
                &AES_256_GCM
            };
            assert!(open_with(&subkey(&master, label, other_alg), body, b"ctx").is_none());
        }
    }

    #[test]
    fn only_the_purposes_the_previous_format_had_fall_back_to_it() {
        let master = [5u8; 32];
        let key = MasterKey::from_bytes(&master).unwrap();
        let old = seal_v1(&master, b"secret", b"ctx");
        assert!(key.open(SigningKey, &old, b"ctx").is_ok());
        assert!(key.open(Purpose::RefreshSuccessor, &old, b"ctx").is_ok());
        // TOTP secrets were never sealed with the master key itself: a blob
        // sealed that way is not one, whatever its context.
        assert!(key.open(Purpose::TotpSecret, &old, b"ctx").is_err());
    }

    #[test]
    fn data_sealed_by_the_previous_format_still_opens_and_reseals_in_the_new_one() {
        let master = [3u8; 32];
        let key = MasterKey::from_bytes(&master).unwrap();
        let old = seal_v1(&master, b"pkcs8", b"kid-1");
        assert_eq!(&key.open(SigningKey, &old, b"kid-1").unwrap()[..], b"pkcs8");
        assert!(key.open(SigningKey, &old, b"kid-2").is_err());
        let new = key
            .reseal(SigningKey, &old, b"kid-1")
            .unwrap()
            .expect("re-sealed");
        assert!(new.starts_with(b"ag2:"));
        assert_eq!(&key.open(SigningKey, &new, b"kid-1").unwrap()[..], b"pkcs8");
        assert_eq!(
            key.reseal(SigningKey, &new, b"kid-1").unwrap(),
            None,
            "already current"
        );
        // A v1 blob whose random nonce happens to start like the v2 marker.
        let v1 = aead::LessSafeKey::new(aead::UnboundKey::new(&AES_256_GCM, &master).unwrap());
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..4].copy_from_slice(b"ag2:");
        let mut buf = b"x".to_vec();
        v1.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(b"c"),
            &mut buf,
        )
        .unwrap();
        let unlucky = [&nonce[..], &buf[..]].concat();
        assert_eq!(&key.open(SigningKey, &unlucky, b"c").unwrap()[..], b"x");
        assert!(key.reseal(SigningKey, &unlucky, b"c").unwrap().is_some());
    }

    #[test]
    fn master_key_round_trips_through_base64_and_refuses_other_lengths() {
        let (key, text) = MasterKey::generate().unwrap();
        let again = MasterKey::from_base64(&text).unwrap();
        let sealed = key.seal(SigningKey, b"x", b"c").unwrap();
        assert_eq!(&again.open(SigningKey, &sealed, b"c").unwrap()[..], b"x");
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
