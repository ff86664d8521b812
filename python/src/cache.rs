//! Keys given as raw `str`/`bytes` (PyJWT style) are parsed once and kept in
//! a small cache, so passing the same secret or PEM on every call costs a
//! hash lookup rather than an HMAC key schedule or a PEM/RSA parse.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use authgate_jwt::Algorithm;
use zeroize::Zeroize;

/// Entries kept before the cache is emptied (applications use a handful of keys).
const CAPACITY: usize = 64;

/// A copy of key material used as a cache key, wiped when dropped.
#[derive(PartialEq, Eq)]
struct Material(Box<[u8]>);

impl Hash for Material {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Must hash exactly as `[u8]` does, for `Borrow<[u8]>` lookups.
        self.0.as_ref().hash(state);
    }
}

impl Borrow<[u8]> for Material {
    fn borrow(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Material {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// The keys built from one material: by algorithm and kid.
type Built<K> = Vec<(Algorithm, Option<String>, Arc<K>)>;

/// Parsed keys by (material, algorithm, kid).
#[derive(Debug)]
pub(crate) struct KeyCache<K> {
    entries: Mutex<HashMap<Material, Built<K>>>,
}

impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Material([redacted])")
    }
}

impl<K> KeyCache<K> {
    /// An empty cache.
    pub(crate) fn new() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The key for this material, algorithm and kid, built by `build` on a miss.
    ///
    /// # Errors
    /// Whatever `build` returns; failures are not cached.
    pub(crate) fn get_or_build<E>(
        &self,
        material: &[u8],
        alg: Algorithm,
        kid: Option<&str>,
        build: impl FnOnce() -> Result<K, E>,
    ) -> Result<Arc<K>, E> {
        if let Ok(entries) = self.entries.lock()
            && let Some(found) = entries.get(material).and_then(|keys| {
                keys.iter()
                    .find(|(a, k, _)| *a == alg && k.as_deref() == kid)
                    .map(|(_, _, key)| Arc::clone(key))
            })
        {
            return Ok(found);
        }
        let key = Arc::new(build()?);
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.entry(Material(material.into())).or_default().push((
                alg,
                kid.map(str::to_owned),
                Arc::clone(&key),
            ));
        }
        Ok(key)
    }
}
