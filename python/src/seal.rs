//! Sealing for key stores that leave the process: AES-256-GCM under a master
//! key, with a random nonce and the record's identity as associated data, so
//! a sealed key cannot be read without the master key nor moved to another record.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use zeroize::Zeroizing;

use crate::errors::key_store_error;

/// Length of a master key: 32 bytes (AES-256).
const MASTER_KEY_LEN: usize = 32;

fn cipher(master_key: &[u8]) -> PyResult<LessSafeKey> {
    if master_key.len() != MASTER_KEY_LEN {
        return Err(key_store_error("the master key must be 32 bytes"));
    }
    UnboundKey::new(&AES_256_GCM, master_key)
        .map(LessSafeKey::new)
        .map_err(|_| key_store_error("the master key was refused"))
}

/// `nonce || ciphertext || tag` of `plaintext` under `master_key`, bound to `aad`.
#[pyfunction]
pub(crate) fn seal<'py>(
    py: Python<'py>,
    master_key: &[u8],
    plaintext: &[u8],
    aad: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let key = cipher(master_key)?;
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| key_store_error("the system random source failed"))?;
    let mut sealed = Vec::with_capacity(NONCE_LEN + plaintext.len() + AES_256_GCM.tag_len());
    sealed.extend_from_slice(&nonce);
    let mut body = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        &mut body,
    )
    .map_err(|_| key_store_error("sealing failed"))?;
    sealed.extend_from_slice(&body);
    Ok(PyBytes::new(py, &sealed))
}

/// The plaintext of a [`seal`]ed record; fails if the master key, the data or `aad` differ.
#[pyfunction]
pub(crate) fn unseal<'py>(
    py: Python<'py>,
    master_key: &[u8],
    sealed: &[u8],
    aad: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let key = cipher(master_key)?;
    let bad =
        || key_store_error("a sealed key could not be opened (wrong master key or altered record)");
    if sealed.len() < NONCE_LEN {
        return Err(bad());
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| bad())?;
    let mut body = Zeroizing::new(body.to_vec());
    let plaintext = key
        .open_in_place(nonce, Aad::from(aad), &mut body)
        .map_err(|_| bad())?;
    Ok(PyBytes::new(py, plaintext))
}
