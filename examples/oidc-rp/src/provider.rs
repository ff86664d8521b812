//! The OpenID provider as this relying party sees it: its discovery
//! document, the code exchange at its token endpoint, and the ID token's
//! verification against its JWKS.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail, ensure};
use authgate_jwt::{JwkSet, KeySet, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::pkce;

/// This application's registration at the provider.
#[derive(Clone)]
pub struct RelyingParty {
    /// The `client_id` `authgate oidc-client add` printed.
    pub client_id: String,
    /// The secret of a confidential client (sent with HTTP Basic); `None`
    /// for a public one, which proves itself with PKCE alone.
    pub client_secret: Option<String>,
    /// Where authgate sends the browser back with the code: this app's
    /// `/callback`, registered exactly.
    pub redirect_uri: String,
    /// Where authgate sends the browser after a sign-out: this app's `/`.
    pub post_logout_redirect_uri: String,
}

/// The provider's endpoints, from `/.well-known/openid-configuration`.
#[derive(Debug, Clone)]
pub struct Provider {
    /// The issuer, as the ID token's `iss` and the response's `iss` must say.
    pub issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    end_session_endpoint: String,
    jwks_uri: String,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    end_session_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    code_challenge_methods_supported: Vec<String>,
}

/// A successful code exchange (RFC 6749 §5.1 with OIDC's `id_token`).
#[derive(Deserialize)]
pub struct TokenResponse {
    /// The access token (for userinfo and resource servers).
    pub access_token: String,
    /// The ID token: who signed in, for this client.
    pub id_token: String,
}

// Secrets and tokens are never printed, not even by `{:?}`.
impl fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelyingParty")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("redirect_uri", &self.redirect_uri)
            .field("post_logout_redirect_uri", &self.post_logout_redirect_uri)
            .finish()
    }
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse").finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
}

impl Provider {
    /// Reads the discovery document of `issuer`, which must name itself.
    ///
    /// # Errors
    /// The provider cannot be reached, is not an OpenID provider, names
    /// another issuer, or does not offer PKCE with `S256`.
    pub async fn discover(issuer: &str) -> Result<Self> {
        let issuer = issuer.trim_end_matches('/');
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let url = format!("{issuer}/.well-known/openid-configuration");
        let found: Discovery = http
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("reading {url}"))?
            .json()
            .await
            .with_context(|| {
                format!("{url} is not an OpenID Connect discovery document (is [oidc] enabled?)")
            })?;
        ensure!(
            found.issuer == issuer,
            "{url} names the issuer {}, not {issuer}",
            found.issuer
        );
        ensure!(
            found
                .code_challenge_methods_supported
                .iter()
                .any(|m| m == "S256"),
            "{issuer} does not offer PKCE with S256"
        );
        Ok(Self {
            issuer: found.issuer,
            authorization_endpoint: found.authorization_endpoint,
            token_endpoint: found.token_endpoint,
            end_session_endpoint: found.end_session_endpoint,
            jwks_uri: found.jwks_uri,
            http,
        })
    }

    /// The authorization request (OIDC Core §3.1.2.1) for a sign-in.
    pub fn authorization_url(
        &self,
        rp: &RelyingParty,
        state: &str,
        nonce: &str,
        verifier: &str,
    ) -> String {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &rp.client_id)
            .append_pair("redirect_uri", &rp.redirect_uri)
            .append_pair("scope", "openid profile email")
            .append_pair("state", state)
            .append_pair("nonce", nonce)
            .append_pair("code_challenge", &pkce::s256_challenge(verifier))
            .append_pair("code_challenge_method", "S256")
            .finish();
        format!("{}?{query}", self.authorization_endpoint)
    }

    /// The RP-initiated logout request (RP-Initiated Logout 1.0 §2).
    pub fn logout_url(&self, rp: &RelyingParty, id_token: &str) -> String {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("id_token_hint", id_token)
            .append_pair("post_logout_redirect_uri", &rp.post_logout_redirect_uri)
            .finish();
        format!("{}?{query}", self.end_session_endpoint)
    }

    /// Exchanges `code` with the PKCE `verifier`.
    ///
    /// # Errors
    /// The provider refused the code (its OAuth `error` is in the message)
    /// or could not be reached.
    pub async fn exchange(
        &self,
        rp: &RelyingParty,
        code: &str,
        verifier: &str,
    ) -> Result<TokenResponse> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", rp.redirect_uri.as_str()),
            ("code_verifier", verifier),
        ];
        let mut request = self.http.post(&self.token_endpoint);
        match &rp.client_secret {
            Some(secret) => request = request.basic_auth(&rp.client_id, Some(secret)),
            None => form.push(("client_id", rp.client_id.as_str())),
        }
        let response = request
            .form(&form)
            .send()
            .await
            .context("calling the token endpoint")?;
        if !response.status().is_success() {
            let status = response.status();
            let error = response
                .json::<ErrorResponse>()
                .await
                .map_or_else(|_| status.to_string(), |e| e.error);
            bail!("the token endpoint refused the code: {error}");
        }
        response.json().await.context("reading the token response")
    }

    /// Verifies the ID token of `tokens` (OIDC Core §3.1.3.7): signature by
    /// a key of the provider's JWKS, `iss`, `aud`, `exp`, then `nonce`,
    /// `azp` and `at_hash`; its claims.
    ///
    /// # Errors
    /// The JWKS cannot be read, or a check failed (named in the message).
    pub async fn verify_id_token(
        &self,
        rp: &RelyingParty,
        tokens: &TokenResponse,
        nonce: &str,
    ) -> Result<Map<String, Value>> {
        let jwks: JwkSet = self
            .http
            .get(&self.jwks_uri)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .context("reading the JWKS")?
            .json()
            .await
            .context("reading the JWKS")?;
        let keys =
            KeySet::from_jwks(&jwks).context("the JWKS holds a key authgate-jwt cannot use")?;
        let validation = Validation::new()
            .issuer(&self.issuer)
            .audience(&rp.client_id);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let claims: Map<String, Value> =
            authgate_jwt::verify(&tokens.id_token, &keys, &validation, i64::try_from(now)?)
                .context("the ID token does not verify")?;
        let text = |name: &str| claims.get(name).and_then(Value::as_str);
        ensure!(
            text("nonce") == Some(nonce),
            "the ID token's nonce is not this sign-in's"
        );
        ensure!(
            text("azp").is_none_or(|azp| azp == rp.client_id),
            "the ID token was issued to another client"
        );
        ensure!(
            text("at_hash").is_none_or(|hash| hash == pkce::at_hash(&tokens.access_token)),
            "the ID token's at_hash does not match the access token"
        );
        Ok(claims)
    }
}
