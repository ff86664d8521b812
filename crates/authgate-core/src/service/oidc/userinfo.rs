//! Tokens issued to relying parties, when presented back: `GET
//! /oauth/userinfo` and their introspection.

use std::str::FromStr;
use std::sync::Arc;

use authgate_proto::{AccessClaims, UserInfo};
use uuid::Uuid;

use super::exchange::user_claims;
use crate::error::AuthError;
use crate::model::User;
use crate::service::AuthService;

impl AuthService {
    /// The user behind a relying party's access token (one with a
    /// `client_id` and a session), if it is still good: not revoked, its
    /// session live, its user enabled. `None` otherwise, and for any other
    /// kind of token.
    ///
    /// # Errors
    /// Store errors (nothing is answered on the token's word alone).
    pub async fn delegated_user(
        &self,
        claims: &AccessClaims,
    ) -> Result<Option<Arc<User>>, AuthError> {
        let (Some(sid), Some(_)) = (claims.sid, claims.client_id.as_ref()) else {
            return Ok(None);
        };
        let Ok(user_id) = Uuid::from_str(&claims.sub) else {
            return Ok(None);
        };
        if self.deps.revocations.is_session_revoked(&sid)
            || self.deps.revocations.is_token_revoked(&claims.jti)
        {
            return Ok(None);
        }
        let now = self.deps.clock.now();
        match self.session_record(sid).await? {
            Some(session) if session.is_live(now) && session.user_id == user_id => {}
            _ => return Ok(None),
        }
        Ok(self.user_record(user_id).await?.filter(|u| u.is_active))
    }

    /// The userinfo answer (OIDC Core §5.3) for a relying party's access
    /// token holding the `openid` scope; `None` when the token is not one,
    /// or no longer good.
    ///
    /// # Errors
    /// Store errors.
    pub async fn userinfo(&self, claims: &AccessClaims) -> Result<Option<UserInfo>, AuthError> {
        let scopes: Vec<String> = claims
            .scope
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .map(str::to_owned)
            .collect();
        if !scopes.iter().any(|s| s == "openid") {
            return Ok(None);
        }
        Ok(self
            .delegated_user(claims)
            .await?
            .map(|user| user_claims(&user, &scopes)))
    }
}
