//! [`UserStore`] on PostgreSQL: the `users` table.

use async_trait::async_trait;
use authgate_core::{StoreResult, User, UserQuery, UserStore};
use authgate_proto::AuditEvent;
use time::OffsetDateTime;
use uuid::Uuid;

use super::PostgresStore;
use super::audit::insert_event;
use super::codec::{count, ts};
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

/// A `users` row as PostgreSQL returns it.
#[derive(sqlx::FromRow)]
struct UserRow {
    /// Primary key.
    id: Uuid,
    /// Lower-cased address.
    email: String,
    /// Lower-cased, optional.
    username: Option<String>,
    /// Display name.
    name: Option<String>,
    /// Argon2id PHC string.
    password_hash: String,
    /// Role names.
    roles: Vec<String>,
    /// Whether the account may log in.
    is_active: bool,
    /// Registration time.
    created_at: OffsetDateTime,
    /// Last change.
    updated_at: OffsetDateTime,
    /// When the address was verified; NULL until then.
    email_verified_at: Option<OffsetDateTime>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        User {
            id: row.id,
            email: row.email,
            username: row.username,
            name: row.name,
            password_hash: row.password_hash,
            roles: row.roles,
            is_active: row.is_active,
            email_verified_at: row.email_verified_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[async_trait]
impl UserStore for PostgresStore {
    async fn insert_user_audited(
        &self,
        user: &User,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<()> {
        let (this, user, audit) = (self.clone(), user.clone(), audit.cloned());
        detached(async move {
            let mut tx = this.pool.begin().await.map_err(map_err)?;
            sqlx::query(
                "INSERT INTO users (id, email, username, name, password_hash, roles, is_active, \
                 created_at, updated_at, email_verified_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(user.id)
            .bind(&user.email)
            .bind(&user.username)
            .bind(&user.name)
            .bind(&user.password_hash)
            .bind(&user.roles)
            .bind(user.is_active)
            .bind(ts(user.created_at)?)
            .bind(ts(user.updated_at)?)
            .bind(user.email_verified_at.map(ts).transpose()?)
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
        let row = sqlx::query_as::<_, UserRow>(sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(row.map(User::from))
    }

    async fn user_by_login(&self, login: &str) -> StoreResult<Option<User>> {
        // Emails contain '@' and usernames cannot, so at most one row matches;
        // the ORDER BY only makes an email match win if that ever changes.
        let sql = concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE email = $1 OR username = $1 ORDER BY email = $1 DESC LIMIT 1"
        );
        let row = sqlx::query_as::<_, UserRow>(sql)
            .bind(login)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(row.map(User::from))
    }

    async fn password_hash_costs(&self) -> StoreResult<Vec<String>> {
        // The hashes without their salt and output: one row per parameter set.
        let sql =
            r"SELECT DISTINCT regexp_replace(password_hash, '\$[^$]*\$[^$]*$', '') FROM users";
        let parameters: Vec<String> = sqlx::query_scalar(sql)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(parameters
            .iter()
            .filter_map(|p| authgate_core::parameters_cost(p))
            .collect())
    }

    async fn set_password_hash(
        &self,
        id: Uuid,
        current: &str,
        hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let done = sqlx::query(SET_PASSWORD_HASH)
            .bind(id)
            .bind(hash)
            .bind(ts(now)?)
            .bind(current)
            .execute(&self.pool)
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
            let mut tx = this.pool.begin().await.map_err(map_err)?;
            let sql = concat!(
                "UPDATE users SET roles = $2, updated_at = $3 WHERE id = $1 RETURNING ",
                user_columns!()
            );
            let Some(row) = sqlx::query_as::<_, UserRow>(sql)
                .bind(id)
                .bind(&roles)
                .bind(ts(now)?)
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
            Ok(Some(User::from(row)))
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
            let now = ts(now)?;
            let mut tx = this.pool.begin().await.map_err(map_err)?;
            let sql = concat!(
                "UPDATE users SET is_active = $2, updated_at = $3 WHERE id = $1 RETURNING ",
                user_columns!()
            );
            let Some(row) = sqlx::query_as::<_, UserRow>(sql)
                .bind(id)
                .bind(active)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?
            else {
                tx.rollback().await.map_err(map_err)?;
                return Ok(None);
            };
            let revoked = if active {
                Vec::new()
            } else {
                sqlx::query_scalar(
                    "UPDATE sessions SET revoked_at = $2 \
                     WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 RETURNING id",
                )
                .bind(id)
                .bind(now)
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?
            };
            if let Some(event) = &audit {
                insert_event(&mut *tx, event).await?;
            }
            tx.commit().await.map_err(map_err)?;
            Ok(Some((User::from(row), revoked)))
        })
        .await
    }

    async fn list_users(&self, query: &UserQuery) -> StoreResult<Vec<User>> {
        // The casts type the parameters where `$n IS NULL` alone would not.
        let sql = concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE ($1::uuid IS NULL OR id > $1) \
              AND ($2::text IS NULL OR email LIKE $2 ESCAPE '\\' OR username LIKE $2 ESCAPE '\\') \
              ORDER BY id LIMIT $3"
        );
        let rows = sqlx::query_as::<_, UserRow>(sql)
            .bind(query.after)
            .bind(query.prefix.as_deref().map(like_prefix))
            .bind(i64::from(query.limit))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    async fn count_users(&self) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        count(n, "COUNT(*) of users")
    }
}
