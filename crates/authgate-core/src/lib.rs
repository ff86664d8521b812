//! authgate-core: the domain of authgate, with no HTTP and no SQL.
//!
//! It owns users and password hashing (argon2id on a bounded pool), sessions
//! and refresh-token rotation with reuse detection, the signing keyring, the
//! revocation list, the [`Clock`], and the storage traits that
//! authgate-store implements.

mod audit;
mod bus;
mod clock;
mod error;
mod identity;
mod keyring;
mod keys;
mod limits;
mod model;
mod password;
mod records;
mod revocation;
mod secrets;
mod service;
mod store;

pub use audit::{
    AUDIT_QUEUE_CAPACITY, AuditLog, AuditSink, DatabaseSink, FileSink, Origin, SinkCounters,
    StdoutSink, event as audit_event,
};
pub use bus::{Change, ChangeBus, NoBus};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{AuthError, StoreError};
pub use identity::{Email, MAX_PASSWORD_CHARS, Password, Username};
pub use keyring::{Keyring, KeyringSettings, Ring, RotationAudit};
pub use keys::KeyManager;
pub use limits::{
    ATTEMPT_RESERVATION_SECS, Attempt, IPV6_PREFIX_TIERS, LimitSettings, LocalLimiter,
    LoginLimiter, MAX_ACCOUNT_DELAY_SECS, Refused, RetryAfter, address_bucket, attempts_allowed,
    wider_buckets,
};
pub use model::{AuditFilter, Client, RefreshToken, Session, StoredKey, User, UserQuery};
pub use password::{Argon2Settings, PasswordHasher, PasswordPolicy, Verified};
pub use records::{FRESH_FOR, RecordCache};
pub use revocation::RevocationList;
pub use secrets::{MasterKey, TOKEN_BYTES, TokenHash, random_token};
pub use service::{
    AuthDeps, AuthService, AuthSettings, Caller, ClientToken, Dashboard, IntrospectedAccess,
    IntrospectedRefresh, LoginRequest, LogoutScope, NewClient, Principal, Registration, Tokens,
};
pub use store::{AuditStore, ClientStore, KeyStore, Ping, SessionStore, StoreResult, UserStore};
