//! The records the domain keeps: users, sessions, refresh tokens and signing keys.

use std::fmt;

use authgate_proto::{KeyState, PublicUser};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::secrets::TokenHash;

/// A registered user, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// UUID v7; the `sub` of every token the user gets.
    pub id: Uuid,
    /// Lower-cased and trimmed; unique.
    pub email: String,
    /// Lower-cased; unique when present.
    pub username: Option<String>,
    /// Display name, as given.
    pub name: Option<String>,
    /// Argon2id PHC string. Never leaves the server.
    pub password_hash: String,
    /// Role names; permissions come from configuration.
    pub roles: Vec<String>,
    /// Disabled users cannot log in and their sessions are revoked.
    pub is_active: bool,
    /// When the user proved they receive mail at `email` (a verification
    /// link); `None` until then. With `auth.require_verified_email` an
    /// account without it cannot log in.
    pub email_verified_at: Option<OffsetDateTime>,
    /// When the user registered.
    pub created_at: OffsetDateTime,
    /// Last change to the record.
    pub updated_at: OffsetDateTime,
}

impl User {
    /// The public view of docs/http-api.md (`PublicUser`): never the hash.
    pub fn to_public(&self) -> PublicUser {
        PublicUser {
            id: self.id,
            email: self.email.clone(),
            username: self.username.clone(),
            name: self.name.clone(),
            roles: self.roles.clone(),
            is_active: self.is_active,
            email_verified: self.email_verified_at.is_some(),
            created_at: self.created_at,
        }
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("username", &self.username)
            .field("roles", &self.roles)
            .field("is_active", &self.is_active)
            .finish_non_exhaustive()
    }
}

/// A login session: what a refresh-token chain and its access tokens belong to (`sid`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The `sid` claim.
    pub id: Uuid,
    /// Whose session it is.
    pub user_id: Uuid,
    /// When the login happened.
    pub created_at: OffsetDateTime,
    /// Last refresh (or the login).
    pub last_used_at: OffsetDateTime,
    /// Absolute end of the session; refreshing never extends it.
    pub expires_at: OffsetDateTime,
    /// The caller's address at login, as the server saw it.
    pub ip: Option<String>,
    /// `User-Agent` at login, truncated.
    pub user_agent: Option<String>,
    /// The full audience string chosen at login; refreshed access tokens keep it.
    pub audience: String,
    /// Set once the session is revoked (logout, reuse, disable); never unset.
    pub revoked_at: Option<OffsetDateTime>,
    /// The relying party the session was created for by a code exchange,
    /// and what it was granted; `None` for the user's own logins. A bound
    /// session refreshes only for its client at `/oauth/token`, never at
    /// `/auth/refresh` (docs/architecture.md "OpenID Connect").
    pub client: Option<ClientGrant>,
}

/// What a relying party's session holds (OpenID Connect): the client and
/// what the user granted it, kept for the refreshes of that session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientGrant {
    /// The client's id (`client_id` of its access tokens, `aud` of its ID tokens).
    pub client_id: String,
    /// The granted scopes; a refresh may narrow them, never widen them.
    pub scopes: Vec<String>,
    /// The browser session that approved the request: the ID token's `sid`.
    pub browser_session_id: Uuid,
    /// When the user authenticated: the ID token's `auth_time`, the same
    /// in every ID token of the session (OIDC Core §12.2).
    pub auth_time: OffsetDateTime,
}

impl ClientGrant {
    /// The granted scopes as OAuth writes them (space-separated).
    pub fn scope(&self) -> String {
        self.scopes.join(" ")
    }

    /// Scopes read back from their space-separated form.
    pub fn scopes_of(scope: &str) -> Vec<String> {
        scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

impl Session {
    /// Whether tokens of this session may still be used at `now`.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// One refresh token of a session's chain. Only its hash is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// SHA-256 of the token; the primary key.
    pub hash: TokenHash,
    /// The session it belongs to.
    pub session_id: Uuid,
    /// 0 for the login's token, +1 per rotation.
    pub generation: i64,
    /// When it was issued.
    pub issued_at: OffsetDateTime,
    /// When it was exchanged for its successor; a second use is reuse.
    pub used_at: Option<OffsetDateTime>,
    /// The token it was rotated into.
    pub successor: Option<TokenHash>,
    /// The successor token itself, sealed with the master key, kept only for
    /// the reuse grace window so that a racing second refresh gets the same
    /// successor (docs/http-api.md); wiped afterwards.
    pub successor_sealed: Option<Vec<u8>>,
    /// Same as the session's end.
    pub expires_at: OffsetDateTime,
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshToken")
            .field("session_id", &self.session_id)
            .field("generation", &self.generation)
            .field("used_at", &self.used_at)
            .finish_non_exhaustive()
    }
}

/// A refresh token with its session and that session's user, as one read
/// of the store found them: everything a refresh looks at before it rotates.
#[derive(Debug, Clone)]
pub struct RefreshContext {
    /// The token.
    pub token: RefreshToken,
    /// Its session; `None` once purged.
    pub session: Option<Session>,
    /// The session's user; `None` when there is no session.
    pub user: Option<User>,
}

/// A signing key as stored: private material sealed with the master key.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// Key id (RFC 7638 thumbprint for asymmetric keys).
    pub kid: String,
    /// JWS algorithm name.
    pub alg: String,
    /// Lifecycle state (docs/architecture.md "Keys and rotation").
    pub state: KeyState,
    /// Which tokens it signs; each lane rotates on its own.
    pub lane: authgate_proto::KeyLane,
    /// PKCS#8 DER (or the HMAC secret), sealed with the master key's
    /// signing-key subkey (AES-256-GCM, see `MasterKey`), kid as AAD.
    pub private_sealed: Vec<u8>,
    /// When the key was created.
    pub created_at: OffsetDateTime,
    /// When it starts (or started) signing.
    pub activates_at: Option<OffsetDateTime>,
    /// When it stops (or stopped) signing.
    pub retires_at: Option<OffsetDateTime>,
    /// When it leaves JWKS and stops verifying.
    pub expires_at: Option<OffsetDateTime>,
}

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("state", &self.state)
            .field("lane", &self.lane)
            .finish_non_exhaustive()
    }
}

/// A page request over users, ordered by id (UUID v7, so by registration time).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    /// Return users with ids after this one.
    pub after: Option<Uuid>,
    /// At most this many.
    pub limit: u32,
    /// Lower-cased prefix of email or username.
    pub prefix: Option<String>,
}

/// A service client (OAuth 2.0 client-credentials): another program that
/// gets tokens of its own, with roles like a user.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceClient {
    /// The public identifier (`client_id`, the `sub` of its tokens).
    pub id: String,
    /// A human name, for listings and audit records.
    pub name: String,
    /// SHA-256 of the secret; the secret itself is shown once and never kept.
    pub secret_hash: TokenHash,
    /// Role names; permissions come from configuration.
    pub roles: Vec<String>,
    /// When the client was created.
    pub created_at: OffsetDateTime,
    /// `false` once an administrator disabled it: it gets no tokens and its
    /// tokens are refused until it is enabled again.
    pub is_active: bool,
}

impl ServiceClient {
    /// The client as the API shows it: no secret, no hash.
    pub fn to_info(&self) -> authgate_proto::ServiceClientInfo {
        authgate_proto::ServiceClientInfo {
            client_id: self.id.clone(),
            name: self.name.clone(),
            roles: self.roles.clone(),
            is_active: self.is_active,
            created_at: self.created_at,
        }
    }
}

impl fmt::Debug for ServiceClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceClient")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("roles", &self.roles)
            .field("is_active", &self.is_active)
            .finish_non_exhaustive()
    }
}

/// A filter over audit events, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only events about this user.
    pub user_id: Option<Uuid>,
    /// Only events of this kind.
    pub kind: Option<String>,
    /// Only events at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Only events before this time (the end of a time range, exclusive).
    pub until: Option<OffsetDateTime>,
    /// Only events after this one in the newest-first order: the last event
    /// of the previous page, so pages neither skip nor repeat events that
    /// share a timestamp.
    pub after: Option<AuditCursor>,
    /// At most this many.
    pub limit: u32,
}

/// A place in the newest-first order of audit events (`at`, then `id`, both descending).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditCursor {
    /// The event's time.
    pub at: OffsetDateTime,
    /// The event's id.
    pub id: Uuid,
}
