//! [`VerificationStore`] on SQLite: the `email_verifications` table.

use async_trait::async_trait;
use authgate_core::{
    EmailVerified, StoreResult, TokenHash, VerificationStore, VerificationToken, VerifyRefusal,
};
use authgate_proto::AuditEvent;
use time::OffsetDateTime;
use uuid::Uuid;

use super::SqliteStore;
use super::codec::{corrupt, hash_of, micros, time_of, uuid_of, uuid_text};
use super::error::map_err;
use super::recovery::insert_mail;
use crate::common::verification::{
    COUNT_USER_VERIFICATIONS, EMAIL_TAKEN, END_USER_VERIFICATIONS, INSERT_VERIFICATION,
    SET_VERIFIED_EMAIL, TAKE_VERIFICATION, VERIFICATION_BY_HASH,
};
use crate::common::{WriteTx, detached};

/// An `email_verifications` row as SQLite returns it.
#[derive(sqlx::FromRow)]
struct VerificationRow {
    /// SHA-256 of the token.
    hash: Vec<u8>,
    /// Hyphenated UUID.
    user_id: String,
    /// The address the link proves.
    email: String,
    /// Microseconds since the epoch.
    created_at: i64,
    /// Microseconds since the epoch.
    expires_at: i64,
}

impl TryFrom<VerificationRow> for VerificationToken {
    type Error = authgate_core::StoreError;

    fn try_from(row: VerificationRow) -> StoreResult<Self> {
        Ok(VerificationToken {
            hash: hash_of(&row.hash, "email_verifications.hash")?,
            user_id: uuid_of(&row.user_id, "email_verifications.user_id")?,
            email: row.email,
            created_at: time_of(row.created_at, "email_verifications.created_at")?,
            expires_at: time_of(row.expires_at, "email_verifications.expires_at")?,
        })
    }
}

#[async_trait]
impl VerificationStore for SqliteStore {
    async fn request_verification(
        &self,
        token: Option<&VerificationToken>,
        mail: &authgate_core::QueuedMail,
        max_pending: u64,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool> {
        let (this, token, mail, audit) =
            (self.clone(), token.cloned(), mail.clone(), audit.cloned());
        detached(async move {
            let mut tx = this.begin_write().await?;
            if !insert_mail(&mut tx, &mail, max_pending).await? {
                WriteTx::rollback(tx).await?;
                return Ok(false);
            }
            if let Some(token) = &token {
                sqlx::query(END_USER_VERIFICATIONS)
                    .bind(uuid_text(token.user_id))
                    .bind(micros(token.created_at)?)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                sqlx::query(INSERT_VERIFICATION)
                    .bind(token.hash.0.as_slice())
                    .bind(uuid_text(token.user_id))
                    .bind(&token.email)
                    .bind(micros(token.created_at)?)
                    .bind(micros(token.expires_at)?)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
            crate::common::commit_audited(tx, audit.as_ref()).await?;
            Ok(true)
        })
        .await
    }

    async fn verifications_since(&self, user_id: Uuid, since: OffsetDateTime) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(COUNT_USER_VERIFICATIONS)
            .bind(uuid_text(user_id))
            .bind(micros(since)?)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        u64::try_from(n).map_err(|_| corrupt("email_verifications", "count is negative"))
    }

    async fn verification_token(&self, hash: &TokenHash) -> StoreResult<Option<VerificationToken>> {
        sqlx::query_as::<_, VerificationRow>(VERIFICATION_BY_HASH)
            .bind(hash.0.as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?
            .map(VerificationToken::try_from)
            .transpose()
    }

    async fn verify_email(
        &self,
        token: &VerificationToken,
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<Result<EmailVerified, VerifyRefusal>> {
        let (this, token, audit) = (self.clone(), token.clone(), audit.cloned());
        detached(async move {
            let mut tx = this.begin_write().await?;
            let taken: Option<String> = sqlx::query_scalar(TAKE_VERIFICATION)
                .bind(token.hash.0.as_slice())
                .bind(micros(now)?)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
            let previous: Option<String> = match taken {
                Some(user) if user == uuid_text(token.user_id) => {
                    sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
                        .bind(user)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(map_err)?
                }
                _ => None,
            };
            let Some(previous_email) = previous else {
                WriteTx::rollback(tx).await?;
                return Ok(Err(VerifyRefusal::Invalid));
            };
            let others: i64 = sqlx::query_scalar(EMAIL_TAKEN)
                .bind(&token.email)
                .bind(uuid_text(token.user_id))
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
            if others > 0 {
                WriteTx::rollback(tx).await?;
                return Ok(Err(VerifyRefusal::EmailTaken));
            }
            sqlx::query(SET_VERIFIED_EMAIL)
                .bind(uuid_text(token.user_id))
                .bind(&token.email)
                .bind(micros(now)?)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            sqlx::query(END_USER_VERIFICATIONS)
                .bind(uuid_text(token.user_id))
                .bind(micros(now)?)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            crate::common::commit_audited(tx, audit.as_ref()).await?;
            Ok(Ok(EmailVerified { previous_email }))
        })
        .await
    }
}
