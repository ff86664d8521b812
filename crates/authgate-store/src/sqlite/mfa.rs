//! [`MfaStore`] on SQLite: the `totp_factors`, `recovery_codes` and
//! `mfa_challenges` tables.

use async_trait::async_trait;
use authgate_core::{MfaChallenge, MfaStore, StoreResult, TokenHash, TotpFactor};
use authgate_proto::AuditEvent;
use time::OffsetDateTime;
use uuid::Uuid;

use super::SqliteStore;
use super::codec::{corrupt, hash_of, micros, time_of, time_opt, uuid_of, uuid_text};
use super::error::map_err;
use crate::common::mfa::{
    ATTEMPT_CHALLENGE, CONFIRM_TOTP, DELETE_RECOVERY_CODES, DELETE_TOTP, DELETE_USER_CHALLENGES,
    INSERT_CHALLENGE, INSERT_RECOVERY_CODE, PURGE_CHALLENGES, PUT_PENDING_TOTP,
    RECOVERY_CODES_LEFT, TAKE_CHALLENGE, TOTP_FACTOR, USE_RECOVERY_CODE, USE_TOTP_STEP,
};
use crate::common::{WriteTx, detached};

/// A `totp_factors` row as SQLite returns it.
#[derive(sqlx::FromRow)]
struct FactorRow {
    /// Hyphenated UUID.
    user_id: String,
    /// The sealed secret.
    sealed_secret: Vec<u8>,
    /// Microseconds since the epoch.
    created_at: i64,
    /// Microseconds since the epoch; NULL while pending.
    confirmed_at: Option<i64>,
    /// The last accepted time step.
    last_step: Option<i64>,
}

impl TryFrom<FactorRow> for TotpFactor {
    type Error = authgate_core::StoreError;

    fn try_from(row: FactorRow) -> StoreResult<Self> {
        Ok(TotpFactor {
            user_id: uuid_of(&row.user_id, "totp_factors.user_id")?,
            sealed_secret: row.sealed_secret,
            created_at: time_of(row.created_at, "totp_factors.created_at")?,
            confirmed_at: time_opt(row.confirmed_at, "totp_factors.confirmed_at")?,
            last_step: row.last_step,
        })
    }
}

/// An `mfa_challenges` row as SQLite returns it.
#[derive(sqlx::FromRow)]
struct ChallengeRow {
    /// SHA-256 of the token.
    hash: Vec<u8>,
    /// Hyphenated UUID.
    user_id: String,
    /// The audience asked for.
    audience: String,
    /// A browser's login.
    browser: bool,
    /// Microseconds since the epoch.
    created_at: i64,
    /// Microseconds since the epoch.
    expires_at: i64,
}

impl TryFrom<ChallengeRow> for MfaChallenge {
    type Error = authgate_core::StoreError;

    fn try_from(row: ChallengeRow) -> StoreResult<Self> {
        Ok(MfaChallenge {
            hash: hash_of(&row.hash, "mfa_challenges.hash")?,
            user_id: uuid_of(&row.user_id, "mfa_challenges.user_id")?,
            audience: row.audience,
            browser: row.browser,
            created_at: time_of(row.created_at, "mfa_challenges.created_at")?,
            expires_at: time_of(row.expires_at, "mfa_challenges.expires_at")?,
        })
    }
}

#[async_trait]
impl MfaStore for SqliteStore {
    async fn totp_factor(&self, user_id: Uuid) -> StoreResult<Option<TotpFactor>> {
        sqlx::query_as::<_, FactorRow>(TOTP_FACTOR)
            .bind(uuid_text(user_id))
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?
            .map(TotpFactor::try_from)
            .transpose()
    }

    async fn put_pending_totp(&self, factor: &TotpFactor) -> StoreResult<bool> {
        let put = sqlx::query(PUT_PENDING_TOTP)
            .bind(uuid_text(factor.user_id))
            .bind(&factor.sealed_secret)
            .bind(micros(factor.created_at)?)
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(put.rows_affected() == 1)
    }

    async fn confirm_totp(
        &self,
        user_id: Uuid,
        sealed_secret: &[u8],
        step: i64,
        codes: &[TokenHash],
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool> {
        let (this, sealed, codes, audit) = (
            self.clone(),
            sealed_secret.to_vec(),
            codes.to_vec(),
            audit.cloned(),
        );
        detached(async move {
            let mut tx = this.begin_write().await?;
            let confirmed = sqlx::query(CONFIRM_TOTP)
                .bind(uuid_text(user_id))
                .bind(&sealed)
                .bind(micros(now)?)
                .bind(step)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            if confirmed.rows_affected() != 1 {
                WriteTx::rollback(tx).await?;
                return Ok(false);
            }
            sqlx::query(DELETE_RECOVERY_CODES)
                .bind(uuid_text(user_id))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            for hash in &codes {
                sqlx::query(INSERT_RECOVERY_CODE)
                    .bind(hash.0.as_slice())
                    .bind(uuid_text(user_id))
                    .bind(micros(now)?)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
            crate::common::commit_audited(tx, audit.as_ref()).await?;
            Ok(true)
        })
        .await
    }

    async fn use_totp_step(&self, user_id: Uuid, step: i64) -> StoreResult<bool> {
        let used = sqlx::query(USE_TOTP_STEP)
            .bind(uuid_text(user_id))
            .bind(step)
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(used.rows_affected() == 1)
    }

    async fn use_recovery_code(
        &self,
        user_id: Uuid,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let used = sqlx::query(USE_RECOVERY_CODE)
            .bind(uuid_text(user_id))
            .bind(hash.0.as_slice())
            .bind(micros(now)?)
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(used.rows_affected() == 1)
    }

    async fn recovery_codes_left(&self, user_id: Uuid) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(RECOVERY_CODES_LEFT)
            .bind(uuid_text(user_id))
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        u64::try_from(n).map_err(|_| corrupt("recovery_codes", "count is negative"))
    }

    async fn remove_mfa(&self, user_id: Uuid, audit: Option<&AuditEvent>) -> StoreResult<bool> {
        let (this, audit) = (self.clone(), audit.cloned());
        detached(async move {
            let mut tx = this.begin_write().await?;
            let removed = sqlx::query(DELETE_TOTP)
                .bind(uuid_text(user_id))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
            for statement in [DELETE_RECOVERY_CODES, DELETE_USER_CHALLENGES] {
                sqlx::query(statement)
                    .bind(uuid_text(user_id))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
            if removed == 0 {
                WriteTx::commit(tx).await?;
                return Ok(false);
            }
            crate::common::commit_audited(tx, audit.as_ref()).await?;
            Ok(true)
        })
        .await
    }

    async fn insert_mfa_challenge(&self, challenge: &MfaChallenge) -> StoreResult<()> {
        let (this, c) = (self.clone(), challenge.clone());
        detached(async move {
            let mut tx = this.begin_write().await?;
            sqlx::query(PURGE_CHALLENGES)
                .bind(micros(c.created_at)?)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            sqlx::query(INSERT_CHALLENGE)
                .bind(c.hash.0.as_slice())
                .bind(uuid_text(c.user_id))
                .bind(&c.audience)
                .bind(c.browser)
                .bind(micros(c.created_at)?)
                .bind(micros(c.expires_at)?)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            WriteTx::commit(tx).await
        })
        .await
    }

    async fn attempt_mfa_challenge(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
        max_attempts: u32,
    ) -> StoreResult<Option<MfaChallenge>> {
        sqlx::query_as::<_, ChallengeRow>(ATTEMPT_CHALLENGE)
            .bind(hash.0.as_slice())
            .bind(micros(now)?)
            .bind(i64::from(max_attempts))
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?
            .map(MfaChallenge::try_from)
            .transpose()
    }

    async fn take_mfa_challenge(&self, hash: &TokenHash) -> StoreResult<bool> {
        let taken = sqlx::query(TAKE_CHALLENGE)
            .bind(hash.0.as_slice())
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(taken.rows_affected() == 1)
    }
}
