//! RFC 7662 answers: what `/oauth/introspect` says about a token, built
//! here so the handler only verifies, calls and returns.

use authgate_proto::{AccessClaims, IntrospectionResponse, IntrospectionTokenType};

use super::AuthService;

impl AuthService {
    /// The answer for an access token whose signature and claims the
    /// server's verifier accepted at `now` (Unix seconds): its facts when
    /// active, else only `{"active": false}`.
    ///
    /// Verification allows clock-skew leeway past `exp`; this server's
    /// clock is the one that decides, so an expired token is inactive
    /// (RFC 7662 §2.2) even within the leeway.
    pub async fn introspect_access_token(
        &self,
        claims: &AccessClaims,
        now: i64,
    ) -> IntrospectionResponse {
        if claims.exp <= now {
            return IntrospectionResponse::inactive();
        }
        let Some(extra) = self.introspect_access(claims).await else {
            return IntrospectionResponse::inactive();
        };
        IntrospectionResponse {
            active: true,
            sub: Some(claims.sub.clone()),
            username: extra.username,
            client_id: claims.client_id.clone(),
            roles: Some(extra.roles),
            scope: claims.scope.clone(),
            token_type: Some(IntrospectionTokenType::Bearer),
            exp: Some(claims.exp),
            iat: Some(claims.iat),
            nbf: Some(claims.nbf),
            iss: Some(claims.iss.clone()),
            aud: Some(claims.aud.clone()),
            jti: Some(claims.jti.clone()),
            sid: claims.sid,
        }
    }

    /// The answer for an opaque (refresh) token: its facts when active,
    /// else only `{"active": false}`, whatever the reason, even a store
    /// error (logged).
    pub async fn introspect_refresh_token(&self, token: &str) -> IntrospectionResponse {
        match self.introspect_refresh(token).await {
            Ok(Some(r)) => IntrospectionResponse {
                active: true,
                sub: Some(r.user_id.to_string()),
                token_type: Some(IntrospectionTokenType::RefreshToken),
                exp: Some(r.expires_at),
                iat: Some(r.issued_at),
                sid: Some(r.session_id),
                ..IntrospectionResponse::inactive()
            },
            Ok(None) => IntrospectionResponse::inactive(),
            Err(e) => {
                tracing::warn!(error = %e, "introspection of a refresh token failed");
                IntrospectionResponse::inactive()
            }
        }
    }
}
