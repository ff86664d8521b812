//! The authentication service: what the HTTP routes call. One file per flow.

mod admin;
mod admin_clients;
mod admin_rules;
mod attempts;
mod browser;
mod email_change;
mod introspect;
mod login;
mod maintenance;
mod mfa;
mod mfa_login;
mod oauth;
mod oidc;
mod operator;
mod overview;
mod password_change;
mod reach;
mod recovery;
mod refresh;
mod register;
mod sessions;
mod verification;

use std::collections::BTreeMap;
use std::sync::Arc;

use authgate_proto::{AccessClaims, Audience};
use time::Duration;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::audit::AuditLog;
use crate::clock::Clock;
use crate::error::AuthError;
use crate::keyring::Keyring;
use crate::limits::LoginLimiter;
use crate::model::{Session, User};
use crate::password::{PasswordHasher, PasswordPolicy};
use crate::records::RecordCache;
use crate::revocation::RevocationList;
use crate::secrets::MasterKey;
use crate::store::{ServiceClientStore, SessionStore, UserStore};

pub use admin::{Dashboard, NewServiceClient};
pub use admin_clients::MAX_CLIENTS_LISTED;
pub use admin_rules::Actor;
pub use browser::{BrowserLogin, BrowserOutcome, BrowserSession, browser_session_id};
pub use email_change::EmailChange;
pub use login::LoginAttempt;
pub use login::LoginOutcome;
pub use maintenance::{Maintenance, PURGE_PERIOD, PURGE_RETENTION, Upkeep};
pub use mfa::{
    DisableProof, MFA_DISABLED, MFA_ENABLED, MFA_RECOVERY_CODE_USED, MFA_RESET, MfaState,
    RECOVERY_CODES, RecoveryCodes, TotpEnrolment,
};
pub use mfa_login::{MFA_TOKEN_ATTEMPTS, MFA_TOKEN_TTL, MfaPending};
pub use oauth::{Caller, IntrospectedAccess, IntrospectedRefresh, ServiceClientToken};
pub use oidc::{
    Authorization, AuthorizeParams, Checked, LogoutHint, NewOidcClient, OidcClientSpec, OidcTokens,
    Prompt, Refusal, Step, Untrusted,
};
pub use password_change::PasswordChange;
pub use reach::Reach;
pub use recovery::{PASSWORD_RESET, PASSWORD_RESET_REQUESTED, RecoverySettings};
pub use register::Registration;
pub use sessions::{LogoutScope, SessionCaller};
pub use verification::{EMAIL_VERIFICATION_REQUESTED, EMAIL_VERIFIED, VerificationSettings};

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
    /// Every role name an administrator may grant (`admin`, `user` and the
    /// roles of `[roles]`); others are refused. Defaults to `admin`, `user`.
    pub known_roles: std::collections::BTreeSet<String>,
    /// What new passwords must satisfy.
    pub password_policy: PasswordPolicy,
    /// Role → permissions (`[roles]`): what the administration methods
    /// check their caller against, so the API and the pages share one rule.
    /// Defaults to `admin` (every permission) and `user` (none).
    pub permissions: Arc<authgate_proto::permissions::Permissions>,
    /// Password reset by email.
    pub recovery: RecoverySettings,
    /// `[oidc] logout_ends_client_sessions`: RP-initiated logout also ends
    /// the sessions the relying party got through the browser session it
    /// ends. Defaults to `false`.
    pub oidc_logout_ends_client_sessions: bool,
    /// Email verification.
    pub verification: VerificationSettings,
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
            known_roles: ["admin", "user"].map(str::to_owned).into(),
            password_policy: PasswordPolicy::default(),
            permissions: Arc::new(authgate_proto::permissions::Permissions::new([(
                "user",
                Vec::<String>::new(),
            )])),
            recovery: RecoverySettings::default(),
            oidc_logout_ends_client_sessions: false,
            verification: VerificationSettings::default(),
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
    /// Service clients.
    pub clients: Arc<dyn ServiceClientStore>,
    /// OpenID Connect relying parties.
    pub oidc: Arc<dyn crate::oidc::store::OidcStore>,
    /// Where security events are recorded.
    pub audit: Arc<AuditLog>,
    /// Login attempt counters (brute-force protection).
    pub limiter: Arc<dyn LoginLimiter>,
    /// Signing and verifying keys.
    pub keyring: Arc<Keyring>,
    /// Password hashing pool.
    pub hasher: PasswordHasher,
    /// Revoked sessions, checked on every request.
    pub revocations: Arc<RevocationList>,
    /// Recently read users and sessions, so the hot path skips the store.
    pub records: Arc<RecordCache>,
    /// Announces revocations and user changes to the other instances
    /// ([`crate::NoBus`] when there are none).
    pub bus: Arc<dyn crate::bus::ChangeBus>,
    /// Seals grace-window successors.
    pub master: Arc<MasterKey>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// The mail outbox.
    pub outbox: Arc<dyn crate::recovery_store::OutboxStore>,
    /// Password-reset tokens.
    pub resets: Arc<dyn crate::recovery_store::ResetStore>,
    /// Renders and seals outgoing mail (the server's templates).
    pub mailer: Arc<dyn crate::mail::MailComposer>,
    /// Email-verification links.
    pub verifications: Arc<dyn crate::verification_store::VerificationStore>,
    /// Second factors: TOTP, recovery codes, logins' second steps.
    pub mfa: Arc<dyn crate::mfa_store::MfaStore>,
}

/// Register, log in, refresh, log out, and the caller's own sessions.
#[derive(Debug, Clone)]
pub struct AuthService {
    deps: AuthDeps,
    settings: Arc<AuthSettings>,
    /// Which refused logins are worth an audit record.
    refusals: Arc<crate::audit::RefusalThrottle>,
    /// Logins waiting for a place on their account.
    queues: Arc<attempts::AccountQueues>,
    /// Set once the stored hashes' argon2 costs have been handed to the
    /// hasher (at the first login, so building the service stays sync).
    hash_costs: Arc<tokio::sync::OnceCell<()>>,
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
            refusals: Arc::default(),
            queues: Arc::default(),
            hash_costs: Arc::default(),
        })
    }

    /// The settings in force.
    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// The dependencies: the crate's own; callers outside it go through
    /// the service's methods, never the stores.
    pub(crate) fn deps(&self) -> &AuthDeps {
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

    /// Queues an audit event of `kind` about `session` (its user and id),
    /// `fill` adding the details.
    fn audit_session(
        &self,
        kind: authgate_proto::AuditKind,
        session: &Session,
        origin: &crate::audit::Origin,
        fill: impl FnOnce(&mut authgate_proto::AuditEvent),
    ) {
        let mut e = crate::audit::event(kind, self.deps.clock.now(), origin);
        e.user_id = Some(session.user_id);
        e.session_id = Some(session.id);
        fill(&mut e);
        self.deps.audit.record(e);
    }

    /// The event to append in the transaction of the change it records:
    /// `Some` when the database is an audit sink. Afterwards the caller hands
    /// it to [`AuditLog::record_written`] for the other sinks.
    fn in_transaction<'e>(
        &self,
        event: &'e authgate_proto::AuditEvent,
    ) -> Option<&'e authgate_proto::AuditEvent> {
        self.deps.audit.store().map(|_| event)
    }

    /// Records a session revocation in the in-process list, kept until its
    /// last access token has expired, and announces it to the other
    /// instances (the database already holds it).
    fn remember_revoked(&self, sid: Uuid) {
        let forget_after = self.deps.clock.unix()
            + self.settings.access_ttl.whole_seconds()
            + self.settings.leeway.whole_seconds();
        self.deps.revocations.revoke_session(sid, forget_after);
        self.deps.records.forget_session(&sid);
        self.deps.bus.publish(crate::bus::Change::SessionRevoked {
            sid,
            until: forget_after,
        });
    }
}

/// Counts `n` revocations of `kind` (`session` or `token`) for the metrics.
pub(crate) fn count_revocations(kind: &'static str, n: usize) {
    if n > 0 {
        metrics::counter!("authgate_revocations_total", "kind" => kind).increment(n as u64);
    }
}
