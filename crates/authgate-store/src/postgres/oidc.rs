//! [`OidcStore`] on PostgreSQL: the `oidc_clients`, `oidc_codes` and
//! `oidc_consents` tables.

use async_trait::async_trait;
use authgate_core::oidc::client::OidcClient;
use authgate_core::oidc::code::{AuthorizationCode, CodeUse};
use authgate_core::oidc::store::OidcStore;
use authgate_core::{StoreError, StoreResult, TokenHash};
use authgate_proto::AuditEvent;
use time::OffsetDateTime;
use uuid::Uuid;

use super::PostgresStore;
use super::audit::insert_event;
use super::codec::{hash_of, ts, ts_opt};
use super::error::map_err;
use crate::common::detached;
use crate::common::oidc::{PURGE_CODES, REVOKE_CLIENT_SESSIONS};

/// The columns read, in [`ClientRow`] order.
const COLUMNS: &str = "id, name, secret_hash, redirect_uris, post_logout_redirect_uris, \
                       scopes, first_party, created_at";

/// An `oidc_clients` row as PostgreSQL returns it.
#[derive(sqlx::FromRow)]
struct ClientRow {
    /// The client_id.
    id: String,
    /// Display name.
    name: String,
    /// SHA-256 of the secret; `None` for a public client.
    secret_hash: Option<Vec<u8>>,
    /// Exact URIs.
    redirect_uris: Vec<String>,
    /// Exact URIs.
    post_logout_redirect_uris: Vec<String>,
    /// Scope names.
    scopes: Vec<String>,
    /// No consent page.
    first_party: bool,
    /// Creation time.
    created_at: OffsetDateTime,
}

/// The `oidc_codes` columns read, in [`CodeRow`] order.
const CODE_COLUMNS: &str = "hash, client_id, redirect_uri, user_id, browser_session_id, scopes, \
                            code_challenge, nonce, auth_time, created_at, expires_at, used_at, \
                            issued_session_id";

/// An `oidc_codes` row as PostgreSQL returns it.
#[derive(sqlx::FromRow)]
struct CodeRow {
    /// SHA-256 of the code.
    hash: Vec<u8>,
    /// The client.
    client_id: String,
    /// The request's redirect URI.
    redirect_uri: String,
    /// Who signed in.
    user_id: Uuid,
    /// The approving browser session.
    browser_session_id: Uuid,
    /// Scope names.
    scopes: Vec<String>,
    /// PKCE S256 challenge.
    code_challenge: String,
    /// The request's nonce.
    nonce: Option<String>,
    /// Authentication time.
    auth_time: OffsetDateTime,
    /// Issue time.
    created_at: OffsetDateTime,
    /// End of validity.
    expires_at: OffsetDateTime,
    /// First exchange.
    used_at: Option<OffsetDateTime>,
    /// The session the first exchange created.
    issued_session_id: Option<Uuid>,
}

impl TryFrom<CodeRow> for AuthorizationCode {
    type Error = StoreError;

    fn try_from(row: CodeRow) -> StoreResult<Self> {
        Ok(AuthorizationCode {
            hash: hash_of(&row.hash, "oidc_codes.hash")?,
            client_id: row.client_id,
            redirect_uri: row.redirect_uri,
            user_id: row.user_id,
            browser_session_id: row.browser_session_id,
            scopes: row.scopes,
            code_challenge: row.code_challenge,
            nonce: row.nonce,
            auth_time: row.auth_time,
            created_at: row.created_at,
            expires_at: row.expires_at,
            used_at: row.used_at,
            issued_session_id: row.issued_session_id,
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
            id: row.id,
            name: row.name,
            redirect_uris: row.redirect_uris,
            post_logout_redirect_uris: row.post_logout_redirect_uris,
            scopes: row.scopes,
            first_party: row.first_party,
            created_at: row.created_at,
        })
    }
}

#[async_trait]
impl OidcStore for PostgresStore {
    async fn insert_oidc_client_audited(
        &self,
        client: &OidcClient,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<()> {
        let (this, client, audit) = (self.clone(), client.clone(), audit.cloned());
        detached(async move {
            let mut tx = this.pool.begin().await.map_err(map_err)?;
            sqlx::query(&format!(
                "INSERT INTO oidc_clients ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            ))
            .bind(&client.id)
            .bind(&client.name)
            .bind(client.secret_hash.as_ref().map(|h| h.0.to_vec()))
            .bind(&client.redirect_uris)
            .bind(&client.post_logout_redirect_uris)
            .bind(&client.scopes)
            .bind(client.first_party)
            .bind(ts(client.created_at)?)
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
            let mut tx = this.pool.begin().await.map_err(map_err)?;
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
        .bind(code.user_id)
        .bind(code.browser_session_id)
        .bind(&code.scopes)
        .bind(&code.code_challenge)
        .bind(code.nonce.as_deref())
        .bind(ts(code.auth_time)?)
        .bind(ts(code.created_at)?)
        .bind(ts(code.expires_at)?)
        .bind(ts_opt(code.used_at)?)
        .bind(code.issued_session_id)
        .execute(&self.pool)
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
        let (this, hash) = (self.clone(), *hash);
        detached(async move {
            let mut tx = this.pool.begin().await.map_err(map_err)?;
            // FOR UPDATE: a concurrent exchange waits here, then sees it used.
            let row = sqlx::query_as::<_, CodeRow>(&format!(
                "SELECT {CODE_COLUMNS} FROM oidc_codes WHERE hash = $1 FOR UPDATE"
            ))
            .bind(hash.0.as_slice())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
            let Some(row) = row else {
                tx.commit().await.map_err(map_err)?;
                return Ok(CodeUse::Unknown);
            };
            let mut code = AuthorizationCode::try_from(row)?;
            if code.used_at.is_some() {
                tx.commit().await.map_err(map_err)?;
                return Ok(CodeUse::Again(code));
            }
            sqlx::query(
                "UPDATE oidc_codes SET used_at = $2, issued_session_id = $3 WHERE hash = $1",
            )
            .bind(hash.0.as_slice())
            .bind(ts(now)?)
            .bind(session_id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            tx.commit().await.map_err(map_err)?;
            code.used_at = Some(now);
            code.issued_session_id = Some(session_id);
            Ok(CodeUse::First(code))
        })
        .await
    }

    async fn purge_codes(&self, before: OffsetDateTime, limit: u32) -> StoreResult<u64> {
        let done = sqlx::query(PURGE_CODES)
            .bind(ts(before)?)
            .bind(i64::from(limit))
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected())
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
        let now = ts(now)?;
        detached(async move {
            let mut tx = this.pool.begin().await.map_err(map_err)?;
            let ids: Vec<Uuid> = sqlx::query_scalar(REVOKE_CLIENT_SESSIONS)
                .bind(user_id)
                .bind(&client_id)
                .bind(browser_session_id)
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
            Ok(ids)
        })
        .await
    }

    async fn consent(&self, user_id: Uuid, client_id: &str) -> StoreResult<Option<Vec<String>>> {
        let row: Option<(Vec<String>,)> = sqlx::query_as(
            "SELECT scopes FROM oidc_consents WHERE user_id = $1 AND client_id = $2",
        )
        .bind(user_id)
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(row.map(|(scopes,)| scopes))
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
        let scopes = scopes.to_vec();
        detached(async move {
            let mut tx = this.pool.begin().await.map_err(map_err)?;
            sqlx::query(
                "INSERT INTO oidc_consents (user_id, client_id, scopes, granted_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, client_id) \
                 DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at",
            )
            .bind(user_id)
            .bind(&client_id)
            .bind(&scopes)
            .bind(ts(now)?)
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
