//! [`Principal`]: who a verified access token speaks for.

use std::sync::Arc;

use authgate_proto::AccessClaims;
use uuid::Uuid;

/// The verified claims of an access token, shared (an `Arc`, cheap to clone).
///
/// Only this crate builds one, and only from a token that verified, so a
/// function taking a `Principal` cannot be handed unverified claims.
/// Revocation is *not* implied: the caller checks [`Principal::session_id`]
/// and [`Principal::token_id`] against its revocation store on every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Shared with the token cache, so a cache hit copies a pointer, not the claims.
    claims: Arc<AccessClaims>,
}

impl Principal {
    pub(crate) fn new(claims: AccessClaims) -> Self {
        Self {
            claims: Arc::new(claims),
        }
    }

    /// All the claims, for what the helpers below do not cover (`aud`, `scope`, …).
    pub fn claims(&self) -> &AccessClaims {
        &self.claims
    }

    /// The claims as the shared `Arc`, for callers that keep them.
    pub fn into_claims(self) -> Arc<AccessClaims> {
        self.claims
    }

    /// The `sub` claim: the user id, or the client id for a client token.
    pub fn subject(&self) -> &str {
        &self.claims.sub
    }

    /// The `sid` claim: the session the token belongs to; `None` for client tokens.
    pub fn session_id(&self) -> Option<Uuid> {
        self.claims.sid
    }

    /// The `jti` claim, by which this one token can be revoked.
    pub fn token_id(&self) -> &str {
        &self.claims.jti
    }

    /// The roles the subject had when the token was issued.
    pub fn roles(&self) -> &[String] {
        &self.claims.roles
    }

    /// Whether `role` is literally among [`Principal::roles`]; mapping roles
    /// to permissions (and `admin` to all of them) is the caller's policy.
    pub fn has_role(&self, role: &str) -> bool {
        self.claims.roles.iter().any(|r| r == role)
    }

    /// The `client_id` claim: the service client, for client tokens only.
    pub fn client_id(&self) -> Option<&str> {
        self.claims.client_id.as_deref()
    }

    /// The `exp` claim, Unix seconds: until when revocation records for this
    /// token need to be kept.
    pub fn expires_at(&self) -> i64 {
        self.claims.exp
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use authgate_proto::Audience;

    fn claims() -> AccessClaims {
        AccessClaims {
            iss: "https://auth.example".into(),
            sub: "alice".into(),
            aud: Audience::new("api"),
            exp: 20,
            iat: 10,
            nbf: 10,
            jti: "t1".into(),
            sid: Some(Uuid::from_u128(7)),
            roles: vec!["user".into(), "support".into()],
            client_id: None,
            scope: None,
        }
    }

    #[test]
    fn the_helpers_read_the_claims() {
        let p = Principal::new(claims());
        assert_eq!(p.subject(), "alice");
        assert_eq!(p.token_id(), "t1");
        assert_eq!(p.session_id(), Some(Uuid::from_u128(7)));
        assert_eq!(p.client_id(), None);
        assert_eq!(p.expires_at(), 20);
        assert_eq!(p.roles(), ["user", "support"]);
    }

    #[test]
    fn has_role_matches_whole_role_names_only() {
        let p = Principal::new(claims());
        assert!(p.has_role("support"));
        assert!(!p.has_role("admin"));
        assert!(!p.has_role("supp"));
    }

    #[test]
    fn clones_share_the_claims() {
        let p = Principal::new(claims());
        let q = p.clone();
        assert!(Arc::ptr_eq(&p.into_claims(), &q.into_claims()));
    }
}
