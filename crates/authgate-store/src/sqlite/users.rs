//! [`UserStore`] on SQLite: the `users` table.

use async_trait::async_trait;
use authgate_core::{StoreResult, User, UserQuery, UserStore};
use authgate_proto::AuditEvent;
use time::OffsetDateTime;
use uuid::Uuid;

use super::SqliteStore;
use super::audit::insert_event;
use super::codec::{corrupt, micros, time_of, uuid_of, uuid_text};
use super::error::map_err;
use crate::common::{SET_PASSWORD_HASH, detached, like_prefix, sessions};

/// The columns every user query selects, in [`UserRow`] order (a macro so
/// that queries stay `&'static str` through `concat!`).
macro_rules! user_columns {
    () => {
        "id, email, username, name, password_hash, roles, is_active, created_at, updated_at, \
         email_verified_at"
    };
}

/// The user of the session of refresh token `$1` (the last statement of a
/// refresh's one read, `sessions::REFRESH_CONTEXT`).
pub(super) const USER_OF_REFRESH_TOKEN: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE id = (SELECT s.user_id FROM sessions s \
       JOIN refresh_tokens t ON t.session_id = s.id WHERE t.hash = $1)"
);

/// A `users` row as SQLite returns it, before validation.
#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    /// Hyphenated UUID.
    id: String,
    /// Lower-cased address.
    email: String,
    /// Lower-cased, optional.
    username: Option<String>,
    /// Display name.
    name: Option<String>,
    /// Argon2id PHC string.
    password_hash: String,
    /// JSON array of role names.
    roles: String,
    /// 0 or 1.
    is_active: bool,
    /// Microseconds since the epoch.
    created_at: i64,
    /// Microseconds since the epoch.
    updated_at: i64,
    /// Microseconds since the epoch; NULL until verified.
    email_verified_at: Option<i64>,
}

impl TryFrom<UserRow> for User {
    type Error = authgate_core::StoreError;

    fn try_from(row: UserRow) -> StoreResult<Self> {
        let roles: Vec<String> = serde_json::from_str(&row.roles)
            .map_err(|_| corrupt("users.roles", "is not a JSON array of strings"))?;
        Ok(User {
            id: uuid_of(&row.id, "users.id")?,
            email: row.email,
            username: row.username,
            name: row.name,
            password_hash: row.password_hash,
            roles,
            is_active: row.is_active,
            email_verified_at: row
                .email_verified_at
                .map(|t| time_of(t, "users.email_verified_at"))
                .transpose()?,
            created_at: time_of(row.created_at, "users.created_at")?,
            updated_at: time_of(row.updated_at, "users.updated_at")?,
        })
    }
}

/// `roles` as the JSON text stored in `users.roles`.
pub(crate) fn roles_json(roles: &[String]) -> StoreResult<String> {
    serde_json::to_string(roles)
        .map_err(|_| authgate_core::StoreError::Other("roles do not serialize".into()))
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn insert_user_audited(
        &self,
        user: &User,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<()> {
        let (this, user, audit) = (self.clone(), user.clone(), audit.cloned());
        detached(async move {
            let mut tx = this.begin_write().await?;
            sqlx::query(
                "INSERT INTO users (id, email, username, name, password_hash, roles, is_active, \
                 created_at, updated_at, email_verified_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(uuid_text(user.id))
            .bind(&user.email)
            .bind(&user.username)
            .bind(&user.name)
            .bind(&user.password_hash)
            .bind(roles_json(&user.roles)?)
            .bind(user.is_active)
            .bind(micros(user.created_at)?)
            .bind(micros(user.updated_at)?)
            .bind(user.email_verified_at.map(micros).transpose()?)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            if let Some(event) = &audit {
                insert_event(&mut *tx, event).await?;
            }
            tx.commit().await.map_err(map_err)
        })
        .await
    }

    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<User>> {
        let sql = concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1");
        sqlx::query_as::<_, UserRow>(sql)
            .bind(uuid_text(id))
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?
            .map(User::try_from)
            .transpose()
    }

    async fn user_by_login(&self, login: &str) -> StoreResult<Option<User>> {
        // Emails contain '@' and usernames cannot, so at most one row matches;
        // the ORDER BY only makes an email match win if that ever changes.
        let sql = concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE email = $1 OR username = $1 ORDER BY email = $1 DESC LIMIT 1"
        );
        sqlx::query_as::<_, UserRow>(sql)
            .bind(login)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?
            .map(User::try_from)
            .transpose()
    }

    async fn password_hash_costs(&self) -> StoreResult<Vec<String>> {
        // SQLite has no regular expressions: every hash is read once (at
        // startup) and reduced here.
        let hashes: Vec<String> = sqlx::query_scalar("SELECT password_hash FROM users")
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let mut costs: Vec<String> = hashes
            .iter()
            .filter_map(|h| authgate_core::phc_cost(h))
            .collect();
        costs.sort();
        costs.dedup();
        Ok(costs)
    }

    async fn set_password_hash(
        &self,
        id: Uuid,
        current: &str,
        hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let done = sqlx::query(SET_PASSWORD_HASH)
            .bind(uuid_text(id))
            .bind(hash)
            .bind(micros(now)?)
            .bind(current)
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn change_password_audited(
        &self,
        id: Uuid,
        current: &str,
        hash: &str,
        keep_session: Uuid,
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<Option<Vec<Uuid>>> {
        let this = self.clone();
        let (current, hash, audit) = (current.to_owned(), hash.to_owned(), audit.cloned());
        detached(async move {
            let begin = this.begin_write();
            sessions::change_password(
                begin,
                id,
                &current,
                &hash,
                keep_session,
                now,
                audit.as_ref(),
            )
            .await
        })
        .await
    }

    async fn set_roles_audited(
        &self,
        id: Uuid,
        roles: &[String],
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<Option<User>> {
        let (this, roles, audit) = (self.clone(), roles.to_vec(), audit.cloned());
        detached(async move {
            let mut tx = this.begin_write().await?;
            let sql = concat!(
                "UPDATE users SET roles = $2, updated_at = $3 WHERE id = $1 RETURNING ",
                user_columns!()
            );
            let Some(row) = sqlx::query_as::<_, UserRow>(sql)
                .bind(uuid_text(id))
                .bind(roles_json(&roles)?)
                .bind(micros(now)?)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?
            else {
                tx.rollback().await.map_err(map_err)?;
                return Ok(None);
            };
            if let Some(event) = &audit {
                insert_event(&mut *tx, event).await?;
            }
            tx.commit().await.map_err(map_err)?;
            User::try_from(row).map(Some)
        })
        .await
    }

    async fn set_active_audited(
        &self,
        id: Uuid,
        active: bool,
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<Option<(User, Vec<Uuid>)>> {
        let (this, audit) = (self.clone(), audit.cloned());
        detached(async move {
            let now = micros(now)?;
            let mut tx = this.begin_write().await?;
            let sql = concat!(
                "UPDATE users SET is_active = $2, updated_at = $3 WHERE id = $1 RETURNING ",
                user_columns!()
            );
            let Some(row) = sqlx::query_as::<_, UserRow>(sql)
                .bind(uuid_text(id))
                .bind(active)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?
            else {
                tx.rollback().await.map_err(map_err)?;
                return Ok(None);
            };
            let user = User::try_from(row)?;
            let revoked = if active {
                Vec::new()
            } else {
                let ids: Vec<String> = sqlx::query_scalar(
                    "UPDATE sessions SET revoked_at = $2 \
                     WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 RETURNING id",
                )
                .bind(uuid_text(id))
                .bind(now)
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
                ids.iter()
                    .map(|id| uuid_of(id, "sessions.id"))
                    .collect::<StoreResult<_>>()?
            };
            if let Some(event) = &audit {
                insert_event(&mut *tx, event).await?;
            }
            tx.commit().await.map_err(map_err)?;
            Ok(Some((user, revoked)))
        })
        .await
    }

    async fn list_users(&self, query: &UserQuery) -> StoreResult<Vec<User>> {
        let sql = concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE ($1 IS NULL OR id > $1) \
              AND ($2 IS NULL OR email LIKE $2 ESCAPE '\\' OR username LIKE $2 ESCAPE '\\') \
              ORDER BY id LIMIT $3"
        );
        let rows = sqlx::query_as::<_, UserRow>(sql)
            .bind(query.after.map(uuid_text))
            .bind(query.prefix.as_deref().map(like_prefix))
            .bind(i64::from(query.limit))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(User::try_from).collect()
    }

    async fn count_users(&self) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        u64::try_from(n).map_err(|_| corrupt("COUNT(*) of users", "is negative"))
    }
}
