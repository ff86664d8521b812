//! [`Verifier`]: the Bearer verification path, its key set and its cache.

use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use authgate_jwt::{KeySet, Validation, VerifyingKey};
use authgate_proto::AccessClaims;

use crate::cache::{Cached, TokenCache};
use crate::{CacheStats, GuardError, Policy, Principal, VerifierConfig, parse_bearer};

/// The header `typ` of access tokens (RFC 9068 §2.1).
const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// The keys in force, and the epoch that tells cache entries verified under
/// them from entries verified under keys since removed.
#[derive(Debug)]
struct KeyState {
    /// Verifying keys by `kid`.
    keys: KeySet,
    /// Changes whenever a key is removed or may have changed; see [`Verifier::set_keys`].
    epoch: u64,
}

/// Verifies authgate access tokens: the one path used by the server and by
/// resource servers. Build one at startup and share it (`Arc<Verifier>`);
/// every method takes `&self`.
///
/// Checks, per docs/http-api.md: header `typ` is `at+jwt`; the key named by `kid` is
/// in the key set and its algorithm is the header's (so never `none`); the
/// signature; `iss` equals the configured issuer; `aud` contains an accepted
/// audience; `exp`, `nbf` and `iat` against `now` with the leeway; `sub`,
/// `jti` and `iat` (and `nbf`) are present.
///
/// Tokens that verify are cached whole (see [`CacheStats`]); a hit re-checks
/// the time claims against `now`, so a cached token stops working at
/// `exp + leeway` exactly as an uncached one would. Revocation is not this
/// type's concern, cached or not: the caller checks `sid` and `jti` of the
/// returned [`Principal`] on every request.
pub struct Verifier {
    /// Swapped whole on rotation; readers never take a lock.
    state: ArcSwap<KeyState>,
    /// Serialises [`Verifier::set_keys`] calls so epochs are decided on the
    /// state actually being replaced. Never taken on the verification path.
    writer: Mutex<()>,
    /// Everything but the keys; built once from the config.
    validation: Validation,
    /// Verified tokens, with their counters.
    cache: TokenCache,
}

impl Verifier {
    /// A verifier accepting what `config` describes, with `keys` as its
    /// initial key set (possibly empty, until a JWKS is fetched).
    ///
    /// # Errors
    /// [`GuardError::InvalidConfig`] for an empty issuer, no (or an empty)
    /// audience, or a negative leeway.
    pub fn new(config: VerifierConfig, keys: KeySet) -> Result<Self, GuardError> {
        config.check().map_err(GuardError::InvalidConfig)?;
        let mut validation = Validation::new()
            .issuer(config.issuer)
            .typ(ACCESS_TOKEN_TYP)
            .leeway(config.leeway_secs);
        for claim in ["sub", "jti", "iat", "nbf"] {
            validation = validation.require(claim);
        }
        for audience in config.audiences {
            validation = validation.audience(audience);
        }
        Ok(Self {
            state: ArcSwap::from_pointee(KeyState { keys, epoch: 0 }),
            writer: Mutex::new(()),
            validation,
            cache: TokenCache::new(config.cache_capacity).map_err(GuardError::InvalidConfig)?,
        })
    }

    /// Verifies the value of an `Authorization` header (`None`: the request
    /// had none): [`parse_bearer`], then [`Verifier::verify_token`].
    ///
    /// # Errors
    /// [`GuardError::MissingCredentials`] for `None`, the errors of
    /// [`parse_bearer`] and of [`Verifier::verify_token`].
    pub fn authenticate(
        &self,
        authorization: Option<&str>,
        now: i64,
    ) -> Result<Principal, GuardError> {
        let header = authorization.ok_or(GuardError::MissingCredentials)?;
        self.verify_token(parse_bearer(header)?, now)
    }

    /// Verifies a bare access token at `now` (Unix seconds): from the cache
    /// when it verified before under the current keys, in full otherwise.
    ///
    /// # Errors
    /// [`GuardError::InvalidToken`] naming the first failed check.
    pub fn verify_token(&self, token: &str, now: i64) -> Result<Principal, GuardError> {
        // Before hashing it for the cache: the size cap verification applies anyway.
        if token.len() > self.validation.max_token_len {
            return Err(authgate_jwt::Error::TooLarge.into());
        }
        let state = self.state.load();
        if let Some(hit) = self.cache.get(token).filter(|hit| hit.epoch == state.epoch) {
            self.cache.record_hit();
            return self.serve_hit(token, hit.principal, now);
        }
        self.cache.record_miss();
        let claims: AccessClaims = authgate_jwt::verify(token, &state.keys, &self.validation, now)?;
        let principal = Principal::new(claims);
        let cached = Cached {
            principal: principal.clone(),
            epoch: state.epoch,
        };
        self.cache.insert(token, cached);
        Ok(principal)
    }

    /// [`Verifier::verify_token`] when the cache answers: `Some` for a token
    /// that verified before under the current keys (its time claims checked
    /// against `now`, exactly as a hit of `verify_token`), `None` when the
    /// full path is needed (not cached, cached under replaced keys, or too
    /// large). Never checks a signature, so it costs a lookup: bindings to
    /// languages with a global lock (Python's GIL) answer hits with the lock
    /// held and release it only for the full path.
    pub fn verify_cached(&self, token: &str, now: i64) -> Option<Result<Principal, GuardError>> {
        if token.len() > self.validation.max_token_len {
            return None;
        }
        let epoch = self.state.load().epoch;
        let hit = self.cache.get(token).filter(|hit| hit.epoch == epoch)?;
        self.cache.record_hit();
        Some(self.serve_hit(token, hit.principal, now))
    }

    /// Answers from a cache entry of the current epoch: the signature and
    /// the other claims were checked when it was stored; time is checked now.
    fn serve_hit(
        &self,
        token: &str,
        principal: Principal,
        now: i64,
    ) -> Result<Principal, GuardError> {
        let claims = principal.claims();
        let fresh =
            self.validation
                .check_time(Some(claims.exp), Some(claims.nbf), Some(claims.iat), now);
        match fresh {
            Ok(()) => Ok(principal),
            Err(error) => {
                // Expired stays expired: free the slot. Not yet valid may
                // become valid (a clock stepped back), so that entry stays.
                if error == authgate_jwt::Error::Expired {
                    self.cache.remove(token);
                }
                Err(error.into())
            }
        }
    }

    /// Replaces the key set, atomically: a verification sees the old set or
    /// the new one, never a mix. Call it after a rotation or a JWKS fetch.
    ///
    /// No cached token keeps verifying with a key that left the set. When
    /// every key of the old set is still in the new one, unchanged (same
    /// `kid`, algorithm and public key: the usual JWKS refresh, or a `next`
    /// key being published), the cache is kept. Otherwise the key set starts
    /// a new epoch and the cache is cleared; an entry records the epoch it
    /// was verified under and a hit from another epoch is verified afresh,
    /// which also covers a verification that began with the old keys and
    /// stores its result after the clear. HMAC keys cannot be compared
    /// (their secret is not exported), so a set holding one always clears.
    pub fn set_keys(&self, keys: KeySet) {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let old = self.state.load_full();
        let keeps_cache = old.keys.iter().all(|key| still_present(key, &keys));
        let epoch = if keeps_cache {
            old.epoch
        } else {
            old.epoch.wrapping_add(1)
        };
        self.state.store(Arc::new(KeyState { keys, epoch }));
        if !keeps_cache {
            self.cache.clear();
        }
    }

    /// The ids of the keys in force, in the key set's order.
    pub fn key_ids(&self) -> Vec<String> {
        self.state
            .load()
            .keys
            .iter()
            .filter_map(|key| key.kid().map(str::to_owned))
            .collect()
    }

    /// [`Verifier::authenticate`] behind a [`Policy`]: `Ok(None)` without
    /// reading the header when `policy` says `method` on `path` is public,
    /// the principal otherwise. The synchronous form of
    /// [`Guard::authenticate_request`](crate::Guard::authenticate_request),
    /// for services that hold their keys themselves (no fetching, no
    /// introspection, no revocation check).
    ///
    /// # Errors
    /// As [`Verifier::authenticate`].
    pub fn authenticate_request(
        &self,
        policy: &(impl Policy + ?Sized),
        method: &str,
        path: &str,
        authorization: Option<&str>,
        now: i64,
    ) -> Result<Option<Principal>, GuardError> {
        if policy.should_skip_authentication(method, path) {
            return Ok(None);
        }
        self.authenticate(authorization, now).map(Some)
    }

    /// The cache counters: hits, misses (the cold path), entries, capacity.
    pub fn stats(&self) -> CacheStats {
        self.cache.stats()
    }
}

impl std::fmt::Debug for Verifier {
    /// Settings, key ids and counters; never a cached token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.load();
        f.debug_struct("Verifier")
            .field("validation", &self.validation)
            .field("keys", &state.keys)
            .field("epoch", &state.epoch)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

/// Whether `key` is in `keys` with the same id, algorithm and public key.
fn still_present(key: &VerifyingKey, keys: &KeySet) -> bool {
    let Some(new) = key.kid().and_then(|kid| keys.get(kid)) else {
        return false;
    };
    match (key.to_public_key_der(), new.to_public_key_der()) {
        (Ok(old_der), Ok(new_der)) => key.algorithm() == new.algorithm() && old_der == new_der,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
