//! The TOTP second factor of one's own account: enrolment (a new secret,
//! active only once a code confirms it, with ten recovery codes shown once
//! and stored hashed), its state, and disabling it with a current code or
//! the password. An administrator's reset is here too.
//!
//! Every code checked counts toward the account's brute-force limits under
//! a key of its own (see [`AuthService::begin_code_attempt`]): a right
//! password does not clear the failures of codes.

use authgate_proto::AuditKind;
use authgate_proto::permissions::names;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::AuthService;
use super::admin_rules::Actor;
use super::attempts::InFlight;
use super::oauth::Caller;
use super::sessions::SessionCaller;
use crate::audit::{Origin, detail, event};
use crate::clock::truncate_to_millis;
use crate::error::AuthError;
use crate::identity::Password;
use crate::limits::{AccountKey, RetryAfter, address_bucket};
use crate::mfa_store::TotpFactor;
use crate::model::User;
use crate::secrets::{Purpose, TokenHash};
use crate::totp::{TotpSecret, looks_like_totp_code};

/// `mfa.enabled`: a TOTP factor was confirmed (recovery codes issued).
pub const MFA_ENABLED: AuditKind = AuditKind::from_static("mfa.enabled");
/// `mfa.disabled`: the user turned their second factor off.
pub const MFA_DISABLED: AuditKind = AuditKind::from_static("mfa.disabled");
/// `mfa.reset`: an administrator removed a user's second factor; the
/// user's sessions ended.
pub const MFA_RESET: AuditKind = AuditKind::from_static("mfa.reset");
/// `mfa.recovery_code_used`: a login finished with a recovery code.
pub const MFA_RECOVERY_CODE_USED: AuditKind = AuditKind::from_static("mfa.recovery_code_used");

/// How many recovery codes an enrolment issues.
pub const RECOVERY_CODES: usize = 10;

/// Characters of a recovery code (base32, 16 × 5 = 80 random bits),
/// shown in four groups of four.
const RECOVERY_CODE_CHARS: usize = 16;

/// A new TOTP enrolment: what the user's app needs, shown once.
pub struct TotpEnrolment {
    /// The secret in base32, for typing into an app by hand.
    pub secret: Zeroizing<String>,
    /// The `otpauth://` URI the QR code carries.
    pub uri: Zeroizing<String>,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment([redacted])")
    }
}

/// The recovery codes of a confirmed enrolment, shown once.
pub struct RecoveryCodes(pub Vec<Zeroizing<String>>);

impl std::fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecoveryCodes({} [redacted])", self.0.len())
    }
}

/// Where a user's second factor stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaState {
    /// A confirmed TOTP factor: logins ask for a code.
    pub enabled: bool,
    /// An enrolment waits for its confirming code.
    pub pending: bool,
    /// Unused recovery codes (0 when not enabled).
    pub recovery_codes_left: u64,
}

/// What proves it is the account's owner turning the factor off.
#[derive(Debug)]
pub enum DisableProof {
    /// A current TOTP code or an unused recovery code.
    Code(String),
    /// The account's password.
    Password(Password),
}

impl AuthService {
    /// The caller's second-factor state.
    ///
    /// # Errors
    /// Store errors.
    pub async fn mfa_state(&self, user_id: Uuid) -> Result<MfaState, AuthError> {
        let factor = self.deps.mfa.totp_factor(user_id).await?;
        let enabled = factor.as_ref().is_some_and(|f| f.confirmed_at.is_some());
        let recovery_codes_left = if enabled {
            self.deps.mfa.recovery_codes_left(user_id).await?
        } else {
            0
        };
        Ok(MfaState {
            enabled,
            pending: factor.is_some() && !enabled,
            recovery_codes_left,
        })
    }

    /// Begins a TOTP enrolment for the caller: a new random secret, sealed
    /// at rest, replacing an enrolment not yet confirmed. It protects
    /// nothing until [`confirm_totp`](Self::confirm_totp).
    ///
    /// # Errors
    /// [`AuthError::MfaAlreadyEnabled`] when a confirmed factor exists
    /// (disable it first); [`AuthError::NotFound`] when the account is
    /// gone or disabled; store errors.
    pub async fn begin_totp(&self, who: &SessionCaller) -> Result<TotpEnrolment, AuthError> {
        let user = self.active_user(who.user_id).await?;
        let secret = TotpSecret::generate()?;
        let sealed =
            self.deps
                .master
                .seal(Purpose::TotpSecret, secret.as_bytes(), user.id.as_bytes())?;
        let factor = TotpFactor {
            user_id: user.id,
            sealed_secret: sealed,
            created_at: truncate_to_millis(self.deps.clock.now()),
            confirmed_at: None,
            last_step: None,
        };
        if !self.deps.mfa.put_pending_totp(&factor).await? {
            return Err(AuthError::MfaAlreadyEnabled);
        }
        self.deps.audit.touch_user(&user.id);
        tracing::info!(user_id = %user.id, "totp enrolment begun");
        Ok(TotpEnrolment {
            secret: secret.to_base32(),
            uri: secret.otpauth_uri(&self.totp_issuer(), &user.email),
        })
    }

    /// The caller's enrolment waiting for its confirming code, shown again
    /// (the account page keeps showing the QR code until it is confirmed);
    /// `None` when none is pending.
    ///
    /// # Errors
    /// [`AuthError::NotFound`] when the account is gone or disabled; store
    /// errors; [`AuthError::Internal`] when the secret does not open.
    pub async fn pending_totp(
        &self,
        who: &SessionCaller,
    ) -> Result<Option<TotpEnrolment>, AuthError> {
        let user = self.active_user(who.user_id).await?;
        match self.deps.mfa.totp_factor(user.id).await? {
            Some(factor) if factor.confirmed_at.is_none() => {
                let secret = self.open_secret(&factor)?;
                Ok(Some(TotpEnrolment {
                    secret: secret.to_base32(),
                    uri: secret.otpauth_uri(&self.totp_issuer(), &user.email),
                }))
            }
            _ => Ok(None),
        }
    }

    /// Confirms the caller's pending enrolment with a current code: the
    /// factor is active from now on and ten recovery codes, returned here
    /// once, replace any earlier ones. Audited as `mfa.enabled`.
    ///
    /// # Errors
    /// [`AuthError::MfaNotPending`] without a pending enrolment (or one
    /// replaced meanwhile); [`AuthError::InvalidMfaCode`] for a wrong code
    /// (counted toward the account's limits); [`AuthError::RateLimited`];
    /// [`AuthError::NotFound`]; store errors.
    pub async fn confirm_totp(
        &self,
        who: &SessionCaller,
        code: &str,
        origin: &Origin,
    ) -> Result<RecoveryCodes, AuthError> {
        let user = self.active_user(who.user_id).await?;
        let factor = match self.deps.mfa.totp_factor(user.id).await? {
            Some(f) if f.confirmed_at.is_none() => f,
            _ => return Err(AuthError::MfaNotPending),
        };
        let secret = self.open_secret(&factor)?;
        let in_flight = self.begin_code_attempt(&user, origin).await?;
        let code = normalize_code(code);
        let Some(step) = secret.matching_step(&code, self.deps.clock.unix(), None) else {
            self.code_failed(in_flight, &user, "mfa.confirm", origin)
                .await;
            return Err(AuthError::InvalidMfaCode);
        };
        in_flight.succeeded().await;
        let (codes, hashes) = new_recovery_codes(user.id)?;
        let now = truncate_to_millis(self.deps.clock.now());
        let mut e = event(MFA_ENABLED, now, origin);
        e.user_id = Some(user.id);
        e.actor_id = Some(user.id.to_string());
        e.session_id = Some(who.session_id);
        detail(&mut e, "recovery_codes", RECOVERY_CODES);
        let confirmed = self
            .deps
            .mfa
            .confirm_totp(
                user.id,
                &factor.sealed_secret,
                step,
                &hashes,
                now,
                self.in_transaction(&e),
            )
            .await?;
        if !confirmed {
            return Err(AuthError::MfaNotPending);
        }
        self.deps.audit.record_written(e);
        tracing::info!(user_id = %user.id, "totp factor enabled");
        Ok(codes)
    }

    /// Turns the caller's second factor off (a pending enrolment too),
    /// proven by a current code, an unused recovery code or the password.
    /// Audited as `mfa.disabled`.
    ///
    /// # Errors
    /// [`AuthError::NotFound`] when there is no factor (or no account);
    /// [`AuthError::InvalidMfaCode`] or [`AuthError::InvalidCredentials`]
    /// for a wrong proof (counted toward the account's limits);
    /// [`AuthError::RateLimited`]; store and hashing errors.
    pub async fn disable_totp(
        &self,
        who: &SessionCaller,
        proof: DisableProof,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        let user = self.active_user(who.user_id).await?;
        let Some(factor) = self.deps.mfa.totp_factor(user.id).await? else {
            return Err(AuthError::NotFound);
        };
        match proof {
            DisableProof::Code(code) => {
                if factor.confirmed_at.is_none() {
                    // A pending factor has no codes to prove with yet.
                    return Err(AuthError::InvalidMfaCode);
                }
                self.check_code(&user, &factor, &code, "mfa.disable", origin)
                    .await?;
            }
            DisableProof::Password(password) => {
                self.check_current_password(&user, password, who, "mfa.disable", origin)
                    .await?;
            }
        }
        let mut e = event(MFA_DISABLED, self.deps.clock.now(), origin);
        e.user_id = Some(user.id);
        e.actor_id = Some(user.id.to_string());
        e.session_id = Some(who.session_id);
        if self
            .deps
            .mfa
            .remove_mfa(user.id, self.in_transaction(&e))
            .await?
        {
            self.deps.audit.record_written(e);
            tracing::info!(user_id = %user.id, "second factor disabled");
        }
        Ok(())
    }

    /// An administrator's reset of a user's second factor (`actor` as for
    /// [`set_active`](Self::set_active): `users:write` and the reach over
    /// the user's roles; `None` is the operator's command line): the factor
    /// and recovery codes go, and every session of the user ends. Audited as
    /// `mfa.reset` with the actor. Returns how many sessions ended.
    ///
    /// # Errors
    /// [`AuthError::InsufficientScope`]; [`AuthError::NotFound`] for an
    /// unknown user; store errors.
    pub async fn reset_mfa(
        &self,
        actor: Actor<'_>,
        id: Uuid,
        origin: &Origin,
    ) -> Result<usize, AuthError> {
        self.require(actor, names::USERS_WRITE)?;
        let target = self.user(id).await?;
        self.require_reach(actor, &target.roles)?;
        let now = self.deps.clock.now();
        let mut e = event(MFA_RESET, now, origin);
        e.user_id = Some(id);
        e.actor_id = actor.map(Caller::actor_id);
        let had = self
            .deps
            .mfa
            .remove_mfa(id, self.in_transaction(&e))
            .await?;
        let revoked = self.deps.sessions.revoke_user_sessions(id, now).await?;
        for sid in &revoked {
            self.remember_revoked(*sid);
        }
        super::count_revocations("session", revoked.len());
        if had {
            self.deps.audit.record_written(e);
        } else {
            // Nothing to remove: still recorded (the sessions still ended),
            // so an administrator's reset always leaves a trace.
            detail(&mut e, "factor", "none");
            self.deps.audit.record(e);
        }
        tracing::info!(user_id = %id, sessions_ended = revoked.len(), "second factor reset");
        Ok(revoked.len())
    }

    /// Checks `code` (a TOTP code or a recovery code) against the user's
    /// confirmed factor, using it up: a TOTP step is recorded as used, a
    /// recovery code is marked used. Counts toward the account's limits.
    pub(super) async fn check_code(
        &self,
        user: &User,
        factor: &TotpFactor,
        code: &str,
        during: &str,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        let in_flight = self.begin_code_attempt(user, origin).await?;
        let code = normalize_code(code);
        let accepted = if looks_like_totp_code(&code) {
            let secret = self.open_secret(factor)?;
            match secret.matching_step(&code, self.deps.clock.unix(), factor.last_step) {
                Some(step) => self.deps.mfa.use_totp_step(user.id, step).await?,
                None => false,
            }
        } else {
            let hash = recovery_code_hash(user.id, &code);
            let now = truncate_to_millis(self.deps.clock.now());
            let used = self.deps.mfa.use_recovery_code(user.id, &hash, now).await?;
            if used {
                let mut e = event(MFA_RECOVERY_CODE_USED, now, origin);
                e.user_id = Some(user.id);
                detail(&mut e, "during", during);
                self.deps.audit.record(e);
            }
            used
        };
        if !accepted {
            self.code_failed(in_flight, user, during, origin).await;
            return Err(AuthError::InvalidMfaCode);
        }
        in_flight.succeeded().await;
        Ok(())
    }

    /// Counts one code attempt from the address and begins one on the
    /// account's code counter (`mfa:` and the user id): apart from the
    /// password's, so a right password never clears failed codes.
    async fn begin_code_attempt(
        &self,
        user: &User,
        origin: &Origin,
    ) -> Result<InFlight, AuthError> {
        self.count_address_attempt(origin).await?;
        let key = AccountKey::new(format!("mfa:{}", user.id), origin.ip.map(address_bucket));
        match self.queues.begin(&self.deps.limiter, key).await {
            Ok(in_flight) => Ok(in_flight),
            Err(RetryAfter(wait)) => {
                let mut e = event(AuditKind::LOGIN_RATE_LIMITED, self.deps.clock.now(), origin);
                e.user_id = Some(user.id);
                detail(&mut e, "reason", "mfa");
                self.deps.audit.record(e);
                Err(AuthError::RateLimited(wait))
            }
        }
    }

    /// Ends a code attempt as failed: counted, logged and audited (without
    /// the code).
    async fn code_failed(&self, in_flight: InFlight, user: &User, during: &str, origin: &Origin) {
        in_flight.failed().await;
        tracing::info!(user_id = %user.id, during, "second factor code refused");
        let mut e = event(AuditKind::LOGIN_FAILED, self.deps.clock.now(), origin);
        e.user_id = Some(user.id);
        detail(&mut e, "reason", "bad_code");
        detail(&mut e, "during", during);
        self.deps.audit.record(e);
    }

    /// Checks the account's password as a login of it (the password's
    /// counters), for disabling the factor.
    async fn check_current_password(
        &self,
        user: &User,
        password: Password,
        who: &SessionCaller,
        during: &str,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        self.count_address_attempt(origin).await?;
        let login = crate::identity::LoginName::parse("password", &user.email)?;
        let in_flight = self
            .begin_account_attempt(&login, Some(user), origin)
            .await?;
        self.include_stored_hash_costs().await;
        let verified = self
            .deps
            .hasher
            .verify(password, Some(user.password_hash.clone()))
            .await?;
        if !verified.ok {
            in_flight.failed().await;
            let mut e = event(AuditKind::LOGIN_FAILED, self.deps.clock.now(), origin);
            e.user_id = Some(user.id);
            e.session_id = Some(who.session_id);
            detail(&mut e, "reason", "bad_password");
            detail(&mut e, "during", during);
            self.deps.audit.record(e);
            return Err(AuthError::InvalidCredentials);
        }
        in_flight.succeeded().await;
        Ok(())
    }

    /// The stored secret, unsealed.
    fn open_secret(&self, factor: &TotpFactor) -> Result<TotpSecret, AuthError> {
        let bytes = self
            .deps
            .master
            .open(
                Purpose::TotpSecret,
                &factor.sealed_secret,
                factor.user_id.as_bytes(),
            )
            .map_err(|_| {
                AuthError::Internal(format!(
                    "the TOTP secret of user {} does not open",
                    factor.user_id
                ))
            })?;
        Ok(TotpSecret::from_bytes(bytes))
    }

    /// The user, if the account exists and is enabled.
    async fn active_user(&self, id: Uuid) -> Result<User, AuthError> {
        match self.deps.users.user_by_id(id).await? {
            Some(user) if user.is_active => Ok(user),
            _ => Err(AuthError::NotFound),
        }
    }

    /// The issuer an authenticator app shows: the host of `tokens.issuer`
    /// (or the issuer itself when it is no URL).
    fn totp_issuer(&self) -> String {
        let issuer = &self.settings.issuer;
        url::Url::parse(issuer)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| issuer.clone())
    }
}

/// A typed code without the spaces and hyphens people type or paste, in
/// upper case (recovery codes are base32).
pub(super) fn normalize_code(code: &str) -> Zeroizing<String> {
    Zeroizing::new(
        code.chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .flat_map(char::to_uppercase)
            .collect(),
    )
}

/// What is stored of a recovery code: SHA-256 over the user id and the
/// normalized code (80 random bits: no salt or argon2 needed to make the
/// hash unguessable, and the user id keeps equal codes of two users apart).
fn recovery_code_hash(user_id: Uuid, normalized: &str) -> TokenHash {
    TokenHash::of(&format!("authgate recovery code\0{user_id}\0{normalized}"))
}

/// [`RECOVERY_CODES`] new codes (four groups of four base32 characters, as `CZLG-5AGS-ETAV-ZRE6`) and their hashes.
fn new_recovery_codes(user_id: Uuid) -> Result<(RecoveryCodes, Vec<TokenHash>), AuthError> {
    let rng = SystemRandom::new();
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    let mut hashes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let mut bytes = Zeroizing::new([0u8; RECOVERY_CODE_CHARS * 5 / 8]);
        rng.fill(bytes.as_mut())
            .map_err(|_| AuthError::Internal("random source failed".into()))?;
        let plain = Zeroizing::new(data_encoding::BASE32_NOPAD.encode(bytes.as_ref()));
        hashes.push(recovery_code_hash(user_id, &plain));
        let grouped: String = plain
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-");
        codes.push(Zeroizing::new(grouped));
    }
    Ok((RecoveryCodes(codes), hashes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_ten_distinct_grouped_base32_codes_hashed_per_user() {
        let user = Uuid::now_v7();
        let (codes, hashes) = new_recovery_codes(user).expect("codes");
        assert_eq!(codes.0.len(), RECOVERY_CODES);
        assert_eq!(hashes.len(), RECOVERY_CODES);
        for (code, hash) in codes.0.iter().zip(&hashes) {
            assert_eq!(code.len(), 19, "{}", code.as_str());
            assert_eq!(code.matches('-').count(), 3);
            assert_eq!(recovery_code_hash(user, &normalize_code(code)), *hash);
            assert_ne!(
                recovery_code_hash(Uuid::now_v7(), &normalize_code(code)),
                *hash
            );
        }
        let distinct: std::collections::HashSet<_> = codes.0.iter().map(|c| c.as_str()).collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
    }

    #[test]
    fn a_typed_code_loses_spaces_and_hyphens_and_is_upper_cased() {
        assert_eq!(
            normalize_code(" abcd-efgh ijkl\tmnop").as_str(),
            "ABCDEFGHIJKLMNOP"
        );
        assert_eq!(normalize_code("123 456").as_str(), "123456");
    }
}
