//! authgate-core: the domain of authgate, with no HTTP and no SQL.
//!
//! It owns users and password hashing (argon2id on a bounded pool), sessions
//! and refresh-token rotation with reuse detection, the signing keyring, the
//! revocation list, the [`Clock`], and the storage traits that
//! authgate-store implements.

mod clock;
mod error;
mod identity;
mod keyring;
mod keys;
mod model;
mod password;
mod records;
mod revocation;
mod secrets;
mod service;
mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{AuthError, StoreError};
pub use identity::{Email, MAX_PASSWORD_CHARS, Password, Username};
pub use keyring::{Keyring, KeyringSettings, Ring};
pub use keys::KeyManager;
pub use model::{RefreshToken, Session, StoredKey, User, UserQuery};
pub use password::{Argon2Settings, PasswordHasher, PasswordPolicy, Verified};
pub use records::{FRESH_FOR, RecordCache};
pub use revocation::RevocationList;
pub use secrets::{MasterKey, TOKEN_BYTES, TokenHash, random_token};
pub use service::{
    AuthDeps, AuthService, AuthSettings, LoginRequest, LogoutScope, Principal, Registration, Tokens,
};
pub use store::{KeyStore, Ping, SessionStore, StoreResult, UserStore};
