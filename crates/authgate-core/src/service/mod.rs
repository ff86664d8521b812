//! The authentication service: what the HTTP routes call. One file per flow.

mod login;
mod refresh;
mod register;
mod sessions;

use std::collections::BTreeMap;
use std::sync::Arc;

use authgate_proto::{AccessClaims, Audience};
use time::Duration;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::clock::Clock;
use crate::error::AuthError;
use crate::keyring::Keyring;
use crate::model::{Session, User};
use crate::password::{PasswordHasher, PasswordPolicy};
use crate::records::RecordCache;
use crate::revocation::RevocationList;
use crate::secrets::MasterKey;
use crate::store::{SessionStore, UserStore};

pub use login::LoginRequest;
pub use register::Registration;
pub use sessions::{LogoutScope, Principal};

/// Settings of the flows, from `[tokens]`, `[registration]` and `[passwords]`.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// `iss` of every token.
    pub issuer: String,
    /// Short audience names → full `aud` values; must contain `default`.
    pub audiences: BTreeMap<String, String>,
    /// Access-token lifetime. Defaults to 15 minutes.
    pub access_ttl: Duration,
    /// Absolute session (and refresh-token) lifetime. Defaults to 30 days.
    pub refresh_ttl: Duration,
    /// How long the immediate parent of a session's current refresh token
    /// still gets the same successor back. Defaults to 10 seconds.
    pub refresh_reuse_grace: Duration,
    /// Clock skew tolerated when verifying. Defaults to 60 seconds.
    pub leeway: Duration,
    /// Whether anyone may register. Defaults to `true`.
    pub registration_open: bool,
    /// Roles given to new users. Defaults to `["user"]`.
    pub default_roles: Vec<String>,
    /// What new passwords must satisfy.
    pub password_policy: PasswordPolicy,
}

impl AuthSettings {
    /// Defaults for an issuer, with the `default` audience `authgate`.
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audiences: BTreeMap::from([("default".to_owned(), "authgate".to_owned())]),
            access_ttl: Duration::minutes(15),
            refresh_ttl: Duration::days(30),
            refresh_reuse_grace: Duration::seconds(10),
            leeway: Duration::seconds(60),
            registration_open: true,
            default_roles: vec!["user".to_owned()],
            password_policy: PasswordPolicy::default(),
        }
    }

    /// The full audience for a short name (`None` → `default`).
    ///
    /// # Errors
    /// [`AuthError::InvalidInput`] naming `audience` for an unknown name.
    pub fn audience(&self, name: Option<&str>) -> Result<&str, AuthError> {
        self.audiences
            .get(name.unwrap_or("default"))
            .map(String::as_str)
            .ok_or_else(|| AuthError::invalid("audience", "unknown audience"))
    }
}

/// What the stores, keys and clock the service runs on.
#[derive(Debug, Clone)]
pub struct AuthDeps {
    /// User records.
    pub users: Arc<dyn UserStore>,
    /// Sessions and refresh tokens.
    pub sessions: Arc<dyn SessionStore>,
    /// Signing and verifying keys.
    pub keyring: Arc<Keyring>,
    /// Password hashing pool.
    pub hasher: PasswordHasher,
    /// Revoked sessions, checked on every request.
    pub revocations: Arc<RevocationList>,
    /// Recently read users and sessions, so the hot path skips the store.
    pub records: Arc<RecordCache>,
    /// Seals grace-window successors.
    pub master: Arc<MasterKey>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

/// Register, log in, refresh, log out, and the caller's own sessions.
#[derive(Debug, Clone)]
pub struct AuthService {
    deps: AuthDeps,
    settings: Arc<AuthSettings>,
}

/// Tokens handed to a client after login or refresh.
pub struct Tokens {
    /// The signed access token (JWS).
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The opaque refresh token; shown once, stored only as a hash.
    pub refresh_token: Zeroizing<String>,
    /// Seconds until the session (and so the refresh token) ends.
    pub refresh_expires_in: i64,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("expires_in", &self.expires_in)
            .field("refresh_expires_in", &self.refresh_expires_in)
            .finish_non_exhaustive()
    }
}

impl AuthService {
    /// A service over `deps` with `settings`.
    ///
    /// # Errors
    /// [`AuthError::InvalidInput`] when the settings lack a `default` audience.
    pub fn new(deps: AuthDeps, settings: AuthSettings) -> Result<Self, AuthError> {
        settings.audience(None)?;
        Ok(Self {
            deps,
            settings: Arc::new(settings),
        })
    }

    /// The settings in force.
    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// The dependencies, for the server's own wiring (key set, metrics).
    pub fn deps(&self) -> &AuthDeps {
        &self.deps
    }

    /// Signs an access token for `user` in `session`.
    fn issue_access_token(
        &self,
        user: &User,
        session: &Session,
    ) -> Result<(String, i64), AuthError> {
        let now = self.deps.clock.unix();
        let ttl = self.settings.access_ttl.whole_seconds();
        let claims = AccessClaims {
            iss: self.settings.issuer.clone(),
            sub: user.id.to_string(),
            aud: Audience::new(session.audience.clone()),
            exp: now + ttl,
            iat: now,
            nbf: now,
            jti: Uuid::new_v4().to_string(),
            sid: Some(session.id),
            roles: user.roles.clone(),
            client_id: None,
            scope: None,
        };
        let ring = self.deps.keyring.ring();
        let token = authgate_jwt::sign(&ring.signing, Some("at+jwt"), &claims)
            .map_err(|e| AuthError::Internal(format!("signing failed: {e}")))?;
        Ok((token, ttl))
    }

    /// Records a session revocation in the in-process list, kept until its
    /// last access token has expired.
    fn remember_revoked(&self, sid: Uuid) {
        let forget_after = self.deps.clock.unix()
            + self.settings.access_ttl.whole_seconds()
            + self.settings.leeway.whole_seconds();
        self.deps.revocations.revoke_session(sid, forget_after);
        self.deps.records.forget_session(&sid);
    }
}
