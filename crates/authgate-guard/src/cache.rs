//! The bounded cache of verified tokens, and its counters.
//!
//! Keyed by the whole token string, compared for equality: a digest of the
//! token (or a prefix of it) as the key would let a forged token that
//! collides with a cached one skip verification. Only tokens that verified
//! are stored: a failure is cheap to recompute for the honest client who
//! sent it, and caching failures would let a flood of garbage evict the good
//! entries.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};

use quick_cache::sync::{Cache, DefaultLifecycle};
use quick_cache::{DefaultHashBuilder, OptionsBuilder, UnitWeighter};

use crate::Principal;

/// Each cache shard is locked on its own; fewer than this many entries per
/// shard and the shards are too small to be fair (quick_cache's own rule).
const MIN_ENTRIES_PER_SHARD: usize = 32;

/// Counters of the token cache, for metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CacheStats {
    /// Verifications answered from the cache (including hits refused for
    /// time: expired, not yet valid).
    pub hits: u64,
    /// Verifications that took the full path (the cold path): cache off,
    /// token not cached, or cached under a key set since replaced.
    pub misses: u64,
    /// Tokens in the cache now.
    pub entries: usize,
    /// Most tokens the cache holds (0: cache off). Can be a little under the
    /// configured capacity, so that it divides evenly between the shards.
    pub capacity: usize,
}

/// A verified token as cached.
#[derive(Debug, Clone)]
pub(crate) struct Cached {
    /// The claims handed out on every hit.
    pub(crate) principal: Principal,
    /// The key-set epoch the token was verified under; a hit under another
    /// epoch is a miss (see `Verifier::set_keys`).
    pub(crate) epoch: u64,
}

/// Verified tokens by their full text, with hit and miss counters.
pub(crate) struct TokenCache {
    /// `None` when the capacity is 0.
    entries: Option<Cache<Box<str>, Cached>>,
    /// The capacity actually enforced, reported in [`CacheStats`].
    capacity: usize,
    /// See [`CacheStats::hits`]; relaxed, a counter orders nothing.
    hits: AtomicU64,
    /// See [`CacheStats::misses`].
    misses: AtomicU64,
}

impl TokenCache {
    /// A cache of at most `capacity` tokens; 0 builds none.
    ///
    /// quick_cache rounds each shard's share of the capacity up; we pick the
    /// shard count ourselves and round the total down instead, so the bound
    /// holds exactly.
    pub(crate) fn new(capacity: usize) -> Result<Self, &'static str> {
        let (entries, capacity) = if capacity == 0 {
            (None, 0)
        } else {
            let parallelism = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
            let mut shards = parallelism
                .saturating_mul(4)
                .checked_next_power_of_two()
                .unwrap_or(1);
            while shards > 1 && capacity / shards < MIN_ENTRIES_PER_SHARD {
                shards /= 2;
            }
            let total = capacity / shards * shards;
            let options = OptionsBuilder::new()
                .shards(shards)
                .estimated_items_capacity(total)
                .weight_capacity(total as u64)
                .build()
                .map_err(|_| "the token cache options are invalid")?;
            let cache = Cache::with_options(
                options,
                UnitWeighter,
                DefaultHashBuilder::default(),
                DefaultLifecycle::default(),
            );
            (Some(cache), total)
        };
        Ok(Self {
            entries,
            capacity,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        })
    }

    /// The cached entry for exactly `token`, if any.
    pub(crate) fn get(&self, token: &str) -> Option<Cached> {
        self.entries.as_ref()?.get(token)
    }

    /// Caches a token that has just verified.
    pub(crate) fn insert(&self, token: &str, cached: Cached) {
        if let Some(entries) = &self.entries {
            entries.insert(token.into(), cached);
        }
    }

    /// Drops `token` (it has expired).
    pub(crate) fn remove(&self, token: &str) {
        if let Some(entries) = &self.entries {
            entries.remove(token);
        }
    }

    /// Drops every token.
    pub(crate) fn clear(&self) {
        if let Some(entries) = &self.entries {
            entries.clear();
        }
    }

    pub(crate) fn record_hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn record_miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters now.
    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.entries.as_ref().map_or(0, Cache::len),
            capacity: self.capacity,
        }
    }
}

impl std::fmt::Debug for TokenCache {
    /// Counters only: the keys are bearer tokens, which must never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use authgate_proto::{AccessClaims, Audience};

    fn cached(n: u64) -> Cached {
        let claims = AccessClaims {
            iss: "i".into(),
            sub: format!("s{n}"),
            aud: Audience::new("a"),
            exp: 2,
            iat: 1,
            nbf: 1,
            jti: "j".into(),
            sid: None,
            roles: Vec::new(),
            client_id: None,
            scope: None,
        };
        Cached {
            principal: Principal::new(claims),
            epoch: n,
        }
    }

    #[test]
    fn the_cache_never_holds_more_than_its_capacity() {
        for capacity in [1, 31, 65, 100, 1000, 1023] {
            let cache = TokenCache::new(capacity).unwrap();
            for n in 0..(capacity as u64 * 3) {
                cache.insert(&format!("token-{n}"), cached(n));
                assert!(cache.stats().entries <= capacity, "capacity {capacity}");
            }
            let stats = cache.stats();
            assert!(stats.capacity <= capacity && stats.capacity > 0);
            assert!(stats.entries > 0);
        }
    }

    #[test]
    fn a_capacity_of_zero_caches_nothing() {
        let cache = TokenCache::new(0).unwrap();
        cache.insert("t", cached(1));
        assert!(cache.get("t").is_none());
        assert_eq!(cache.stats().entries, 0);
    }

    #[test]
    fn lookups_compare_the_whole_token() {
        let cache = TokenCache::new(100).unwrap();
        cache.insert("header.payload.signature", cached(1));
        assert!(cache.get("header.payload.signature").is_some());
        assert!(cache.get("header.payload.signaturf").is_none());
        assert!(cache.get("header.payload.signatur").is_none());
    }

    #[test]
    fn debug_output_shows_no_token() {
        let cache = TokenCache::new(100).unwrap();
        cache.insert("secret-token", cached(1));
        assert!(!format!("{cache:?}").contains("secret-token"));
    }
}
