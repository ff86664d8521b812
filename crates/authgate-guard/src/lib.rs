//! authgate-guard: lets a service trust authgate access tokens, and is the
//! one path that turns an `Authorization: Bearer …` header into a verified
//! [`Principal`], shared by the authgate server and by resource servers.
//!
//! Two layers:
//! - [`Verifier`], pure and synchronous: the accepted issuer and audiences,
//!   a [`KeySet`] swapped without locks when keys rotate
//!   ([`Verifier::set_keys`]), and a bounded cache of verified tokens so a
//!   token seen again skips the signature check. It checks access tokens as
//!   docs/http-api.md's "Access tokens" asks: header `typ` `at+jwt`, `iss`, one of the
//!   accepted `aud`, `exp`, `nbf`, `iat`, the signature by the key named by
//!   `kid` (never `alg: none` or another algorithm than the key's), and the
//!   claims `sub`, `jti`, `iat`. It does no I/O and has no clock: `now`
//!   (Unix seconds) is an argument. The authgate server uses it directly and
//!   checks revocation against its own store afterwards.
//! - [`Guard`], for resource servers: a `Verifier` plus one key source (a
//!   JWKS URL fetched, cached per `Cache-Control` and refreshed in the
//!   background; static keys; or RFC 7662 introspection), a [`Clock`], the
//!   role → permission map and an optional [`RevocationCheck`]. On top of
//!   it: axum extractors ([`Principal`], [`Claims`], [`RequireRole`],
//!   [`RequirePermission`]), a tower [`GuardLayer`], and the
//!   framework-agnostic [`Guard::authenticate_request`] with a [`Policy`]
//!   deciding which routes are public.
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
//! With a JWKS URL:
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use authgate_guard::{Claims, Guard, VerifierConfig};
//!
//! async fn me(Claims(claims): Claims) -> String {
//!     format!("hello {}", claims.sub)
//! }
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let guard = Guard::builder(VerifierConfig::new("https://auth.example", "api"))
//!     .jwks_url("https://auth.example/.well-known/jwks.json")
//!     .build()?;
//! let app: Router = Router::new().route("/me", get(me)).with_state(guard);
//! # Ok(()) }
//! ```
//!
//! Modules: `verifier` ([`Verifier`], the verification path and key swap),
//! `cache` (the bounded cache of verified tokens, [`CacheStats`]), `config`
//! ([`VerifierConfig`]), `bearer` ([`parse_bearer`], the strict header
//! parser), `principal` ([`Principal`], what a verified token grants),
//! `error` ([`GuardError`] and its `WWW-Authenticate` values), `response`
//! (errors as HTTP responses), `policy` ([`Policy`],
//! [`PublicRoutes`]), `guard` ([`Guard`], [`GuardBuilder`]), `jwks` (the
//! fetcher and its schedule, [`JwksSettings`], [`JwksStatus`]),
//! `introspection` ([`Introspector`]), `revocation` ([`RevocationCheck`]),
//! `extract` (the axum extractors), `layer` ([`GuardLayer`]).
//! [`Clock`] and [`Permissions`] are authgate-proto's, re-exported: the
//! server's core applies the same role map and reads the same clock.
//!
//! [`KeySet`]: authgate_jwt::KeySet

mod bearer;
mod cache;
mod config;
mod error;
mod extract;
mod guard;
mod http_client;
mod introspection;
mod jwks;
mod layer;
mod policy;
mod principal;
mod response;
mod revocation;
mod verifier;

pub use authgate_proto::clock::{Clock, ManualClock, SystemClock};
pub use authgate_proto::permissions::{ADMIN_ROLE, Permissions};
pub use bearer::{MAX_AUTHORIZATION_LEN, parse_bearer};
pub use cache::CacheStats;
pub use config::{DEFAULT_CACHE_CAPACITY, VerifierConfig};
pub use error::GuardError;
pub use extract::{Claims, PermissionName, RequirePermission, RequireRole, RoleName};
pub use guard::{Guard, GuardBuilder};
pub use http_client::DEFAULT_HTTP_TIMEOUT;
pub use introspection::{IntrospectionConfig, Introspector};
pub use jwks::{JwksHandle, JwksSettings, JwksStatus};
pub use layer::{GuardLayer, GuardService, principal_of};
pub use policy::{AuthenticateAll, Policy, PublicRoutes};
pub use principal::Principal;
pub use response::authorization_header;
pub use revocation::{IntrospectionRevocation, RevocationCheck};
pub use verifier::Verifier;
