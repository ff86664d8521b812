//! Several verifying keys chosen by `kid`: what a resource server holds after
//! fetching a JWKS, and what the auth server holds across a key rotation.

use crate::{Error, JwkSet, VerifyingKey};

/// Finds the key that should verify a token, given the header's `kid`.
///
/// Implemented for a single [`VerifyingKey`] and for a [`KeySet`]; implement
/// it for your own store if keys live elsewhere.
pub trait KeyResolver {
    /// The key for `kid`.
    ///
    /// # Errors
    /// [`Error::MissingKeyId`] when a kid is needed and absent,
    /// [`Error::UnknownKey`] when no key has it.
    fn resolve(&self, kid: Option<&str>) -> Result<&VerifyingKey, Error>;

    /// The key, and the header's `typ`, when `segment` (a token's encoded
    /// header) is byte for byte one that authgate's [`sign`](crate::sign)
    /// writes with one of these keys; `None` makes verification decode and
    /// parse the header instead, with the same outcome, only slower.
    ///
    /// The default knows no header. Implement it by asking your keys'
    /// [`VerifyingKey::header_typ`].
    fn resolve_known_header(&self, segment: &[u8]) -> Option<(&VerifyingKey, Option<&str>)> {
        let _ = segment;
        None
    }
}

impl KeyResolver for VerifyingKey {
    /// A lone key accepts tokens without a `kid`; a token naming another
    /// `kid` than the key's is refused.
    fn resolve(&self, kid: Option<&str>) -> Result<&VerifyingKey, Error> {
        match (kid, self.kid()) {
            (Some(wanted), Some(own)) if wanted != own => Err(Error::UnknownKey),
            _ => Ok(self),
        }
    }

    fn resolve_known_header(&self, segment: &[u8]) -> Option<(&VerifyingKey, Option<&str>)> {
        self.header_typ(segment).map(|typ| (self, typ))
    }
}

/// A set of verifying keys with distinct key ids.
///
/// Every key must have a `kid`, and tokens must name one: with more than one
/// key, trying each in turn would multiply the cost of every forged token.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    /// Few keys (a handful across rotations), so a vector beats a map.
    keys: Vec<VerifyingKey>,
}

impl KeySet {
    /// An empty key set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `key`, replacing any key with the same `kid`.
    ///
    /// # Errors
    /// [`Error::MissingKeyId`] if the key has no `kid`.
    pub fn insert(&mut self, key: VerifyingKey) -> Result<(), Error> {
        let kid = key.kid().ok_or(Error::MissingKeyId)?;
        match self.keys.iter_mut().find(|k| k.kid() == Some(kid)) {
            Some(slot) => *slot = key,
            None => self.keys.push(key),
        }
        Ok(())
    }

    /// Removes and returns the key with `kid`.
    pub fn remove(&mut self, kid: &str) -> Option<VerifyingKey> {
        let at = self.keys.iter().position(|k| k.kid() == Some(kid))?;
        Some(self.keys.remove(at))
    }

    /// The key with `kid`, if present.
    pub fn get(&self, kid: &str) -> Option<&VerifyingKey> {
        self.keys.iter().find(|k| k.kid() == Some(kid))
    }

    /// The keys, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &VerifyingKey> {
        self.keys.iter()
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The verifying keys of a JWKS, as a resource server imports them.
    ///
    /// Keys that are not for signatures, lack a `kid`, are shared secrets
    /// (`oct`: never trusted from a published document), or use a key type or
    /// curve we do not implement are skipped, so one exotic key does not take
    /// the others down; a supported key with malformed material is an error,
    /// since it means the document is broken.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] for a malformed supported key.
    pub fn from_jwks(jwks: &JwkSet) -> Result<Self, Error> {
        let mut set = Self::new();
        for jwk in &jwks.keys {
            // A shared secret in a JWKS (a public document) would let every
            // reader forge tokens: such keys are never imported from one.
            if jwk.kid.is_none() || jwk.kty == "oct" {
                continue;
            }
            match VerifyingKey::from_jwk(jwk) {
                Ok(key) => set.insert(key)?,
                Err(Error::KeyUsage(_) | Error::UnsupportedAlgorithm) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(set)
    }

    /// The public keys as a JWKS document; HMAC keys are left out, never published.
    pub fn to_jwks(&self) -> JwkSet {
        JwkSet {
            keys: self.keys.iter().filter_map(|k| k.to_jwk().ok()).collect(),
        }
    }
}

impl KeyResolver for KeySet {
    fn resolve(&self, kid: Option<&str>) -> Result<&VerifyingKey, Error> {
        let kid = kid.ok_or(Error::MissingKeyId)?;
        self.get(kid).ok_or(Error::UnknownKey)
    }

    fn resolve_known_header(&self, segment: &[u8]) -> Option<(&VerifyingKey, Option<&str>)> {
        self.keys
            .iter()
            .find_map(|key| key.header_typ(segment).map(|typ| (key, typ)))
    }
}
