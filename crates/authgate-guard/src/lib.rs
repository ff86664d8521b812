//! authgate-guard: the one path that turns an `Authorization: Bearer …`
//! header into a verified [`Principal`], shared by the authgate server and
//! by resource servers.
//!
//! A [`Verifier`] holds the accepted issuer and audiences, a [`KeySet`] that
//! can be swapped without locks when keys rotate ([`Verifier::set_keys`]),
//! and a bounded cache of verified tokens so that a token seen again skips
//! the signature check. It checks access tokens as API.md's "Access tokens"
//! asks: header `typ` `at+jwt`, `iss`, one of the accepted `aud`, `exp`,
//! `nbf`, `iat`, the signature by the key named by `kid` (never `alg: none`
//! or another algorithm than the key's), and the claims `sub`, `jti`, `iat`.
//!
//! Like authgate-jwt it does no I/O and has no clock: `now` (Unix seconds)
//! is an argument. Revocation is not checked here: after a successful
//! verification the caller checks the token's `sid` and `jti` against its
//! revocation store, on every request, cached token or not.
//!
//! ```
//! use authgate_guard::{Verifier, VerifierConfig};
//! use authgate_jwt::{Algorithm, KeySet, SigningKey, sign};
//!
//! let key = SigningKey::generate(Algorithm::EdDSA)?;
//! let mut keys = KeySet::new();
//! keys.insert(key.verifying_key().clone())?;
//! let verifier = Verifier::new(VerifierConfig::new("https://auth.example", "api"), keys)?;
//!
//! let now = 1_800_000_000;
//! let claims = serde_json::json!({
//!     "iss": "https://auth.example", "sub": "alice", "aud": "api", "jti": "t1",
//!     "iat": now, "nbf": now, "exp": now + 900, "roles": ["user"],
//! });
//! let header = format!("Bearer {}", sign(&key, Some("at+jwt"), &claims)?);
//!
//! let principal = verifier.authenticate(Some(&header), now)?;
//! assert_eq!(principal.subject(), "alice");
//! assert!(principal.has_role("user"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules: `verifier` ([`Verifier`], the verification path and key swap),
//! `cache` (the bounded cache of verified tokens, [`CacheStats`]), `config`
//! ([`VerifierConfig`]), `bearer` ([`parse_bearer`], the strict header
//! parser), `principal` ([`Principal`], what a verified token grants),
//! `error` ([`GuardError`] and its `WWW-Authenticate` values).
//!
//! [`KeySet`]: authgate_jwt::KeySet

mod bearer;
mod cache;
mod config;
mod error;
mod principal;
mod verifier;

pub use bearer::{MAX_AUTHORIZATION_LEN, parse_bearer};
pub use cache::CacheStats;
pub use config::{DEFAULT_CACHE_CAPACITY, VerifierConfig};
pub use error::GuardError;
pub use principal::Principal;
pub use verifier::Verifier;
