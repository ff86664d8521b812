//! The authorization endpoint's decisions: log in first, ask for consent,
//! or issue a code (docs/architecture.md "OpenID Connect").

use authgate_proto::AuditKind;
use zeroize::Zeroizing;

use super::request::{
    Authorization, AuthorizeParams, Refusal, Untrusted, checked, trusted_redirect,
};
use crate::audit::{Origin, detail, event};
use crate::error::AuthError;
use crate::oidc::code::{AuthorizationCode, CODE_TTL};
use crate::secrets::{TokenHash, random_token};
use crate::service::{AuthService, BrowserSession};

/// The first answer to an authorization request.
#[derive(Debug)]
pub enum Checked {
    /// The client or redirect URI is not trusted: an error page, no redirect.
    Untrusted(Untrusted),
    /// Trusted but refused: back to the client with the error.
    Refused {
        /// Where the browser goes (the refusal in its query).
        location: String,
    },
    /// A valid request.
    Valid(Box<Authorization>),
}

/// What to do with a valid request for this browser.
#[derive(Debug)]
pub enum Step {
    /// The user must log in (again); then the request is repeated.
    Login,
    /// Ask the user to allow `scopes` for the client.
    Consent,
    /// Back to the client: a code, or a refusal.
    Redirect {
        /// The redirect URI with the code or the error, `state` and `iss`.
        location: String,
    },
}

impl AuthService {
    /// Whether this server is an OpenID Connect provider (`[oidc] enabled`:
    /// the keyring holds an ID-token key).
    pub fn oidc_enabled(&self) -> bool {
        self.deps.keyring.ring().id_signing.is_some()
    }

    /// Checks an authorization request: first the client and redirect URI,
    /// then the rest.
    ///
    /// # Errors
    /// Store errors.
    pub async fn check_authorization(
        &self,
        params: &AuthorizeParams,
    ) -> Result<Checked, AuthError> {
        if !self.oidc_enabled() {
            return Ok(Checked::Untrusted(Untrusted(
                "This server does not offer sign-in to other applications.",
            )));
        }
        let client = match params.client_id.as_deref() {
            Some(id) if !id.is_empty() && id.len() <= 128 && crate::text::is_opaque_id(id) => {
                self.deps.oidc.oidc_client(id).await?
            }
            _ => None,
        };
        let (client, redirect_uri) = match trusted_redirect(client, params) {
            Ok(trusted) => trusted,
            Err(untrusted) => return Ok(Checked::Untrusted(untrusted)),
        };
        Ok(match checked(client, redirect_uri.clone(), params) {
            Ok(valid) => Checked::Valid(Box::new(valid)),
            Err((refusal, state)) => Checked::Refused {
                location: self.refusal_location(&redirect_uri, &refusal, state.as_deref()),
            },
        })
    }

    /// The next step of a valid request for `browser` (the visitor's
    /// session, if logged in). `consented` is true when the user has just
    /// allowed the request on the consent page (it is then remembered).
    ///
    /// # Errors
    /// Store errors; signing none.
    pub async fn authorization_step(
        &self,
        request: &Authorization,
        browser: Option<&BrowserSession>,
        consented: bool,
        origin: &Origin,
    ) -> Result<Step, AuthError> {
        let now = self.deps.clock.now();
        let refuse = |error: &'static str, description: &str| Step::Redirect {
            location: self.refusal_location(
                &request.redirect_uri,
                &Refusal::new(error, description),
                request.state.as_deref(),
            ),
        };
        let Some(browser) = browser else {
            return Ok(if request.prompt.none {
                refuse("login_required", "the user is not logged in")
            } else {
                Step::Login
            });
        };
        if request.prompt.login || request.too_old(browser.session.created_at, now) {
            return Ok(if request.prompt.none {
                refuse(
                    "login_required",
                    "the user logged in longer ago than max_age",
                )
            } else {
                Step::Login
            });
        }
        let user_id = browser.user.id;
        if consented {
            self.remember_consent(request, browser, origin).await?;
        } else if !request.client.first_party {
            let covered = self
                .deps
                .oidc
                .consent(user_id, &request.client.id)
                .await?
                .is_some_and(|given| request.scopes.iter().all(|s| given.contains(s)));
            if request.prompt.consent || !covered {
                return Ok(if request.prompt.none {
                    refuse("consent_required", "the user has not allowed this client")
                } else {
                    Step::Consent
                });
            }
        }
        let code = self.issue_code(request, browser, origin).await?;
        Ok(Step::Redirect {
            location: self.redirect_location(
                &request.redirect_uri,
                &[("code", code.as_str())],
                request.state.as_deref(),
            ),
        })
    }

    /// The refusal a user's "Deny" on the consent page sends back.
    pub fn access_denied(&self, request: &Authorization) -> String {
        self.refusal_location(
            &request.redirect_uri,
            &Refusal::new("access_denied", "the user did not allow the request"),
            request.state.as_deref(),
        )
    }

    /// Stores the user's consent to the request's scopes, recorded
    /// (`oidc.consent_granted`) in the same transaction.
    async fn remember_consent(
        &self,
        request: &Authorization,
        browser: &BrowserSession,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        let now = self.deps.clock.now();
        let mut e = event(AuditKind::new("oidc.consent_granted"), now, origin);
        e.user_id = Some(browser.user.id);
        e.session_id = Some(browser.session.id);
        e.client_id = Some(request.client.id.clone());
        detail(&mut e, "scopes", request.scopes.clone());
        self.deps
            .oidc
            .save_consent(
                browser.user.id,
                &request.client.id,
                &request.scopes,
                now,
                self.in_transaction(&e),
            )
            .await?;
        self.deps.audit.record_written(e);
        Ok(())
    }

    /// A new single-use code for the request (`oidc.authorized`).
    async fn issue_code(
        &self,
        request: &Authorization,
        browser: &BrowserSession,
        origin: &Origin,
    ) -> Result<Zeroizing<String>, AuthError> {
        let now = self.deps.clock.now();
        let code = random_token()?;
        let record = AuthorizationCode {
            hash: TokenHash::of(&code),
            client_id: request.client.id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            user_id: browser.user.id,
            browser_session_id: browser.session.id,
            scopes: request.scopes.clone(),
            code_challenge: request.code_challenge.clone(),
            nonce: request.nonce.clone(),
            auth_time: browser.session.created_at,
            created_at: now,
            expires_at: now + CODE_TTL,
            used_at: None,
            issued_session_id: None,
        };
        self.deps.oidc.insert_code(&record).await?;
        let mut e = event(AuditKind::new("oidc.authorized"), now, origin);
        e.user_id = Some(browser.user.id);
        e.session_id = Some(browser.session.id);
        e.client_id = Some(request.client.id.clone());
        detail(&mut e, "scopes", request.scopes.clone());
        self.deps.audit.record(e);
        Ok(code)
    }

    /// `redirect_uri` with an RFC 6749 §4.1.2.1 error, `state` and `iss`.
    fn refusal_location(
        &self,
        redirect_uri: &str,
        refusal: &Refusal,
        state: Option<&str>,
    ) -> String {
        self.redirect_location(
            redirect_uri,
            &[
                ("error", refusal.error),
                ("error_description", refusal.description.as_str()),
            ],
            state,
        )
    }

    /// `redirect_uri` with `pairs`, then `state` (if any) and `iss`
    /// (RFC 9207) added to its query, keeping the query it has.
    fn redirect_location(
        &self,
        redirect_uri: &str,
        pairs: &[(&str, &str)],
        state: Option<&str>,
    ) -> String {
        let mut uri = match url::Url::parse(redirect_uri) {
            Ok(uri) => uri,
            // Registered URIs always parse (they were checked when registered).
            Err(_) => return redirect_uri.to_owned(),
        };
        {
            let mut query = uri.query_pairs_mut();
            for (name, value) in pairs {
                query.append_pair(name, value);
            }
            if let Some(state) = state {
                query.append_pair("state", state);
            }
            query.append_pair("iss", &self.settings.issuer);
        }
        uri.into()
    }
}
