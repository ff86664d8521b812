//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): reading
//! an `id_token_hint`, checking a `post_logout_redirect_uri`, and (when
//! configured) ending the client's sessions of that sign-in.

use std::str::FromStr;

use authgate_jwt::Validation;
use authgate_proto::{AuditKind, IdTokenClaims};
use uuid::Uuid;

use crate::audit::{Origin, detail, event};
use crate::error::AuthError;
use crate::oidc::client::OidcClient;
use crate::service::AuthService;

/// What a valid `id_token_hint` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutHint {
    /// The client it was issued to (`aud`).
    pub client_id: String,
    /// The user (`sub`).
    pub user_id: Uuid,
    /// The browser session that signed in (`sid`).
    pub browser_session_id: Uuid,
}

impl AuthService {
    /// The facts of an ID token this server issued, checked by signature
    /// and issuer; `None` for anything else. Its expiry is not held against
    /// it: a hint is often presented after the ID token expired, and it
    /// only says who asks, never grants anything.
    pub fn logout_hint(&self, id_token: &str) -> Option<LogoutHint> {
        let ring = self.deps.keyring.ring();
        let unverified = authgate_jwt::decode_unverified::<serde_json::Value>(id_token).ok()?;
        let exp = unverified.claims.get("exp")?.as_i64()?;
        let validation = Validation::new()
            .issuer(self.settings.issuer.clone())
            .insecure_ignore_audience();
        let now = self.deps.clock.unix().min(exp.saturating_sub(1));
        let claims: IdTokenClaims =
            authgate_jwt::verify(id_token, &ring.id_verifying, &validation, now).ok()?;
        Some(LogoutHint {
            user_id: Uuid::from_str(&claims.sub).ok()?,
            browser_session_id: Uuid::from_str(&claims.sid).ok()?,
            client_id: claims.aud,
        })
    }

    /// The client named by a logout request (`client_id`, or the hint's
    /// audience; both must agree).
    ///
    /// # Errors
    /// [`AuthError::NotFound`] when they disagree or name no client; store errors.
    pub async fn logout_client(
        &self,
        hint: Option<&LogoutHint>,
        client_id: Option<&str>,
    ) -> Result<Option<OidcClient>, AuthError> {
        let id = match (hint.map(|h| h.client_id.as_str()), client_id) {
            (Some(a), Some(b)) if a != b => return Err(AuthError::NotFound),
            (Some(id), _) | (None, Some(id)) => id,
            (None, None) => return Ok(None),
        };
        self.oidc_client(id).await.map(Some)
    }

    /// With `[oidc] logout_ends_client_sessions`, ends the sessions the
    /// hint's client got for its user through the hint's browser session
    /// (every access and refresh token of them), recorded as
    /// `oidc.client_sessions_ended`; returns how many ended. The caller
    /// must have checked that the hint names the visitor's own browser
    /// session: a hint alone is no proof of who asks.
    ///
    /// # Errors
    /// Store errors.
    pub async fn end_client_sessions(
        &self,
        hint: &LogoutHint,
        origin: &Origin,
    ) -> Result<usize, AuthError> {
        if !self.settings.oidc_logout_ends_client_sessions {
            return Ok(0);
        }
        let now = self.deps.clock.now();
        let mut e = event(AuditKind::new("oidc.client_sessions_ended"), now, origin);
        e.user_id = Some(hint.user_id);
        e.client_id = Some(hint.client_id.clone());
        detail(
            &mut e,
            "browser_session_id",
            hint.browser_session_id.to_string(),
        );
        let ended = self
            .deps
            .oidc
            .revoke_client_sessions_audited(
                hint.user_id,
                &hint.client_id,
                hint.browser_session_id,
                now,
                self.in_transaction(&e),
            )
            .await?;
        if ended.is_empty() {
            return Ok(0);
        }
        for sid in &ended {
            self.remember_revoked(*sid);
        }
        super::super::count_revocations("session", ended.len());
        self.deps.audit.record_written(e);
        tracing::info!(client_id = %hint.client_id, sessions = ended.len(), "relying party sessions ended by logout");
        Ok(ended.len())
    }

    /// `uri` with `state` added, when it is one of `client`'s registered
    /// post-logout redirect URIs (compared as redirect URIs are: exactly,
    /// a loopback URI with any port); `None` otherwise.
    pub fn post_logout_location(
        &self,
        client: &OidcClient,
        uri: &str,
        state: Option<&str>,
    ) -> Option<String> {
        // The redirect URIs' rules: exact, except a loopback URI's port
        // (RFC 8252 §7.3: a native app's listener has any port).
        if !crate::oidc::redirect::matches_any(&client.post_logout_redirect_uris, uri) {
            return None;
        }
        let mut location = url::Url::parse(uri).ok()?;
        if let Some(state) = state.filter(|s| !s.is_empty() && s.len() <= 1024) {
            location.query_pairs_mut().append_pair("state", state);
        }
        Some(location.into())
    }
}
