//! OpenID Connect clients (relying parties): the applications that send
//! their users to authgate to sign in, registered by an administrator.
//!
//! They are a kind of their own, not service clients: a service client acts
//! as itself with roles of its own (its tokens make it a `Caller`), while a
//! relying party acts for a user, holds no roles, may have no secret at all
//! (a public client) and is bound to redirect URIs.

use std::fmt;

use time::OffsetDateTime;

use crate::error::AuthError;
use crate::secrets::TokenHash;

/// The scopes authgate grants relying parties, in the order they are shown.
/// `offline_access` (OIDC Core §11) asks for a refresh token; a client
/// gets one only when an administrator allowed it the scope and the user
/// granted it.
pub const SUPPORTED_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// The scope that asks for a refresh token (OIDC Core §11).
pub const OFFLINE_ACCESS: &str = "offline_access";

/// A registered relying party.
#[derive(Clone, PartialEq, Eq)]
pub struct OidcClient {
    /// The public identifier (`client_id`, the `aud` of its ID tokens).
    pub id: String,
    /// A human name, shown on the consent page and in audit records.
    pub name: String,
    /// SHA-256 of the secret of a confidential client; `None` for a public
    /// client (a single-page or native app, which cannot keep one).
    pub secret_hash: Option<TokenHash>,
    /// The exact redirect URIs (docs/security.md); at least one.
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser afterwards.
    pub post_logout_redirect_uris: Vec<String>,
    /// The scopes the client may ask for; always holds `openid`.
    pub scopes: Vec<String>,
    /// A first-party client is the operator's own application: its users
    /// are not asked for consent.
    pub first_party: bool,
    /// When it was registered.
    pub created_at: OffsetDateTime,
}

impl OidcClient {
    /// Whether the client authenticates with a secret.
    pub fn is_confidential(&self) -> bool {
        self.secret_hash.is_some()
    }
}

impl fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcClient")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("confidential", &self.is_confidential())
            .field("redirect_uris", &self.redirect_uris)
            .field("scopes", &self.scopes)
            .field("first_party", &self.first_party)
            .finish_non_exhaustive()
    }
}

/// The scopes an administrator allows a client, checked: each supported,
/// no repeats, `openid` present (added when missing: every client of an
/// OpenID provider asks for it). Returned in [`SUPPORTED_SCOPES`] order.
///
/// # Errors
/// [`AuthError::InvalidInput`] naming `scopes` for an unsupported one.
pub fn allowed_scopes(scopes: &[String]) -> Result<Vec<String>, AuthError> {
    if let Some(unknown) = scopes
        .iter()
        .find(|s| !SUPPORTED_SCOPES.contains(&s.as_str()))
    {
        return Err(AuthError::invalid(
            "scopes",
            format!(
                "unsupported scope {}; supported: {}",
                crate::text::escaped(unknown),
                SUPPORTED_SCOPES.join(" ")
            ),
        ));
    }
    Ok(SUPPORTED_SCOPES
        .iter()
        .filter(|s| **s == "openid" || scopes.iter().any(|x| x == *s))
        .map(|s| (*s).to_owned())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn allowed_scopes_always_hold_openid_in_a_fixed_order() {
        assert_eq!(allowed_scopes(&[]).unwrap(), strings(&["openid"]));
        assert_eq!(
            allowed_scopes(&strings(&["email", "profile", "email"])).unwrap(),
            strings(&["openid", "profile", "email"])
        );
    }

    #[test]
    fn an_unsupported_scope_is_refused_by_name() {
        let err = allowed_scopes(&strings(&["openid", "admin"])).unwrap_err();
        assert!(err.to_string().contains("admin"), "{err}");
    }
}
