//! Migrating stored signing keys to the current sealing format on start
//! (see [`MasterKey`]'s formats): each key sealed by an older version is
//! sealed again and swapped in only if no one changed it meanwhile.

use authgate_proto::KeyState;

use crate::error::AuthError;
use crate::secrets::{MasterKey, Purpose};
use crate::store::KeyStore;

/// Re-seals, in the current format, every stored key that will be used
/// (not expired) and is sealed in an older one. Returns how many it did.
///
/// Safe with several instances starting at once: the store swaps a blob
/// only if it still holds the old one, and both blobs open to the same key.
///
/// # Errors
/// [`AuthError::Internal`] when a key does not open with `master` (a wrong
/// master key: refusing to start beats signing with garbage); store errors.
pub(super) async fn reseal_stored(
    store: &dyn KeyStore,
    master: &MasterKey,
) -> Result<usize, AuthError> {
    let mut resealed = 0;
    for key in store.keys().await? {
        if key.state == KeyState::Expired {
            continue;
        }
        let Some(new) = master
            .reseal(Purpose::SigningKey, &key.private_sealed, key.kid.as_bytes())
            .map_err(|_| {
                AuthError::Internal(format!(
                    "stored signing key {} does not decrypt with the configured master key; \
                     is it the one this database was created with?",
                    key.kid
                ))
            })?
        else {
            continue;
        };
        if store
            .reseal_key(&key.kid, &key.private_sealed, &new)
            .await?
        {
            resealed += 1;
        }
    }
    if resealed > 0 {
        tracing::info!(resealed, "signing keys re-sealed in the current format");
    }
    Ok(resealed)
}
