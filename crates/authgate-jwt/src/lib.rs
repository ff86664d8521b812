//! authgate-jwt: strict, fast JWS/JWT signing and verification with JWK/JWKS.
//!
//! Strict by default, per RFC 8725: every key carries its one [`Algorithm`]
//! and a token naming another is refused (no algorithm confusion, no `none`);
//! `crit` headers, non-canonical base64url, registered time claims that are
//! not numbers and duplicate registered claims are malformed; `exp` is
//! required; `iss`, `aud` and `typ` are checked when configured, and a token
//! with an audience is refused by a verifier that has none. Time is always an
//! argument: this crate has no clock, no I/O and no global state.
//!
//! Keys are parsed once ([`SigningKey`], [`VerifyingKey`], [`KeySet`]), so
//! [`verify`] does no key parsing and allocates only the claims.
//!
//! ```
//! use authgate_jwt::{Algorithm, Claims, SigningKey, Validation, sign, verify};
//!
//! let key = SigningKey::generate(Algorithm::EdDSA)?;
//! let now = 1_800_000_000;
//! let claims = serde_json::json!({"iss": "https://auth.example", "sub": "alice", "aud": "api", "exp": now + 900});
//! let token = sign(&key, Some("at+jwt"), &claims)?;
//!
//! let validation = Validation::new().issuer("https://auth.example").audience("api").typ("at+jwt");
//! let verified: Claims = verify(&token, key.verifying_key(), &validation, now)?;
//! assert_eq!(verified.sub.as_deref(), Some("alice"));
//! # Ok::<(), authgate_jwt::Error>(())
//! ```
//!
//! Modules: `algorithm` (the algorithms), `signing`/`verifying` (keys),
//! `jwk` (JWK, JWKS, thumbprints), `keyset` (keys by `kid`), `validation`,
//! `jws` (sign and verify), `claims`, `header`, `peek` (unverified reading
//! for clients), `error`.

mod algorithm;
mod b64;
mod claims;
mod der;
mod error;
mod header;
mod jwk;
mod jws;
mod keyset;
mod peek;
mod signing;
mod validation;
mod verifying;

pub use algorithm::Algorithm;
pub use claims::{Audience, Claims, numeric_date};
pub use error::Error;
pub use header::Header;
pub use jwk::{Jwk, JwkSet};
pub use jws::{sign, verify};
pub use keyset::{KeyResolver, KeySet};
pub use peek::{Unverified, decode_unverified, expires_in, is_expired};
pub use signing::SigningKey;
pub use validation::{DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_LEN, Validation};
pub use verifying::VerifyingKey;
