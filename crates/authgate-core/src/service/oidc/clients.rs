//! Registering, listing and deleting relying parties (administrators and
//! the command line; permission checks happen before these are called).

use authgate_proto::AuditKind;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::audit::{Origin, detail, event};
use crate::error::AuthError;
use crate::oidc::client::{OidcClient, allowed_scopes};
use crate::oidc::redirect::registrable;
use crate::secrets::{TokenHash, random_token};
use crate::service::{AuthService, Caller};

/// Longest relying-party name.
const MAX_NAME: usize = 100;
/// Most redirect (or post-logout redirect) URIs one client may register.
const MAX_URIS: usize = 20;

/// What an administrator registers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OidcClientSpec {
    /// Shown on the consent page.
    pub name: String,
    /// A public client (no secret: a single-page or native app).
    pub public: bool,
    /// Exact redirect URIs; at least one.
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may redirect to.
    pub post_logout_redirect_uris: Vec<String>,
    /// Scopes the client may ask for (`openid` is always among them).
    pub scopes: Vec<String>,
    /// No consent page for this client's users.
    pub first_party: bool,
}

/// A newly registered relying party, with its secret shown once.
pub struct NewOidcClient {
    /// The stored client (a secret only as a hash).
    pub client: OidcClient,
    /// The secret of a confidential client: 256 random bits, base64url.
    /// Never stored, never logged. `None` for a public client.
    pub secret: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for NewOidcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewOidcClient")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl AuthService {
    /// Registers a relying party, with a new secret unless it is public.
    /// `actor` is `None` for the command line run by the operator.
    ///
    /// # Errors
    /// [`AuthError::InvalidInput`] naming `name`, `redirect_uris`,
    /// `post_logout_redirect_uris` or `scopes`; store errors.
    pub async fn create_oidc_client(
        &self,
        actor: Option<&Caller>,
        spec: OidcClientSpec,
        origin: &Origin,
    ) -> Result<NewOidcClient, AuthError> {
        let name = crate::text::display_name("name", &spec.name)?;
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(AuthError::invalid(
                "name",
                format!("must be 1 to {MAX_NAME} characters"),
            ));
        }
        if spec.redirect_uris.is_empty() {
            return Err(AuthError::invalid(
                "redirect_uris",
                "at least one is needed",
            ));
        }
        let redirect_uris = uris("redirect_uris", &spec.redirect_uris)?;
        let post_logout = uris("post_logout_redirect_uris", &spec.post_logout_redirect_uris)?;
        let scopes = allowed_scopes(&spec.scopes)?;
        let secret = if spec.public {
            None
        } else {
            Some(random_token()?)
        };
        let now = self.deps.clock.now();
        let client = OidcClient {
            id: format!("oidc_{}", Uuid::new_v4().simple()),
            name,
            secret_hash: secret.as_deref().map(|s| TokenHash::of(s)),
            redirect_uris,
            post_logout_redirect_uris: post_logout,
            scopes,
            first_party: spec.first_party,
            created_at: now,
        };
        let mut e = event(AuditKind::new("oidc_client.created"), now, origin);
        e.client_id = Some(client.id.clone());
        e.actor_id = actor.map(Caller::actor_id);
        detail(&mut e, "name", client.name.clone());
        detail(&mut e, "public", spec.public);
        detail(&mut e, "first_party", client.first_party);
        detail(&mut e, "scopes", client.scopes.clone());
        detail(&mut e, "redirect_uris", client.redirect_uris.clone());
        self.deps
            .oidc
            .insert_oidc_client_audited(&client, self.in_transaction(&e))
            .await?;
        self.deps.audit.record_written(e);
        Ok(NewOidcClient { client, secret })
    }

    /// Whether `id` names a registered relying party (not a service
    /// client): the token endpoint's `refresh_token` grant authenticates it
    /// as one then. Always false while the provider is off.
    ///
    /// # Errors
    /// Store errors.
    pub async fn is_oidc_client(&self, id: &str) -> Result<bool, AuthError> {
        if !self.oidc_enabled() || id.is_empty() || id.len() > 128 || !crate::text::is_opaque_id(id)
        {
            return Ok(false);
        }
        Ok(self.deps.oidc.oidc_client(id).await?.is_some())
    }

    /// Every registered relying party, oldest first.
    ///
    /// # Errors
    /// Store errors.
    pub async fn oidc_clients(&self) -> Result<Vec<OidcClient>, AuthError> {
        Ok(self.deps.oidc.oidc_clients().await?)
    }

    /// The relying party with `id`.
    ///
    /// # Errors
    /// [`AuthError::NotFound`]; store errors.
    pub async fn oidc_client(&self, id: &str) -> Result<OidcClient, AuthError> {
        if id.is_empty() || id.len() > 128 || !crate::text::is_opaque_id(id) {
            return Err(AuthError::NotFound);
        }
        self.deps
            .oidc
            .oidc_client(id)
            .await?
            .ok_or(AuthError::NotFound)
    }

    /// Deletes a relying party: it can start no new sign-in and exchange no
    /// code. Tokens already issued to it live out their lifetime (revoke
    /// the users' sessions to end them sooner).
    ///
    /// # Errors
    /// [`AuthError::NotFound`]; store errors.
    pub async fn delete_oidc_client(
        &self,
        actor: Option<&Caller>,
        id: &str,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        let client = self.oidc_client(id).await?;
        let mut e = event(
            AuditKind::new("oidc_client.deleted"),
            self.deps.clock.now(),
            origin,
        );
        e.client_id = Some(client.id.clone());
        e.actor_id = actor.map(Caller::actor_id);
        detail(&mut e, "name", client.name.clone());
        if !self
            .deps
            .oidc
            .delete_oidc_client_audited(&client.id, self.in_transaction(&e))
            .await?
        {
            return Err(AuthError::NotFound);
        }
        self.deps.audit.record_written(e);
        Ok(())
    }
}

/// Each URI checked with [`registrable`], without repeats, at most [`MAX_URIS`].
fn uris(field: &'static str, given: &[String]) -> Result<Vec<String>, AuthError> {
    if given.len() > MAX_URIS {
        return Err(AuthError::invalid(field, format!("at most {MAX_URIS}")));
    }
    let mut out: Vec<String> = Vec::with_capacity(given.len());
    for uri in given {
        let uri = registrable(field, uri)?;
        if !out.contains(&uri) {
            out.push(uri);
        }
    }
    Ok(out)
}
