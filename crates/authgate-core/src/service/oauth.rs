//! Who is calling (user or service client), client authentication, the
//! client-credentials grant, introspection (RFC 7662) and revocation (RFC 7009).

use std::str::FromStr;

use authgate_proto::{AccessClaims, Audience, AuditKind};
use aws_lc_rs::constant_time;
use uuid::Uuid;

use super::AuthService;
use super::sessions::SessionCaller;
use crate::audit::{Origin, detail, event};
use crate::error::AuthError;
use crate::model::ServiceClient;
use crate::secrets::TokenHash;

/// Longest `client_id` looked up; longer ones cannot exist.
pub(super) const MAX_CLIENT_ID: usize = 128;
/// Longest client secret hashed; real ones are 43 characters.
const MAX_CLIENT_SECRET: usize = 512;
/// Longest opaque token looked up (refresh tokens are 43 characters).
const MAX_OPAQUE_TOKEN: usize = 512;

/// The caller of an administration or OAuth endpoint: a user (by a user
/// access token) or a service client (by a client-credentials token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A user; `roles` are the user's roles *now*, not the token's, so a
    /// demoted administrator loses the admin routes at once.
    User {
        /// The verified, unrevoked user token.
        session: SessionCaller,
        /// The user's current roles.
        roles: Vec<String>,
    },
    /// A service client.
    ServiceClient {
        /// The client's id (`sub` and `client_id` of its token).
        client_id: String,
        /// The client's current roles.
        roles: Vec<String>,
    },
}

impl Caller {
    /// The roles that decide what the caller may do.
    pub fn roles(&self) -> &[String] {
        match self {
            Self::User { roles, .. } | Self::ServiceClient { roles, .. } => roles,
        }
    }

    /// The id recorded as `actor_id` in audit events.
    pub fn actor_id(&self) -> String {
        match self {
            Self::User { session, .. } => session.user_id.to_string(),
            Self::ServiceClient { client_id, .. } => client_id.clone(),
        }
    }

    /// The user, for a user caller.
    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Self::User { session, .. } => Some(session.user_id),
            Self::ServiceClient { .. } => None,
        }
    }

    /// The client id, for a client caller.
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Self::User { .. } => None,
            Self::ServiceClient { client_id, .. } => Some(client_id),
        }
    }
}

/// An access token issued to a service client.
#[derive(Debug)]
pub struct ServiceClientToken {
    /// The signed access token.
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in: i64,
}

/// What introspection learns of an active access token beyond its claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntrospectedAccess {
    /// The user's username, for user tokens that have one.
    pub username: Option<String>,
    /// The roles its user or client holds now, which is what a resource
    /// server asking should act on: a demotion counts at once, not when
    /// the token (signed with the old roles) expires.
    pub roles: Vec<String>,
}

/// An active refresh token, as introspection reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntrospectedRefresh {
    /// The user.
    pub user_id: Uuid,
    /// The session.
    pub session_id: Uuid,
    /// When the token was issued (Unix seconds).
    pub issued_at: i64,
    /// When it expires (Unix seconds).
    pub expires_at: i64,
}

impl AuthService {
    /// The caller of an administration or OAuth endpoint, from verified
    /// claims: a user token whose session is live and whose user is enabled
    /// (with the user's roles now, not the token's), or a token of a client
    /// that still exists and is enabled (with its roles now); `None` for
    /// anything revoked, disabled or unknown.
    ///
    /// # Errors
    /// Store errors: the caller cannot be confirmed, so nothing is granted
    /// on the token's word alone (a disabled user or a deleted client keeps
    /// no powers while the database is unreachable).
    pub async fn authenticate_caller(
        &self,
        claims: &AccessClaims,
    ) -> Result<Option<Caller>, AuthError> {
        if claims.sid.is_some() {
            let Some(session) = self.authenticate_strictly(claims).await? else {
                return Ok(None);
            };
            return Ok(match self.user_record(session.user_id).await? {
                Some(user) if user.is_active => Some(Caller::User {
                    roles: user.roles.clone(),
                    session,
                }),
                _ => None,
            });
        }
        if self.deps.revocations.is_token_revoked(&claims.jti) {
            return Ok(None);
        }
        let Some(client_id) = claims.client_id.as_deref().filter(|c| *c == claims.sub) else {
            return Ok(None);
        };
        Ok(self
            .deps
            .clients
            .client(client_id)
            .await?
            .filter(|client| client.is_active)
            .map(|client| Caller::ServiceClient {
                client_id: client.id,
                roles: client.roles,
            }))
    }

    /// Authenticates a service client by id and secret (RFC 6749 §2.3.1).
    ///
    /// Unknown clients cost the same hash and comparison as known ones, and
    /// the comparison is constant-time.
    ///
    /// # Errors
    /// [`AuthError::InvalidClient`] for an unknown or disabled client or a
    /// wrong secret; store errors.
    pub async fn authenticate_client(
        &self,
        id: &str,
        secret: &str,
    ) -> Result<ServiceClient, AuthError> {
        if id.is_empty()
            || id.len() > MAX_CLIENT_ID
            || !crate::text::is_opaque_id(id)
            || secret.is_empty()
            || secret.len() > MAX_CLIENT_SECRET
        {
            return Err(AuthError::InvalidClient);
        }
        let client = self.deps.clients.client(id).await?;
        let presented = TokenHash::of(secret);
        let expected = client
            .as_ref()
            .map_or(TokenHash([0; 32]), |c| c.secret_hash);
        let matches = constant_time::verify_slices_are_equal(&presented.0, &expected.0).is_ok();
        // A disabled client gets the answer of a wrong secret: nothing tells
        // a caller holding a leaked secret that it was right.
        match client {
            Some(client) if matches && client.is_active => Ok(client),
            _ => Err(AuthError::InvalidClient),
        }
    }

    /// The client-credentials grant: an access token whose `sub` and
    /// `client_id` are the client's id, with its roles and no session.
    /// `audience` is a configured short name (or its full value); `None` is
    /// `default`. `scope` is the granted scope (RFC 9068 §2.2.3), already
    /// checked against what the client's roles grant; `None` for none asked.
    ///
    /// # Errors
    /// [`AuthError::InvalidInput`] naming `audience` for an unknown one;
    /// signing failures.
    pub fn client_token(
        &self,
        client: &ServiceClient,
        audience: Option<&str>,
        scope: Option<String>,
    ) -> Result<ServiceClientToken, AuthError> {
        let aud = match audience {
            Some(value) if self.settings.audiences.values().any(|a| a == value) => value.to_owned(),
            other => self.settings.audience(other)?.to_owned(),
        };
        let now = self.deps.clock.unix();
        let ttl = self.settings.access_ttl.whole_seconds();
        let claims = AccessClaims {
            iss: self.settings.issuer.clone(),
            sub: client.id.clone(),
            aud: Audience::new(aud),
            exp: now + ttl,
            iat: now,
            nbf: now,
            jti: Uuid::new_v4().to_string(),
            sid: None,
            roles: client.roles.clone(),
            client_id: Some(client.id.clone()),
            scope,
        };
        let ring = self.deps.keyring.ring();
        let access_token = authgate_jwt::sign(&ring.signing, Some("at+jwt"), &claims)
            .map_err(|e| AuthError::Internal(format!("signing failed: {e}")))?;
        Ok(ServiceClientToken {
            access_token,
            expires_in: ttl,
        })
    }

    /// Whether verified access-token claims are still active (RFC 7662):
    /// not revoked, their session live, their user enabled (or their client
    /// still registered and enabled). `None` when inactive, and when that cannot be
    /// confirmed (a store error): a token is never reported active on its
    /// own word.
    pub async fn introspect_access(&self, claims: &AccessClaims) -> Option<IntrospectedAccess> {
        if claims.sid.is_some() && claims.client_id.is_some() {
            // A relying party's token: active while its session and user are.
            return match self.delegated_user(claims).await {
                Ok(user) => user.map(|user| IntrospectedAccess {
                    username: user.username.clone(),
                    roles: Vec::new(),
                }),
                Err(e) => {
                    tracing::warn!(error = %e, "introspection could not check the token; inactive");
                    None
                }
            };
        }
        let caller = match self.authenticate_caller(claims).await {
            Ok(caller) => caller?,
            Err(e) => {
                tracing::warn!(error = %e, "introspection could not check the token; inactive");
                return None;
            }
        };
        match caller {
            Caller::User { session, roles, .. } => {
                let user = self.user_record(session.user_id).await.ok()??;
                user.is_active.then(|| IntrospectedAccess {
                    username: user.username.clone(),
                    roles,
                })
            }
            Caller::ServiceClient { roles, .. } => Some(IntrospectedAccess {
                username: None,
                roles,
            }),
        }
    }

    /// An opaque refresh token, if it is active: known, not yet rotated,
    /// its session live and its user enabled.
    ///
    /// # Errors
    /// Store errors.
    pub async fn introspect_refresh(
        &self,
        token: &str,
    ) -> Result<Option<IntrospectedRefresh>, AuthError> {
        if token.is_empty() || token.len() > MAX_OPAQUE_TOKEN {
            return Ok(None);
        }
        let Some(record) = self
            .deps
            .sessions
            .refresh_token(&TokenHash::of(token))
            .await?
        else {
            return Ok(None);
        };
        let now = self.deps.clock.now();
        if record.used_at.is_some() || record.expires_at <= now {
            return Ok(None);
        }
        let Some(session) = self.deps.sessions.session(record.session_id).await? else {
            return Ok(None);
        };
        if !session.is_live(now) {
            return Ok(None);
        }
        let active = self
            .deps
            .users
            .user_by_id(session.user_id)
            .await?
            .is_some_and(|u| u.is_active);
        Ok(active.then(|| IntrospectedRefresh {
            user_id: session.user_id,
            session_id: session.id,
            issued_at: record.issued_at.unix_timestamp(),
            expires_at: record.expires_at.unix_timestamp(),
        }))
    }

    /// Records an introspection (`token.introspected`): which client asked
    /// and whether the token was active, never the token.
    pub async fn record_introspection(
        &self,
        client_id: &str,
        subject: Option<&str>,
        active: bool,
        origin: &Origin,
    ) {
        let mut e = event(AuditKind::TOKEN_INTROSPECTED, self.deps.clock.now(), origin);
        e.actor_id = Some(client_id.to_owned());
        e.client_id = Some(client_id.to_owned());
        e.user_id = subject.and_then(|s| Uuid::from_str(s).ok());
        detail(&mut e, "active", active);
        self.deps.audit.record(e);
    }

    /// Revokes one access token by its verified claims (RFC 7009), for
    /// every instance sharing the store, until it would have expired.
    /// `owner`, when set, must be the token's subject or nothing happens.
    ///
    /// # Errors
    /// Store errors.
    pub async fn revoke_access(
        &self,
        claims: &AccessClaims,
        owner: Option<&str>,
        actor: &str,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        if owner.is_some_and(|o| o != claims.sub) {
            return Ok(());
        }
        let leeway = self.settings.leeway.whole_seconds();
        let forget_after = claims.exp.saturating_add(leeway);
        let expires_at = time::OffsetDateTime::from_unix_timestamp(forget_after)
            .map_err(|_| AuthError::Internal("token expiry out of range".into()))?;
        let now = self.deps.clock.now();
        let mut e = event(AuditKind::new("token.revoked"), now, origin);
        e.actor_id = Some(actor.to_owned());
        e.user_id = Uuid::from_str(&claims.sub).ok();
        e.client_id = claims.client_id.clone();
        e.session_id = claims.sid;
        detail(&mut e, "token_type", "access_token");
        self.deps
            .sessions
            .revoke_token_audited(&claims.jti, expires_at, now, self.in_transaction(&e))
            .await?;
        self.deps
            .revocations
            .revoke_token(&claims.jti, forget_after);
        self.deps.bus.publish(crate::bus::Change::TokenRevoked {
            jti: claims.jti.clone(),
            until: forget_after,
        });
        self.deps.audit.record_written(e);
        Ok(())
    }

    /// Revokes the session of an opaque refresh token (RFC 7009: its access
    /// tokens die with it). Unknown tokens are ignored; `owner`, when set,
    /// must be the session's user or nothing happens.
    ///
    /// # Errors
    /// Store errors.
    pub async fn revoke_refresh(
        &self,
        token: &str,
        owner: Option<Uuid>,
        actor: &str,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        if token.is_empty() || token.len() > MAX_OPAQUE_TOKEN {
            return Ok(());
        }
        let Some(record) = self
            .deps
            .sessions
            .refresh_token(&TokenHash::of(token))
            .await?
        else {
            return Ok(());
        };
        let Some(session) = self.deps.sessions.session(record.session_id).await? else {
            return Ok(());
        };
        if owner.is_some_and(|o| o != session.user_id) {
            return Ok(());
        }
        if session.revoked_at.is_some() {
            return Ok(());
        }
        let now = self.deps.clock.now();
        let mut e = event(AuditKind::SESSION_REVOKED, now, origin);
        e.actor_id = Some(actor.to_owned());
        e.user_id = Some(session.user_id);
        e.session_id = Some(session.id);
        detail(&mut e, "reason", "revocation_endpoint");
        let was_live = self
            .deps
            .sessions
            .revoke_session_audited(session.id, now, self.in_transaction(&e))
            .await?;
        self.remember_revoked(session.id);
        if was_live {
            super::count_revocations("session", 1);
        }
        self.deps.audit.record_written(e);
        Ok(())
    }
}
