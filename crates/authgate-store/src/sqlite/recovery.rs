//! [`OutboxStore`] and [`ResetStore`] on SQLite: the `outbox` and
//! `password_resets` tables.

use async_trait::async_trait;
use authgate_core::{OutboxStore, QueuedMail, ResetStore, ResetToken, StoreResult, TokenHash};
use authgate_proto::AuditEvent;
use time::OffsetDateTime;
use uuid::Uuid;

use super::SqliteStore;
use super::codec::{corrupt, hash_of, micros, time_of, uuid_of, uuid_text};
use super::error::map_err;
use crate::common::recovery::{
    CLAIM_MAIL, COUNT_MAIL_TO, COUNT_PENDING_MAIL, DELETE_USER_RESETS, DUE_MAIL, INSERT_MAIL,
    INSERT_RESET, MAIL_FAILED, MAIL_SENT, PURGE_MAIL, PURGE_RESETS, RESET_BY_HASH, TAKE_RESET,
};
use crate::common::sessions::SessionTx;
use crate::common::{WriteTx, detached};

/// An `outbox` row as SQLite returns it.
#[derive(sqlx::FromRow)]
struct MailRow {
    /// Hyphenated UUID.
    id: String,
    /// MailKind.
    kind: String,
    /// Envelope recipient.
    recipient: String,
    /// Envelope sender.
    sender: String,
    /// Sealed message; NULL once delivered or given up.
    sealed: Option<Vec<u8>>,
    /// Attempts so far.
    attempts: i64,
    /// Microseconds since the epoch.
    created_at: i64,
    /// Microseconds since the epoch; NULL once delivered or given up.
    next_attempt_at: Option<i64>,
}

impl TryFrom<MailRow> for QueuedMail {
    type Error = authgate_core::StoreError;

    fn try_from(row: MailRow) -> StoreResult<Self> {
        Ok(QueuedMail {
            id: uuid_of(&row.id, "outbox.id")?,
            kind: row.kind,
            recipient: row.recipient,
            sender: row.sender,
            sealed: row
                .sealed
                .ok_or_else(|| corrupt("outbox.sealed", "is empty on a pending message"))?,
            attempts: u32::try_from(row.attempts)
                .map_err(|_| corrupt("outbox.attempts", "is out of range"))?,
            created_at: time_of(row.created_at, "outbox.created_at")?,
            next_attempt_at: time_of(
                row.next_attempt_at
                    .ok_or_else(|| corrupt("outbox.next_attempt_at", "is empty"))?,
                "outbox.next_attempt_at",
            )?,
        })
    }
}

/// A `password_resets` row as SQLite returns it.
#[derive(sqlx::FromRow)]
struct ResetRow {
    /// SHA-256 of the token.
    hash: Vec<u8>,
    /// Hyphenated UUID.
    user_id: String,
    /// SHA-256 of the password hash at issue.
    password_fingerprint: Vec<u8>,
    /// Microseconds since the epoch.
    created_at: i64,
    /// Microseconds since the epoch.
    expires_at: i64,
}

impl TryFrom<ResetRow> for ResetToken {
    type Error = authgate_core::StoreError;

    fn try_from(row: ResetRow) -> StoreResult<Self> {
        Ok(ResetToken {
            hash: hash_of(&row.hash, "password_resets.hash")?,
            user_id: uuid_of(&row.user_id, "password_resets.user_id")?,
            password_fingerprint: hash_of(
                &row.password_fingerprint,
                "password_resets.password_fingerprint",
            )?,
            created_at: time_of(row.created_at, "password_resets.created_at")?,
            expires_at: time_of(row.expires_at, "password_resets.expires_at")?,
        })
    }
}

/// Inserts `mail` in `tx` if fewer than `max_pending` messages wait.
pub(super) async fn insert_mail(
    tx: &mut sqlx::SqliteConnection,
    mail: &QueuedMail,
    max_pending: u64,
) -> StoreResult<bool> {
    let pending: i64 = sqlx::query_scalar(COUNT_PENDING_MAIL)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
    if u64::try_from(pending).unwrap_or(u64::MAX) >= max_pending {
        return Ok(false);
    }
    sqlx::query(INSERT_MAIL)
        .bind(uuid_text(mail.id))
        .bind(&mail.kind)
        .bind(&mail.recipient)
        .bind(&mail.sender)
        .bind(&mail.sealed)
        .bind(i64::from(mail.attempts))
        .bind(micros(mail.created_at)?)
        .bind(micros(mail.next_attempt_at)?)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    Ok(true)
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn queue_mail(&self, mail: &QueuedMail, max_pending: u64) -> StoreResult<bool> {
        let (this, mail) = (self.clone(), mail.clone());
        detached(async move {
            let mut tx = this.begin_write().await?;
            let queued = insert_mail(&mut tx, &mail, max_pending).await?;
            WriteTx::commit(tx).await?;
            Ok(queued)
        })
        .await
    }

    async fn claim_mail(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<QueuedMail>> {
        let this = self.clone();
        detached(async move {
            let mut tx = this.begin_write().await?;
            let due: Vec<(String, i64)> = sqlx::query_as(DUE_MAIL)
                .bind(micros(now)?)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
            let mut claimed = Vec::with_capacity(due.len());
            for (id, next) in due {
                let row: Option<MailRow> = sqlx::query_as(CLAIM_MAIL)
                    .bind(&id)
                    .bind(next)
                    .bind(micros(lease_until)?)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
                if let Some(row) = row {
                    claimed.push(QueuedMail::try_from(row)?);
                }
            }
            WriteTx::commit(tx).await?;
            Ok(claimed)
        })
        .await
    }

    async fn mail_sent(&self, id: Uuid, now: OffsetDateTime) -> StoreResult<()> {
        sqlx::query(MAIL_SENT)
            .bind(uuid_text(id))
            .bind(micros(now)?)
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn mail_failed(
        &self,
        id: Uuid,
        retry_at: Option<OffsetDateTime>,
        error: &str,
    ) -> StoreResult<()> {
        sqlx::query(MAIL_FAILED)
            .bind(uuid_text(id))
            .bind(retry_at.map(micros).transpose()?)
            .bind(error)
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn count_mail_to(
        &self,
        recipient: &str,
        kind: &str,
        since: OffsetDateTime,
    ) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(COUNT_MAIL_TO)
            .bind(recipient)
            .bind(kind)
            .bind(micros(since)?)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        u64::try_from(n).map_err(|_| corrupt("outbox", "count is negative"))
    }

    async fn pending_mail(&self) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(COUNT_PENDING_MAIL)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        u64::try_from(n).map_err(|_| corrupt("outbox", "count is negative"))
    }

    async fn purge_mail(&self, before: OffsetDateTime) -> StoreResult<u64> {
        let before = micros(before)?;
        let mail = sqlx::query(PURGE_MAIL)
            .bind(before)
            .execute(&self.writer)
            .await
            .map_err(map_err)?
            .rows_affected();
        let resets = sqlx::query(PURGE_RESETS)
            .bind(before)
            .execute(&self.writer)
            .await
            .map_err(map_err)?
            .rows_affected();
        let verifications = sqlx::query(crate::common::verification::PURGE_VERIFICATIONS)
            .bind(before)
            .execute(&self.writer)
            .await
            .map_err(map_err)?
            .rows_affected();
        Ok(mail + resets + verifications)
    }
}

#[async_trait]
impl ResetStore for SqliteStore {
    async fn request_reset(
        &self,
        token: Option<&ResetToken>,
        mail: &QueuedMail,
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
                sqlx::query(DELETE_USER_RESETS)
                    .bind(uuid_text(token.user_id))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                sqlx::query(INSERT_RESET)
                    .bind(token.hash.0.as_slice())
                    .bind(uuid_text(token.user_id))
                    .bind(token.password_fingerprint.0.as_slice())
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

    async fn reset_token(&self, hash: &TokenHash) -> StoreResult<Option<ResetToken>> {
        sqlx::query_as::<_, ResetRow>(RESET_BY_HASH)
            .bind(hash.0.as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?
            .map(ResetToken::try_from)
            .transpose()
    }

    async fn reset_password(
        &self,
        token: &ResetToken,
        new_hash: &str,
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<Option<Vec<Uuid>>> {
        let (this, token, new_hash, audit) = (
            self.clone(),
            token.clone(),
            new_hash.to_owned(),
            audit.cloned(),
        );
        detached(async move {
            let mut tx = this.begin_write().await?;
            let taken: Option<String> = sqlx::query_scalar(TAKE_RESET)
                .bind(token.hash.0.as_slice())
                .bind(micros(now)?)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
            let current: Option<String> = match taken {
                Some(user) if user == uuid_text(token.user_id) => {
                    sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
                        .bind(user)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(map_err)?
                }
                _ => None,
            };
            let still_valid =
                current.is_some_and(|hash| TokenHash::of(&hash).ct_eq(&token.password_fingerprint));
            if !still_valid {
                WriteTx::rollback(tx).await?;
                return Ok(None);
            }
            sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
                .bind(uuid_text(token.user_id))
                .bind(&new_hash)
                .bind(micros(now)?)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            sqlx::query(DELETE_USER_RESETS)
                .bind(uuid_text(token.user_id))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            let revoked = tx.revoke_user_sessions(token.user_id, now).await?;
            crate::common::commit_audited(tx, audit.as_ref()).await?;
            Ok(Some(revoked))
        })
        .await
    }
}
