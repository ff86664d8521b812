//! authgate-core: the domain of authgate, with no HTTP and no SQL.
//!
//! It owns users and password hashing (argon2id on a bounded pool), sessions
//! and refresh-token rotation with reuse detection, the signing keyring, the
//! revocation list, the role rules ([`Caller::within_reach`], [`Reach`]),
//! and the storage traits that authgate-store implements. The [`Clock`] is
//! authgate-proto's, re-exported so a service and its tests share one.

mod audit;
mod bus;
mod clock;
mod error;
mod identity;
mod keyring;
mod keys;
mod limits;
mod mail;
mod mfa_store;
mod model;
pub mod oidc;
mod password;
mod records;
mod recovery_store;
mod revocation;
mod secrets;
mod service;
mod store;
pub mod text;
mod totp;
mod verification_store;

pub use audit::{
    AUDIT_QUEUE_CAPACITY, AuditLog, AuditSink, AuditSinkError, DatabaseSink, FileSink,
    MAX_USER_AGENT, Origin, SinkCounters, StdoutSink, event as audit_event,
};
pub use bus::{Change, ChangeBus, NoBus};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{AuthError, StoreError};
pub use identity::{Email, LoginName, MAX_PASSWORD_CHARS, Password, Username};
pub use keyring::{Keyring, KeyringSettings, Ring, RotationAudit};
pub use keys::KeyManager;
pub use limits::{
    ATTEMPT_RESERVATION_SECS, AccountKey, Attempt, IPV6_PREFIX_TIERS, LimitSettings, LocalLimiter,
    LoginLimiter, MAX_ACCOUNT_DELAY_SECS, Refused, RetryAfter, address_bucket, attempts_allowed,
    wider_buckets,
};
pub use mail::{MAX_MAIL_BYTES, Mail, MailComposer, MailKind, QueuedMail};
pub use mfa_store::{MfaChallenge, MfaStore, TotpFactor};
pub use model::{
    AuditCursor, AuditFilter, ClientGrant, RefreshContext, RefreshToken, ServiceClient, Session,
    StoredKey, User, UserQuery,
};
pub use password::{
    Argon2Settings, PasswordHasher, PasswordPolicy, Verified, parameters_cost, phc_cost,
};
pub use records::{AccountOverview, FRESH_FOR, RecordCache};
pub use recovery_store::{OutboxStore, ResetStore, ResetToken};
pub use revocation::RevocationList;
pub use secrets::{MasterKey, Purpose, TOKEN_BYTES, TokenHash, random_token};
pub use service::{Actor, EmailChange, MAX_CLIENTS_LISTED, PasswordChange};
pub use service::{
    AuthDeps, AuthService, AuthSettings, BrowserLogin, BrowserSession, Caller, Dashboard,
    EMAIL_VERIFICATION_REQUESTED, EMAIL_VERIFIED, IntrospectedAccess, IntrospectedRefresh,
    LoginAttempt, LogoutScope, Maintenance, NewServiceClient, PASSWORD_RESET,
    PASSWORD_RESET_REQUESTED, PURGE_PERIOD, PURGE_RETENTION, Reach, RecoverySettings, Registration,
    ServiceClientToken, SessionCaller, Tokens, Upkeep, VerificationSettings, browser_session_id,
};
pub use service::{
    BrowserOutcome, DisableProof, LoginOutcome, MFA_DISABLED, MFA_ENABLED, MFA_RECOVERY_CODE_USED,
    MFA_RESET, MFA_TOKEN_ATTEMPTS, MFA_TOKEN_TTL, MfaPending, MfaState, RECOVERY_CODES,
    RecoveryCodes, TotpEnrolment,
};
pub use store::{
    AuditStore, KeyStore, Ping, ServiceClientStore, SessionCursor, SessionStore, StoreResult,
    UserStore,
};
pub use totp::{TOTP_DIGITS, TOTP_PERIOD, TOTP_SECRET_BYTES, TOTP_SKEW_STEPS, TotpSecret};
pub use verification_store::{EmailVerified, VerificationStore, VerificationToken, VerifyRefusal};
