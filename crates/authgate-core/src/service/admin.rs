//! Administration: the dashboard, users (list, roles, disable/enable),
//! service clients, and the audit trail. The changes check their actor's
//! permission and reach themselves (`admin_rules.rs`); what they record
//! names the acting [`Caller`].

use authgate_proto::AuditKind;
use authgate_proto::permissions::{Permissions, names};
use time::Duration;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::AuthService;
use super::admin_rules::Actor;
use super::oauth::Caller;
use crate::audit::{Origin, detail, event};
use crate::error::AuthError;
use crate::model::{AuditFilter, ServiceClient, User, UserQuery};
use crate::secrets::{TokenHash, random_token};

/// Longest service-client name.
const MAX_CLIENT_NAME: usize = 100;

/// The counters of `GET /admin/dashboard`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dashboard {
    /// Registered users, active or not.
    pub total_users: u64,
    /// Sessions neither revoked nor expired.
    pub active_sessions: u64,
    /// Signing keys that still verify (next, active, retired).
    pub active_keys: u64,
    /// `login.failed` events in the last 24 hours.
    pub failed_logins_24h: u64,
}

/// A newly created service client and its secret, shown once.
pub struct NewServiceClient {
    /// The stored client (the secret only as a hash).
    pub client: ServiceClient,
    /// The secret: 256 random bits, base64url. Never stored, never logged.
    pub secret: Zeroizing<String>,
}

impl std::fmt::Debug for NewServiceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewServiceClient")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl Caller {
    /// The "grant only what you hold" rule: succeeds when this caller holds
    /// every permission that `roles` grant. Whoever manages users or
    /// clients can neither hand out more than they hold (`admin` above
    /// all, themselves included) nor change, demote or disable an account
    /// that holds more.
    ///
    /// # Errors
    /// [`AuthError::InsufficientScope`] when `roles` grant more.
    pub fn within_reach(
        &self,
        permissions: &Permissions,
        roles: &[String],
    ) -> Result<(), AuthError> {
        if permissions.grants_within(self.roles(), roles) {
            return Ok(());
        }
        tracing::info!(actor = %self.actor_id(), "refused: the roles involved grant more than the caller holds");
        Err(AuthError::InsufficientScope)
    }
}

impl AuthService {
    /// The dashboard counters. `active_keys` is passed in: the key manager
    /// owns the keys.
    ///
    /// # Errors
    /// Store errors.
    pub async fn dashboard(&self, active_keys: u64) -> Result<Dashboard, AuthError> {
        let now = self.deps.clock.now();
        self.deps.audit.flush_database().await;
        let failed_logins_24h = match self.deps.audit.store() {
            Some(store) => {
                store
                    .count_events(AuditKind::LOGIN_FAILED.as_str(), now - Duration::days(1))
                    .await?
            }
            None => 0,
        };
        Ok(Dashboard {
            total_users: self.deps.users.count_users().await?,
            active_sessions: self.deps.sessions.count_live_sessions(now).await?,
            active_keys,
            failed_logins_24h,
        })
    }

    /// A page of users.
    ///
    /// # Errors
    /// Store errors.
    pub async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>, AuthError> {
        Ok(self.deps.users.list_users(query).await?)
    }

    /// A page of at most `query.limit` users, and the id after which the
    /// next page starts when there is one.
    ///
    /// # Errors
    /// Store errors.
    pub async fn users_page(
        &self,
        query: UserQuery,
    ) -> Result<(Vec<User>, Option<Uuid>), AuthError> {
        let limit = query.limit as usize;
        // One more than asked tells whether a next page exists.
        let mut users = self
            .list_users(&UserQuery {
                limit: query.limit.saturating_add(1),
                ..query
            })
            .await?;
        if users.len() <= limit {
            return Ok((users, None));
        }
        users.truncate(limit);
        let next = users.last().map(|u| u.id);
        Ok((users, next))
    }

    /// One user.
    ///
    /// # Errors
    /// [`AuthError::NotFound`]; store errors.
    pub async fn user(&self, id: Uuid) -> Result<User, AuthError> {
        self.deps
            .users
            .user_by_id(id)
            .await?
            .ok_or(AuthError::NotFound)
    }

    /// How many live sessions the user has (for the console's user view).
    ///
    /// # Errors
    /// Store errors.
    pub async fn live_session_count(&self, id: Uuid) -> Result<usize, AuthError> {
        let now = self.deps.clock.now();
        Ok(self.deps.sessions.live_sessions(id, now).await?.len())
    }

    /// Replaces a user's roles (deduplicated, in the order given). `actor`
    /// is `None` for the command line run by the operator; a caller needs
    /// `users:write` and must hold every permission of the user's current
    /// roles and of the new ones ("grant only what you hold").
    ///
    /// Tokens already issued keep the roles they were signed with until they
    /// expire (at most `tokens.access_ttl`); authgate's own administration
    /// routes read the current roles, so a demotion takes effect there at once.
    ///
    /// # Errors
    /// [`AuthError::InsufficientScope`] when the caller lacks the permission
    /// or the reach; [`AuthError::InvalidInput`] naming `roles` for an
    /// unknown role; [`AuthError::NotFound`]; store errors.
    pub async fn set_roles(
        &self,
        actor: Actor<'_>,
        id: Uuid,
        roles: Vec<String>,
        origin: &Origin,
    ) -> Result<User, AuthError> {
        // The order of docs/http-api.md: permission, unknown user, reach,
        // then unknown role.
        self.require(actor, names::USERS_WRITE)?;
        if actor.is_some() {
            let target = self.user(id).await?;
            self.require_reach(actor, &target.roles)?;
            self.require_reach(actor, &roles)?;
        }
        let roles = self.known_roles(roles)?;
        let now = self.deps.clock.now();
        let mut e = event(AuditKind::USER_ROLES_CHANGED, now, origin);
        e.user_id = Some(id);
        e.actor_id = actor.map(Caller::actor_id);
        detail(&mut e, "roles", roles.clone());
        let user = self
            .deps
            .users
            .set_roles_audited(id, &roles, now, self.in_transaction(&e))
            .await?
            .ok_or(AuthError::NotFound)?;
        self.deps.records.forget_user(&id);
        self.deps
            .bus
            .publish(crate::bus::Change::UserChanged { id });
        self.deps.audit.record_written(e);
        Ok(user)
    }

    /// Enables or disables a user (`actor` as for [`AuthService::set_roles`]:
    /// a caller needs `users:write` and must hold every permission of the
    /// user's roles, and may not disable themselves).
    /// Returns the user and how many sessions were revoked.
    /// Disabling revokes every session of the
    /// user at once (their refresh tokens and access tokens die here and,
    /// within a second, on every instance).
    ///
    /// # Errors
    /// [`AuthError::InsufficientScope`] when the caller lacks the permission
    /// or the reach; [`AuthError::InvalidInput`] naming `id` when a caller
    /// disables their own account; [`AuthError::NotFound`]; store errors.
    pub async fn set_active(
        &self,
        actor: Actor<'_>,
        id: Uuid,
        active: bool,
        origin: &Origin,
    ) -> Result<(User, usize), AuthError> {
        self.require(actor, names::USERS_WRITE)?;
        if actor.is_some() {
            let target = self.user(id).await?;
            self.require_reach(actor, &target.roles)?;
            if !active && actor.and_then(Caller::user_id) == Some(id) {
                return Err(AuthError::invalid(
                    "id",
                    "you cannot disable your own account",
                ));
            }
        }
        let now = self.deps.clock.now();
        let kind = if active {
            AuditKind::USER_ENABLED
        } else {
            AuditKind::USER_DISABLED
        };
        let mut e = event(kind, now, origin);
        e.user_id = Some(id);
        e.actor_id = actor.map(Caller::actor_id);
        let (user, revoked) = self
            .deps
            .users
            .set_active_audited(id, active, now, self.in_transaction(&e))
            .await?
            .ok_or(AuthError::NotFound)?;
        for sid in &revoked {
            self.remember_revoked(*sid);
        }
        super::count_revocations("session", revoked.len());
        self.deps.records.forget_user(&id);
        self.deps
            .bus
            .publish(crate::bus::Change::UserChanged { id });
        self.deps.audit.record_written(e);
        Ok((user, revoked.len()))
    }

    /// Creates a service client with a new 256-bit secret, stored hashed.
    /// `actor` is `None` for the command line run by the operator; a caller
    /// needs `clients:write` and must hold every permission the roles grant.
    ///
    /// # Errors
    /// [`AuthError::InsufficientScope`] when the caller lacks the permission
    /// or the reach; [`AuthError::InvalidInput`] naming `name` (empty, too
    /// long, control characters) or `roles` (unknown role); store errors.
    pub async fn create_client(
        &self,
        actor: Actor<'_>,
        name: &str,
        roles: Vec<String>,
        origin: &Origin,
    ) -> Result<NewServiceClient, AuthError> {
        self.require(actor, names::CLIENTS_WRITE)?;
        self.require_reach(actor, &roles)?;
        let name = crate::text::display_name("name", name)?;
        let name = name.as_str();
        if name.is_empty() || name.chars().count() > MAX_CLIENT_NAME {
            return Err(AuthError::invalid(
                "name",
                format!("must be 1 to {MAX_CLIENT_NAME} characters"),
            ));
        }
        let roles = self.known_roles(roles)?;
        let secret = random_token()?;
        let now = self.deps.clock.now();
        let client = ServiceClient {
            id: format!("svc_{}", Uuid::new_v4().simple()),
            name: name.to_owned(),
            secret_hash: TokenHash::of(&secret),
            roles,
            created_at: now,
            is_active: true,
        };
        let mut e = event(AuditKind::CLIENT_CREATED, now, origin);
        e.client_id = Some(client.id.clone());
        e.actor_id = actor.map(Caller::actor_id);
        detail(&mut e, "name", client.name.clone());
        detail(&mut e, "roles", client.roles.clone());
        self.deps
            .clients
            .insert_client_audited(&client, self.in_transaction(&e))
            .await?;
        self.deps.audit.record_written(e);
        Ok(NewServiceClient { client, secret })
    }

    /// Audit events, newest first.
    ///
    /// # Errors
    /// Store errors.
    pub async fn audit_events(
        &self,
        filter: &AuditFilter,
    ) -> Result<Vec<authgate_proto::AuditEvent>, AuthError> {
        // This instance's queued events first, so a query sees them.
        self.deps.audit.flush_database().await;
        match self.deps.audit.store() {
            Some(store) => Ok(store.events(filter).await?),
            None => Ok(Vec::new()),
        }
    }

    /// Records a security event built by the caller (key rotations, which
    /// the key manager performs).
    pub fn record(&self, event: authgate_proto::AuditEvent) {
        self.deps.audit.record(event);
    }

    /// `roles` deduplicated, each one known. An unknown one is named by its
    /// position, never by its text: an error description never repeats a
    /// value (docs/http-api.md, "Errors"), and a role is any text the
    /// caller sent.
    fn known_roles(&self, roles: Vec<String>) -> Result<Vec<String>, AuthError> {
        let mut out: Vec<String> = Vec::with_capacity(roles.len());
        for (position, role) in roles.into_iter().enumerate() {
            if !self.settings.known_roles.contains(&role) {
                return Err(AuthError::invalid(
                    "roles",
                    format!(
                        "unknown role at position {position} (roles are defined in the configuration's [roles])"
                    ),
                ));
            }
            if !out.contains(&role) {
                out.push(role);
            }
        }
        Ok(out)
    }
}
