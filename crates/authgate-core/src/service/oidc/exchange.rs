//! The token endpoint's `authorization_code` grant: client
//! authentication, the single-use code, PKCE, then an access token and an
//! ID token in a new session (docs/architecture.md "OpenID Connect").

use authgate_proto::{AccessClaims, Audience, AuditKind, IdTokenClaims, UserInfo};
use aws_lc_rs::{constant_time, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::audit::{Origin, detail, event};
use crate::clock::truncate_to_millis;
use crate::error::AuthError;
use crate::model::{ClientGrant, RefreshToken, Session, User};
use crate::oidc::client::{OFFLINE_ACCESS, OidcClient};
use crate::oidc::code::{AuthorizationCode, CodeUse, pkce_matches};
use crate::secrets::{TokenHash, random_token};
use crate::service::AuthService;

/// Longest client secret hashed; real ones are 43 characters.
const MAX_SECRET: usize = 512;
/// Longest code looked up; real ones are 43 characters.
const MAX_CODE: usize = 512;

/// What a code exchange or a relying party's refresh hands the client.
pub struct OidcTokens {
    /// The access token (RFC 9068 JWT with `client_id` and `scope`).
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// The ID token (RS256); `None` only for a refresh whose narrowed
    /// scope leaves out `openid`.
    pub id_token: Option<String>,
    /// The scopes of the access token, space-separated.
    pub scope: String,
    /// The refresh token, when `offline_access` was granted: a new one at
    /// every refresh (rotation).
    pub refresh_token: Option<Zeroizing<String>>,
    /// Seconds until the refresh token (its session) ends.
    pub refresh_expires_in: Option<i64>,
}

impl std::fmt::Debug for OidcTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcTokens")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("refresh_expires_in", &self.refresh_expires_in)
            .finish_non_exhaustive()
    }
}

impl AuthService {
    /// Authenticates a relying party at the token endpoint: a confidential
    /// client by its secret (constant-time, the same cost for unknown
    /// clients), a public client by its id alone (it must send no secret).
    ///
    /// # Errors
    /// [`AuthError::InvalidClient`]; store errors.
    pub async fn authenticate_oidc_client(
        &self,
        id: &str,
        secret: Option<&str>,
    ) -> Result<OidcClient, AuthError> {
        if !self.oidc_enabled()
            || id.is_empty()
            || id.len() > 128
            || !crate::text::is_opaque_id(id)
            || secret.is_some_and(|s| s.is_empty() || s.len() > MAX_SECRET)
        {
            return Err(AuthError::InvalidClient);
        }
        let client = self.deps.oidc.oidc_client(id).await?;
        let expected = client
            .as_ref()
            .and_then(|c| c.secret_hash)
            .unwrap_or(TokenHash([0; 32]));
        let presented = TokenHash::of(secret.unwrap_or_default());
        let matches = constant_time::verify_slices_are_equal(&presented.0, &expected.0).is_ok();
        match (client, secret) {
            (Some(c), Some(_)) if c.is_confidential() && matches => Ok(c),
            (Some(c), None) if !c.is_confidential() => Ok(c),
            _ => Err(AuthError::InvalidClient),
        }
    }

    /// Exchanges a code for tokens (RFC 6749 §4.1.3, RFC 7636 §4.6).
    ///
    /// The code is marked used before anything else is checked, so each
    /// code is exchanged at most once whatever happens. A code presented
    /// again revokes the session its first exchange created (RFC 6749
    /// §4.1.2: every token issued from it dies) and is recorded
    /// (`oidc.code_reused`).
    ///
    /// # Errors
    /// [`AuthError::InvalidGrant`] for an unknown, expired, reused or
    /// another client's code, a different `redirect_uri`, or a
    /// `code_verifier` that does not match; store and signing errors.
    pub async fn exchange_code(
        &self,
        client: &OidcClient,
        code: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
        origin: &Origin,
    ) -> Result<OidcTokens, AuthError> {
        if code.is_empty() || code.len() > MAX_CODE {
            return Err(AuthError::InvalidGrant);
        }
        let now = truncate_to_millis(self.deps.clock.now());
        let session_id = Uuid::now_v7();
        let record = match self
            .deps
            .oidc
            .use_code(&TokenHash::of(code), session_id, now)
            .await?
        {
            CodeUse::First(record) => record,
            CodeUse::Again(record) => {
                self.code_reused(&record, client, origin).await?;
                return Err(AuthError::InvalidGrant);
            }
            CodeUse::Unknown => return Err(AuthError::InvalidGrant),
        };
        let verified = record.client_id == client.id
            && record.expires_at > now
            && redirect_uri == Some(record.redirect_uri.as_str())
            && code_verifier.is_some_and(|v| pkce_matches(v, &record.code_challenge));
        if !verified {
            tracing::info!(client_id = %client.id, "code exchange refused");
            return Err(AuthError::InvalidGrant);
        }
        let user = match self.deps.users.user_by_id(record.user_id).await? {
            Some(user) if user.is_active => user,
            _ => return Err(AuthError::InvalidGrant),
        };
        let (session, refresh_token) = self
            .start_client_session(&user, &record, session_id, client, origin, now)
            .await?;
        let Some(grant) = session.client.as_ref() else {
            return Err(AuthError::Internal(
                "a client session without its grant".into(),
            ));
        };
        let (access_token, expires_in) =
            self.delegated_access_token(&user, &session, client, &record.scopes)?;
        let id_token = self.id_token(
            &user,
            grant,
            &record.scopes,
            record.nonce.as_deref(),
            Some(&access_token),
        )?;
        let refresh_expires_in = refresh_token
            .as_ref()
            .map(|_| (session.expires_at - now).whole_seconds());
        Ok(OidcTokens {
            access_token,
            expires_in,
            id_token: Some(id_token),
            scope: record.scopes.join(" "),
            refresh_token,
            refresh_expires_in,
        })
    }

    /// Refreshes a relying party's session (`grant_type=refresh_token` at
    /// `/oauth/token`, RFC 6749 §6, OIDC Core §12): the same rotation and
    /// reuse detection as [`AuthService::refresh`], then an access token
    /// for `scope` (the grant, or fewer of its scopes) and an ID token
    /// whose `auth_time` and `sid` are the original ones.
    ///
    /// A token of another client, of the user's own login, or a `scope`
    /// beyond the grant is refused before anything changes.
    ///
    /// # Errors
    /// [`AuthError::InvalidGrant`] for a token that is unknown, expired,
    /// revoked, reused or not `client`'s; [`AuthError::InvalidScope`];
    /// store and signing errors.
    pub async fn refresh_for_client(
        &self,
        client: &OidcClient,
        presented: &str,
        scope: Option<&str>,
        origin: &Origin,
    ) -> Result<OidcTokens, AuthError> {
        let mut scopes = Vec::new();
        let rotated = self
            .rotate(presented, origin, |session| {
                let Some(grant) = session.client.as_ref().filter(|g| g.client_id == client.id)
                else {
                    return Err(AuthError::InvalidGrant);
                };
                scopes = narrowed(&grant.scopes, scope)?;
                Ok(())
            })
            .await;
        super::super::refresh::count_refresh(&rotated);
        let rotated = rotated?;
        let (user, session) = (&rotated.user, &rotated.session);
        let Some(grant) = session.client.as_ref() else {
            return Err(AuthError::Internal(
                "a client session without its grant".into(),
            ));
        };
        let (access_token, expires_in) =
            self.delegated_access_token(user, session, client, &scopes)?;
        let id_token = if scopes.iter().any(|s| s == "openid") {
            Some(self.id_token(user, grant, &scopes, None, Some(&access_token))?)
        } else {
            None
        };
        Ok(OidcTokens {
            access_token,
            expires_in,
            id_token,
            scope: scopes.join(" "),
            refresh_token: Some(rotated.refresh_token),
            refresh_expires_in: Some((session.expires_at - rotated.now).whole_seconds()),
        })
    }

    /// The session of a code exchange, bound to the client with what was
    /// granted. With `offline_access` granted it lasts as long as a login's
    /// session and its first refresh token is returned; otherwise it lives
    /// as long as its access token and its refresh token is never shown.
    /// Revoking it ends every token the code gave.
    async fn start_client_session(
        &self,
        user: &User,
        record: &AuthorizationCode,
        id: Uuid,
        client: &OidcClient,
        origin: &Origin,
        now: time::OffsetDateTime,
    ) -> Result<(Session, Option<Zeroizing<String>>), AuthError> {
        let offline = record.scopes.iter().any(|s| s == OFFLINE_ACCESS)
            && client.scopes.iter().any(|s| s == OFFLINE_ACCESS);
        let lifetime = if offline {
            self.settings.refresh_ttl
        } else {
            self.settings.access_ttl
        };
        let session = Session {
            id,
            user_id: user.id,
            created_at: now,
            last_used_at: now,
            expires_at: now + lifetime,
            ip: origin.ip.map(|ip| ip.to_string()),
            user_agent: origin.user_agent.clone(),
            audience: self.settings.audience(None)?.to_owned(),
            revoked_at: None,
            client: Some(ClientGrant {
                client_id: client.id.clone(),
                scopes: record.scopes.clone(),
                browser_session_id: record.browser_session_id,
                auth_time: record.auth_time,
            }),
        };
        // A session row always has a refresh token; shown only for offline_access.
        let token = random_token()?;
        let first = RefreshToken {
            hash: TokenHash::of(&token),
            session_id: id,
            generation: 0,
            issued_at: now,
            used_at: None,
            successor: None,
            successor_sealed: None,
            expires_at: session.expires_at,
        };
        let mut e = event(AuditKind::new("oidc.code_exchanged"), now, origin);
        e.user_id = Some(user.id);
        e.session_id = Some(id);
        e.client_id = Some(client.id.clone());
        detail(&mut e, "scopes", record.scopes.clone());
        detail(&mut e, "refresh_token", offline);
        detail(
            &mut e,
            "browser_session_id",
            record.browser_session_id.to_string(),
        );
        if !self
            .deps
            .sessions
            .create_session_audited(&session, &first, self.in_transaction(&e))
            .await?
        {
            return Err(AuthError::InvalidGrant);
        }
        self.deps.audit.record_written(e);
        Ok((session, offline.then_some(token)))
    }

    /// A code came back: revoke what its first exchange issued, record it.
    async fn code_reused(
        &self,
        record: &AuthorizationCode,
        presenter: &OidcClient,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        let now = self.deps.clock.now();
        let mut e = event(AuditKind::new("oidc.code_reused"), now, origin);
        e.user_id = Some(record.user_id);
        e.client_id = Some(record.client_id.clone());
        e.session_id = record.issued_session_id;
        detail(&mut e, "presented_by", presenter.id.clone());
        if let Some(sid) = record.issued_session_id {
            if self
                .deps
                .sessions
                .revoke_session_audited(sid, now, self.in_transaction(&e))
                .await?
            {
                self.remember_revoked(sid);
                super::super::count_revocations("session", 1);
            }
            self.deps.audit.record_written(e);
        } else {
            self.deps.audit.record(e);
        }
        tracing::warn!(client_id = %record.client_id, "authorization code reused; its tokens revoked");
        Ok(())
    }

    /// An access token for a relying party acting for `user`: `client_id`
    /// and `scope` set, no roles (it gives no powers in authgate's own API,
    /// which refuses tokens with a `client_id` and a session).
    fn delegated_access_token(
        &self,
        user: &User,
        session: &Session,
        client: &OidcClient,
        scopes: &[String],
    ) -> Result<(String, i64), AuthError> {
        let now = self.deps.clock.unix();
        let ttl = self.settings.access_ttl.whole_seconds();
        let claims = AccessClaims {
            iss: self.settings.issuer.clone(),
            sub: user.id.to_string(),
            aud: Audience::new(session.audience.clone()),
            exp: now + ttl,
            iat: now,
            nbf: now,
            jti: Uuid::new_v4().to_string(),
            sid: Some(session.id),
            roles: Vec::new(),
            client_id: Some(client.id.clone()),
            scope: Some(scopes.join(" ")),
        };
        let ring = self.deps.keyring.ring();
        let token = authgate_jwt::sign(&ring.signing, Some("at+jwt"), &claims)
            .map_err(|e| AuthError::Internal(format!("signing failed: {e}")))?;
        Ok((token, ttl))
    }

    /// The ID token (OIDC Core §2), signed RS256 with the ID-token key:
    /// for `grant`'s client, with the claims `scopes` release. `nonce` is
    /// the authorization request's; a refresh's ID token has none (OIDC
    /// Core §12.2 keeps `auth_time`, `sid`, `aud` and `azp` instead).
    fn id_token(
        &self,
        user: &User,
        grant: &ClientGrant,
        scopes: &[String],
        nonce: Option<&str>,
        access_token: Option<&str>,
    ) -> Result<String, AuthError> {
        let now = self.deps.clock.unix();
        let mut profile = user_claims(user, scopes);
        profile.sub = None;
        let claims = IdTokenClaims {
            iss: self.settings.issuer.clone(),
            sub: user.id.to_string(),
            aud: grant.client_id.clone(),
            exp: now + self.settings.access_ttl.whole_seconds(),
            iat: now,
            auth_time: grant.auth_time.unix_timestamp(),
            nonce: nonce.map(str::to_owned),
            azp: grant.client_id.clone(),
            at_hash: access_token.map(at_hash),
            sid: grant.browser_session_id.to_string(),
            profile,
        };
        let ring = self.deps.keyring.ring();
        let Some(key) = ring.id_signing.as_ref() else {
            return Err(AuthError::Internal(
                "no ID-token key: is [oidc] enabled?".into(),
            ));
        };
        authgate_jwt::sign(key, Some("JWT"), &claims)
            .map_err(|e| AuthError::Internal(format!("signing failed: {e}")))
    }
}

/// The claims `scopes` release about `user` (OIDC Core §5.4): `profile`
/// gives name and preferred_username, `email` gives email and
/// email_verified (always `false`: authgate does not verify addresses yet).
pub(super) fn user_claims(user: &User, scopes: &[String]) -> UserInfo {
    let has = |s: &str| scopes.iter().any(|x| x == s);
    let mut info = UserInfo {
        sub: Some(user.id.to_string()),
        ..UserInfo::default()
    };
    if has("profile") {
        info.name = user.name.clone();
        info.preferred_username = user.username.clone();
    }
    if has("email") {
        info.email = Some(user.email.clone());
        info.email_verified = Some(false);
    }
    info
}

/// The scopes of a refresh's access token (RFC 6749 §6): the grant when
/// no `scope` is sent, else the sent ones, each of them granted.
///
/// # Errors
/// [`AuthError::InvalidScope`] for a malformed or ungranted scope.
fn narrowed(granted: &[String], scope: Option<&str>) -> Result<Vec<String>, AuthError> {
    let Some(scope) = scope else {
        return Ok(granted.to_vec());
    };
    let asked: Vec<&str> = scope.split(' ').collect();
    if asked
        .iter()
        .any(|s| s.is_empty() || !granted.iter().any(|g| g == s))
    {
        return Err(AuthError::InvalidScope);
    }
    // In the grant's order, each once.
    Ok(granted
        .iter()
        .filter(|g| asked.contains(&g.as_str()))
        .cloned()
        .collect())
}

/// `at_hash` (OIDC Core §3.1.3.6): the left half of the SHA-256 of the
/// access token, base64url.
fn at_hash(access_token: &str) -> String {
    let digest = digest::digest(&digest::SHA256, access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_refresh_scope_may_narrow_the_grant_but_never_widen_it() {
        let granted = strings(&["openid", "email", "offline_access"]);
        assert_eq!(narrowed(&granted, None).unwrap(), granted);
        assert_eq!(
            narrowed(&granted, Some("email openid")).unwrap(),
            strings(&["openid", "email"])
        );
        for bad in ["openid profile", "", "openid  email", "admin"] {
            assert!(
                matches!(narrowed(&granted, Some(bad)), Err(AuthError::InvalidScope)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn at_hash_is_the_left_half_of_the_sha256_base64url() {
        // OIDC Core appendix A.3's example.
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
