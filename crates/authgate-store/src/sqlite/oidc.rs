//! [`OidcStore`] on SQLite: the `oidc_clients`, `oidc_codes` and
//! `oidc_consents` tables.

use async_trait::async_trait;
use authgate_core::oidc::client::OidcClient;
use authgate_core::oidc::code::{AuthorizationCode, CodeUse};
use authgate_core::oidc::store::OidcStore;
use authgate_core::{StoreError, StoreResult, TokenHash};
use authgate_proto::AuditEvent;
use sqlx::{Sqlite, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use super::SqliteStore;
use super::audit::insert_event;
use super::codec::{corrupt, hash_of, micros, micros_opt, time_of, time_opt, uuid_of, uuid_text};
use super::error::map_err;
use super::sessions::session_ids;
use crate::common::detached;
use crate::common::oidc::{PURGE_CODES, REVOKE_CLIENT_SESSIONS};

/// The columns read, in [`ClientRow`] order.
const COLUMNS: &str = "id, name, secret_hash, redirect_uris, post_logout_redirect_uris, \
                       scopes, first_party, created_at";

/// An `oidc_clients` row as SQLite returns it, before validation.
#[derive(sqlx::FromRow)]
struct ClientRow {
    /// The client_id.
    id: String,
    /// Display name.
    name: String,
    /// SHA-256 of the secret; `None` for a public client.
    secret_hash: Option<Vec<u8>>,
    /// JSON array of URIs.
    redirect_uris: String,
    /// JSON array of URIs.
    post_logout_redirect_uris: String,
    /// JSON array of scope names.
    scopes: String,
    /// 0 or 1.
    first_party: i64,
    /// Microseconds since the epoch.
    created_at: i64,
}

/// A JSON array of strings from `column`.
fn strings(text: &str, column: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(text).map_err(|_| corrupt(column, "is not a JSON array of strings"))
}

/// `items` as JSON text.
fn json(items: &[String]) -> StoreResult<String> {
    serde_json::to_string(items).map_err(|_| StoreError::Other("list does not serialize".into()))
}

/// The `oidc_codes` columns read, in [`CodeRow`] order.
const CODE_COLUMNS: &str = "hash, client_id, redirect_uri, user_id, browser_session_id, scopes, \
                            code_challenge, nonce, auth_time, created_at, expires_at, used_at, \
                            issued_session_id";

/// An `oidc_codes` row as SQLite returns it, before validation.
#[derive(sqlx::FromRow)]
struct CodeRow {
    /// SHA-256 of the code.
    hash: Vec<u8>,
    /// The client.
    client_id: String,
    /// The request's redirect URI.
    redirect_uri: String,
    /// UUID text.
    user_id: String,
    /// UUID text.
    browser_session_id: String,
    /// JSON array of scope names.
    scopes: String,
    /// PKCE S256 challenge.
    code_challenge: String,
    /// The request's nonce.
    nonce: Option<String>,
    /// Microseconds since the epoch.
    auth_time: i64,
    /// Microseconds since the epoch.
    created_at: i64,
    /// Microseconds since the epoch.
    expires_at: i64,
    /// Microseconds since the epoch.
    used_at: Option<i64>,
    /// UUID text.
    issued_session_id: Option<String>,
}

impl TryFrom<CodeRow> for AuthorizationCode {
    type Error = StoreError;

    fn try_from(row: CodeRow) -> StoreResult<Self> {
        Ok(AuthorizationCode {
            hash: hash_of(&row.hash, "oidc_codes.hash")?,
            user_id: uuid_of(&row.user_id, "oidc_codes.user_id")?,
            browser_session_id: uuid_of(&row.browser_session_id, "oidc_codes.browser_session_id")?,
            scopes: strings(&row.scopes, "oidc_codes.scopes")?,
            auth_time: time_of(row.auth_time, "oidc_codes.auth_time")?,
            created_at: time_of(row.created_at, "oidc_codes.created_at")?,
            expires_at: time_of(row.expires_at, "oidc_codes.expires_at")?,
            used_at: time_opt(row.used_at, "oidc_codes.used_at")?,
            issued_session_id: row
                .issued_session_id
                .map(|id| uuid_of(&id, "oidc_codes.issued_session_id"))
                .transpose()?,
            client_id: row.client_id,
            redirect_uri: row.redirect_uri,
            code_challenge: row.code_challenge,
            nonce: row.nonce,
        })
    }
}

impl TryFrom<ClientRow> for OidcClient {
    type Error = StoreError;

    fn try_from(row: ClientRow) -> StoreResult<Self> {
        Ok(OidcClient {
            secret_hash: row
                .secret_hash
                .map(|h| hash_of(&h, "oidc_clients.secret_hash"))
                .transpose()?,
            redirect_uris: strings(&row.redirect_uris, "oidc_clients.redirect_uris")?,
            post_logout_redirect_uris: strings(
                &row.post_logout_redirect_uris,
                "oidc_clients.post_logout_redirect_uris",
            )?,
            scopes: strings(&row.scopes, "oidc_clients.scopes")?,
            first_party: row.first_party != 0,
            created_at: time_of(row.created_at, "oidc_clients.created_at")?,
            id: row.id,
            name: row.name,
        })
    }
}

#[async_trait]
impl OidcStore for SqliteStore {
    async fn insert_oidc_client_audited(
        &self,
        client: &OidcClient,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<()> {
        let (this, client, audit) = (self.clone(), client.clone(), audit.cloned());
        detached(async move {
            let mut tx = this.begin_write().await?;
            sqlx::query(&format!(
                "INSERT INTO oidc_clients ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            ))
            .bind(&client.id)
            .bind(&client.name)
            .bind(client.secret_hash.as_ref().map(|h| h.0.to_vec()))
            .bind(json(&client.redirect_uris)?)
            .bind(json(&client.post_logout_redirect_uris)?)
            .bind(json(&client.scopes)?)
            .bind(i64::from(client.first_party))
            .bind(micros(client.created_at)?)
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

    async fn oidc_client(&self, id: &str) -> StoreResult<Option<OidcClient>> {
        sqlx::query_as::<_, ClientRow>(&format!("SELECT {COLUMNS} FROM oidc_clients WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?
            .map(OidcClient::try_from)
            .transpose()
    }

    async fn oidc_clients(&self) -> StoreResult<Vec<OidcClient>> {
        sqlx::query_as::<_, ClientRow>(&format!(
            "SELECT {COLUMNS} FROM oidc_clients ORDER BY created_at, id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?
        .into_iter()
        .map(OidcClient::try_from)
        .collect()
    }

    async fn delete_oidc_client_audited(
        &self,
        id: &str,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool> {
        let (this, id, audit) = (self.clone(), id.to_owned(), audit.cloned());
        detached(async move {
            let mut tx = this.begin_write().await?;
            let deleted = sqlx::query("DELETE FROM oidc_clients WHERE id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected()
                > 0;
            if deleted && let Some(event) = &audit {
                insert_event(&mut *tx, event).await?;
            }
            tx.commit().await.map_err(map_err)?;
            Ok(deleted)
        })
        .await
    }

    async fn insert_code(&self, code: &AuthorizationCode) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO oidc_codes ({CODE_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(code.hash.0.as_slice())
        .bind(&code.client_id)
        .bind(&code.redirect_uri)
        .bind(uuid_text(code.user_id))
        .bind(uuid_text(code.browser_session_id))
        .bind(json(&code.scopes)?)
        .bind(&code.code_challenge)
        .bind(code.nonce.as_deref())
        .bind(micros(code.auth_time)?)
        .bind(micros(code.created_at)?)
        .bind(micros(code.expires_at)?)
        .bind(micros_opt(code.used_at)?)
        .bind(code.issued_session_id.map(uuid_text))
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn use_code(
        &self,
        hash: &TokenHash,
        session_id: Uuid,
        now: OffsetDateTime,
    ) -> StoreResult<CodeUse> {
        self.committer.use_code(hash, session_id, now).await
    }

    async fn purge_codes(&self, before: OffsetDateTime, limit: u32) -> StoreResult<u64> {
        let (this, before) = (self.clone(), micros(before)?);
        detached(async move {
            let mut tx = this.begin_write().await?;
            let done = sqlx::query(PURGE_CODES)
                .bind(before)
                .bind(i64::from(limit))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            tx.commit().await.map_err(map_err)?;
            Ok(done.rows_affected())
        })
        .await
    }

    async fn revoke_client_sessions_audited(
        &self,
        user_id: Uuid,
        client_id: &str,
        browser_session_id: Uuid,
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<Vec<Uuid>> {
        let (this, client_id, audit) = (self.clone(), client_id.to_owned(), audit.cloned());
        let now = micros(now)?;
        detached(async move {
            let mut tx = this.begin_write().await?;
            let ids: Vec<String> = sqlx::query_scalar(REVOKE_CLIENT_SESSIONS)
                .bind(uuid_text(user_id))
                .bind(&client_id)
                .bind(uuid_text(browser_session_id))
                .bind(now)
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
            if !ids.is_empty()
                && let Some(event) = &audit
            {
                insert_event(&mut *tx, event).await?;
            }
            tx.commit().await.map_err(map_err)?;
            session_ids(&ids)
        })
        .await
    }

    async fn consent(&self, user_id: Uuid, client_id: &str) -> StoreResult<Option<Vec<String>>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT scopes FROM oidc_consents WHERE user_id = $1 AND client_id = $2",
        )
        .bind(uuid_text(user_id))
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.map(|(scopes,)| strings(&scopes, "oidc_consents.scopes"))
            .transpose()
    }

    async fn save_consent(
        &self,
        user_id: Uuid,
        client_id: &str,
        scopes: &[String],
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<()> {
        let (this, client_id, audit) = (self.clone(), client_id.to_owned(), audit.cloned());
        let scopes = json(scopes)?;
        detached(async move {
            let mut tx = this.begin_write().await?;
            sqlx::query(
                "INSERT INTO oidc_consents (user_id, client_id, scopes, granted_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, client_id) \
                 DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at",
            )
            .bind(uuid_text(user_id))
            .bind(&client_id)
            .bind(&scopes)
            .bind(micros(now)?)
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
}

/// `OidcStore::use_code` inside `tx` (the group committer's), in one
/// statement (one hop to SQLite's connection thread): the code with `hash`,
/// marked used at `now` by `session_id` if it was not yet. `SET` reads the
/// row as it was, so a used code keeps its first use; `RETURNING` gives
/// the row as it is, and the use was the first when the row names
/// `session_id` (new with every exchange).
pub(super) async fn use_code_in(
    tx: &mut Transaction<'static, Sqlite>,
    hash: &TokenHash,
    session_id: Uuid,
    now: OffsetDateTime,
) -> StoreResult<CodeUse> {
    let row = sqlx::query_as::<_, CodeRow>(&format!(
        "UPDATE oidc_codes SET used_at = COALESCE(used_at, $2), \
           issued_session_id = CASE WHEN used_at IS NULL THEN $3 ELSE issued_session_id END \
         WHERE hash = $1 RETURNING {CODE_COLUMNS}"
    ))
    .bind(hash.0.as_slice())
    .bind(micros(now)?)
    .bind(uuid_text(session_id))
    .fetch_optional(&mut **tx)
    .await
    .map_err(map_err)?;
    let Some(row) = row else {
        return Ok(CodeUse::Unknown);
    };
    let code = AuthorizationCode::try_from(row)?;
    Ok(if code.issued_session_id == Some(session_id) {
        CodeUse::First(code)
    } else {
        CodeUse::Again(code)
    })
}
