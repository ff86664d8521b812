//! Shared fixtures: a fixed clock, a realistic claims set, keys generated once
//! per test process, and a way to sign token bytes our `sign` would refuse to
//! write (arrays as headers, padded base64, …) with an independent HMAC.

use std::sync::LazyLock;

use authgate_jwt::{Algorithm, Jwk, JwkSet, SigningKey, Validation, VerifyingKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The test clock: 2027-01-15, Unix seconds.
pub(crate) const NOW: i64 = 1_800_000_000;
/// The issuer every realistic token names.
pub(crate) const ISS: &str = "https://auth.example";
/// The audience every realistic token names.
pub(crate) const AUD: &str = "https://api.example";
/// A 32-byte HS256 secret: exactly the shortest RFC 7518 §3.2 allows.
pub(crate) const SECRET: &[u8] = b"correct horse battery staple 32b";

/// Unpadded base64url, as a JWS part.
pub(crate) fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes an unpadded base64url part.
pub(crate) fn unb64(part: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(part).unwrap()
}

/// The claims an authgate access token carries, valid at `now`.
pub(crate) fn claims_at(now: i64) -> Value {
    json!({
        "iss": ISS,
        "sub": "user-4711",
        "aud": AUD,
        "exp": now + 900,
        "iat": now,
        "nbf": now,
        "jti": "01JAX3K9Z7Q5V2M4N6P8R0T2W4",
        "sid": "sess-42",
        "roles": ["admin", "billing"],
    })
}

/// The validation a resource server for [`AUD`] uses.
pub(crate) fn validation() -> Validation {
    Validation::new().issuer(ISS).audience(AUD)
}

/// The verifying key for [`SECRET`].
pub(crate) fn hs256_key() -> VerifyingKey {
    VerifyingKey::from_secret(Algorithm::HS256, SECRET).unwrap()
}

/// `input.signature`, HS256 over the exact bytes of `input` with [`SECRET`],
/// computed by jsonwebtoken rather than by the crate under test.
pub(crate) fn hs256_sign_input(input: &str) -> String {
    let sig = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
        jsonwebtoken::Algorithm::HS256,
    )
    .unwrap();
    format!("{input}.{sig}")
}

/// An HS256 token whose header and payload are exactly these bytes.
pub(crate) fn hs256_raw(header: &str, payload: &str) -> String {
    hs256_sign_input(&format!("{}.{}", b64(header), b64(payload)))
}

fn rsa_pkcs8() -> Vec<u8> {
    SigningKey::generate(Algorithm::RS256)
        .unwrap()
        .to_pkcs8_der()
        .unwrap()
        .to_vec()
}

/// Two 2048-bit RSA keys, generated once per test process (key generation is the slow part).
static RSA_PKCS8: LazyLock<[Vec<u8>; 2]> = LazyLock::new(|| [rsa_pkcs8(), rsa_pkcs8()]);

fn is_rsa(alg: Algorithm) -> bool {
    alg.as_str().starts_with("RS") || alg.as_str().starts_with("PS")
}

/// A signing key for `alg`: the shared RSA key for RSA algorithms, a fresh key otherwise.
pub(crate) fn signing_key(alg: Algorithm) -> SigningKey {
    if is_rsa(alg) {
        SigningKey::from_pkcs8_der(alg, &RSA_PKCS8[0]).unwrap()
    } else {
        SigningKey::generate(alg).unwrap()
    }
}

/// A signing key for `alg` that is not [`signing_key`]'s.
pub(crate) fn other_signing_key(alg: Algorithm) -> SigningKey {
    if is_rsa(alg) {
        SigningKey::from_pkcs8_der(alg, &RSA_PKCS8[1]).unwrap()
    } else {
        SigningKey::generate(alg).unwrap()
    }
}

/// PKCS#8 v1 `PrivateKeyInfo` for Ed25519 (RFC 8410 §7) up to the 32-byte seed.
pub(crate) const ED25519_PKCS8_V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The Ed25519 key with this 32-byte `seed`: Ed25519 signing is deterministic,
/// so its tokens are the same on every run.
pub(crate) fn ed25519_from_seed(seed: &[u8]) -> SigningKey {
    let mut der = ED25519_PKCS8_V1_PREFIX.to_vec();
    der.extend_from_slice(seed);
    SigningKey::from_pkcs8_der(Algorithm::EdDSA, &der).unwrap()
}

/// `token` with the bit `mask` flipped in byte `index` of its signature.
pub(crate) fn flip_signature_bit(token: &str, index: usize, mask: u8) -> String {
    let (input, sig) = token.rsplit_once('.').unwrap();
    let mut sig = unb64(sig);
    sig[index] ^= mask;
    format!("{input}.{}", b64(sig))
}

/// The URL-safe base64 alphabet, in sextet order.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `text` with the sextet of its last base64url character OR-ed with `noise`:
/// for `noise` below the count of trailing bits, the same bytes spelled otherwise.
pub(crate) fn with_trailing_noise(text: &str, noise: u8) -> String {
    let mut respelled = text.to_owned();
    let last = respelled.pop().unwrap();
    let value = ALPHABET
        .iter()
        .position(|c| char::from(*c) == last)
        .unwrap();
    respelled.push(char::from(ALPHABET[value | usize::from(noise)]));
    respelled
}

/// A JWK from its JSON.
pub(crate) fn jwk(value: Value) -> Jwk {
    serde_json::from_value(value).unwrap()
}

/// A JWKS document holding `keys` (a JSON array).
pub(crate) fn jwks(keys: Value) -> JwkSet {
    serde_json::from_value(json!({ "keys": keys })).unwrap()
}
