//! The authorization request (`GET /oauth/authorize`, RFC 6749 §4.1.1,
//! OIDC Core §3.1.2.1) checked in two stages: first the client and its
//! redirect URI, whose failures are shown to the user and never redirected
//! (an unchecked redirect URI is an open redirect); then everything else,
//! whose failures go back to the client (RFC 6749 §4.1.2.1).

use time::OffsetDateTime;

use crate::oidc::client::{OidcClient, SUPPORTED_SCOPES};
use crate::oidc::code::is_s256_challenge;
use crate::oidc::redirect::matches_any;

/// Longest `state` carried back to the client.
const MAX_STATE: usize = 1024;
/// Longest `nonce` put in an ID token.
const MAX_NONCE: usize = 512;
/// Longest `login_hint` passed to the login page.
const MAX_LOGIN_HINT: usize = 254;

/// The parameters of an authorization request, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizeParams {
    /// `client_id`.
    pub client_id: Option<String>,
    /// `redirect_uri`: required, and exactly a registered one.
    pub redirect_uri: Option<String>,
    /// `response_type`: only `code`.
    pub response_type: Option<String>,
    /// `response_mode`: only `query` (the default).
    pub response_mode: Option<String>,
    /// `scope`, space-separated; must hold `openid`.
    pub scope: Option<String>,
    /// `state`, returned as sent.
    pub state: Option<String>,
    /// `nonce`, echoed in the ID token.
    pub nonce: Option<String>,
    /// `code_challenge` (PKCE).
    pub code_challenge: Option<String>,
    /// `code_challenge_method`: only `S256`.
    pub code_challenge_method: Option<String>,
    /// `prompt`: `none`, `login`, `consent` (space-separated).
    pub prompt: Option<String>,
    /// `max_age` in seconds.
    pub max_age: Option<String>,
    /// `login_hint`: prefills the login form.
    pub login_hint: Option<String>,
    /// `request` (a request object): not supported.
    pub request: Option<String>,
    /// `request_uri`: not supported.
    pub request_uri: Option<String>,
}

/// What `prompt` asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    /// `none`: show nothing; fail if the user would have to act.
    pub none: bool,
    /// `login`: authenticate again.
    pub login: bool,
    /// `consent`: ask for consent again.
    pub consent: bool,
}

/// A request whose client and redirect URI are trusted, every parameter checked.
#[derive(Debug, Clone)]
pub struct Authorization {
    /// The client.
    pub client: OidcClient,
    /// The redirect URI (one the client registered).
    pub redirect_uri: String,
    /// `state`, to return.
    pub state: Option<String>,
    /// The requested scopes, in [`SUPPORTED_SCOPES`] order.
    pub scopes: Vec<String>,
    /// `nonce`.
    pub nonce: Option<String>,
    /// The PKCE S256 challenge.
    pub code_challenge: String,
    /// `prompt`.
    pub prompt: Prompt,
    /// `max_age` in seconds.
    pub max_age: Option<i64>,
    /// `login_hint`.
    pub login_hint: Option<String>,
}

impl Authorization {
    /// Whether the user must log in (again) before going on: the session
    /// began more than `max_age` seconds ago.
    pub fn too_old(&self, auth_time: OffsetDateTime, now: OffsetDateTime) -> bool {
        self.max_age
            .is_some_and(|max| (now - auth_time).whole_seconds() > max)
    }
}

/// A refusal sent back to the client's redirect URI (RFC 6749 §4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The error code (`invalid_request`, `login_required`, …).
    pub error: &'static str,
    /// A description for the client's developers.
    pub description: String,
}

impl Refusal {
    /// A refusal with `error` and `description`.
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            description: description.into(),
        }
    }
}

/// Why a request cannot even be answered at the client: shown on an error
/// page (never redirected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untrusted(pub &'static str);

/// Stage one: the client and the redirect URI.
///
/// # Errors
/// [`Untrusted`] with what the page says.
pub(super) fn trusted_redirect(
    client: Option<OidcClient>,
    params: &AuthorizeParams,
) -> Result<(OidcClient, String), Untrusted> {
    let Some(client) = client else {
        return Err(Untrusted(
            "The application that sent you here is not registered with this server.",
        ));
    };
    let Some(redirect_uri) = params.redirect_uri.as_deref() else {
        return Err(Untrusted(
            "The application did not say where to send you back (redirect_uri is missing).",
        ));
    };
    if !matches_any(&client.redirect_uris, redirect_uri) {
        return Err(Untrusted(
            "The application asked to send you back to an address it has not registered.",
        ));
    }
    Ok((client, redirect_uri.to_owned()))
}

/// Stage two: every other parameter. `state` is returned with a refusal
/// when it is fit to be sent back.
///
/// # Errors
/// A [`Refusal`] for the redirect URI, with the state to return.
pub(super) fn checked(
    client: OidcClient,
    redirect_uri: String,
    params: &AuthorizeParams,
) -> Result<Authorization, (Refusal, Option<String>)> {
    let state = params
        .state
        .clone()
        .filter(|s| !s.is_empty() && s.len() <= MAX_STATE);
    let refuse = |r: Refusal| (r, state.clone());
    if params.state.as_ref().is_some_and(|s| s.len() > MAX_STATE) {
        return Err(refuse(Refusal::new(
            "invalid_request",
            format!("state: at most {MAX_STATE} characters"),
        )));
    }
    if params.request.is_some() {
        return Err(refuse(Refusal::new(
            "request_not_supported",
            "request objects are not supported",
        )));
    }
    if params.request_uri.is_some() {
        return Err(refuse(Refusal::new(
            "request_uri_not_supported",
            "request_uri is not supported",
        )));
    }
    if params
        .response_mode
        .as_deref()
        .is_some_and(|m| m != "query")
    {
        return Err(refuse(Refusal::new(
            "invalid_request",
            "response_mode: only query is supported",
        )));
    }
    match params.response_type.as_deref() {
        Some("code") => {}
        None => {
            return Err(refuse(Refusal::new(
                "invalid_request",
                "response_type is required",
            )));
        }
        Some(_) => {
            return Err(refuse(Refusal::new(
                "unsupported_response_type",
                "only response_type=code (the authorization code flow) is supported",
            )));
        }
    }
    let scopes = requested_scopes(&client, params.scope.as_deref()).map_err(refuse)?;
    let code_challenge = pkce(params).map_err(refuse)?;
    let nonce = params.nonce.clone().filter(|n| !n.is_empty());
    if nonce.as_ref().is_some_and(|n| n.len() > MAX_NONCE) {
        return Err(refuse(Refusal::new(
            "invalid_request",
            format!("nonce: at most {MAX_NONCE} characters"),
        )));
    }
    let prompt = prompt(params.prompt.as_deref()).map_err(refuse)?;
    let max_age = match params.max_age.as_deref() {
        None => None,
        Some(text) => match text.parse::<u32>() {
            Ok(n) => Some(i64::from(n)),
            Err(_) => {
                return Err(refuse(Refusal::new(
                    "invalid_request",
                    "max_age: a whole number of seconds",
                )));
            }
        },
    };
    let login_hint = params
        .login_hint
        .clone()
        .filter(|h| !h.is_empty() && h.chars().count() <= MAX_LOGIN_HINT);
    Ok(Authorization {
        client,
        redirect_uri,
        state,
        scopes,
        nonce,
        code_challenge,
        prompt,
        max_age,
        login_hint,
    })
}

/// The requested scopes: `openid` among them, each allowed to the client.
fn requested_scopes(client: &OidcClient, scope: Option<&str>) -> Result<Vec<String>, Refusal> {
    let asked: Vec<&str> = scope
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if !asked.contains(&"openid") {
        return Err(Refusal::new("invalid_scope", "scope must include openid"));
    }
    if let Some(other) = asked
        .iter()
        .find(|s| !client.scopes.iter().any(|c| c == *s))
    {
        let known = SUPPORTED_SCOPES.contains(other);
        return Err(Refusal::new(
            "invalid_scope",
            if known {
                "a requested scope is not allowed for this client"
            } else {
                "a requested scope is not supported"
            },
        ));
    }
    Ok(SUPPORTED_SCOPES
        .iter()
        .filter(|s| asked.contains(s))
        .map(|s| (*s).to_owned())
        .collect())
}

/// PKCE (RFC 7636), required of every client, S256 only.
fn pkce(params: &AuthorizeParams) -> Result<String, Refusal> {
    let Some(challenge) = params.code_challenge.as_deref() else {
        return Err(Refusal::new(
            "invalid_request",
            "code_challenge is required (PKCE with S256)",
        ));
    };
    if params.code_challenge_method.as_deref() != Some("S256") {
        return Err(Refusal::new(
            "invalid_request",
            "code_challenge_method must be S256",
        ));
    }
    if !is_s256_challenge(challenge) {
        return Err(Refusal::new(
            "invalid_request",
            "code_challenge: 43 base64url characters (a SHA-256 digest)",
        ));
    }
    Ok(challenge.to_owned())
}

/// `prompt`: `none` alone, or any of `login` and `consent`.
fn prompt(text: Option<&str>) -> Result<Prompt, Refusal> {
    let mut prompt = Prompt::default();
    for value in text
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
    {
        match value {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            _ => {
                return Err(Refusal::new(
                    "invalid_request",
                    "prompt: none, login or consent",
                ));
            }
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err(Refusal::new(
            "invalid_request",
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(prompt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    fn client() -> OidcClient {
        OidcClient {
            id: "oidc_1".into(),
            name: "Wiki".into(),
            secret_hash: None,
            redirect_uris: vec!["https://wiki.example/cb".into()],
            post_logout_redirect_uris: vec![],
            scopes: vec!["openid".into(), "profile".into()],
            first_party: false,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn params() -> AuthorizeParams {
        AuthorizeParams {
            client_id: Some("oidc_1".into()),
            redirect_uri: Some("https://wiki.example/cb".into()),
            response_type: Some("code".into()),
            scope: Some("openid profile".into()),
            state: Some("st".into()),
            code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
            code_challenge_method: Some("S256".into()),
            ..AuthorizeParams::default()
        }
    }

    fn refusal(p: &AuthorizeParams) -> (&'static str, Option<String>) {
        let (r, state) = checked(client(), "https://wiki.example/cb".into(), p).unwrap_err();
        (r.error, state)
    }

    #[test]
    fn an_unknown_client_or_unregistered_redirect_is_never_trusted() {
        assert!(trusted_redirect(None, &params()).is_err());
        for bad in [
            None,
            Some("https://wiki.example/cb/"),
            Some("https://evil.example/cb"),
            Some("https://wiki.example/cb?next=https://evil.example"),
        ] {
            let p = AuthorizeParams {
                redirect_uri: bad.map(str::to_owned),
                ..params()
            };
            assert!(trusted_redirect(Some(client()), &p).is_err(), "{bad:?}");
        }
        assert!(trusted_redirect(Some(client()), &params()).is_ok());
    }

    #[test]
    fn a_good_request_keeps_state_nonce_and_scopes() {
        let p = AuthorizeParams {
            nonce: Some("n-1".into()),
            scope: Some("profile openid".into()),
            ..params()
        };
        let a = checked(client(), "https://wiki.example/cb".into(), &p).unwrap();
        assert_eq!(a.scopes, vec!["openid", "profile"]);
        assert_eq!(a.state.as_deref(), Some("st"));
        assert_eq!(a.nonce.as_deref(), Some("n-1"));
    }

    #[test]
    fn pkce_is_required_and_plain_is_refused() {
        for p in [
            AuthorizeParams {
                code_challenge: None,
                ..params()
            },
            AuthorizeParams {
                code_challenge_method: None,
                ..params()
            },
            AuthorizeParams {
                code_challenge_method: Some("plain".into()),
                ..params()
            },
            AuthorizeParams {
                code_challenge: Some("short".into()),
                ..params()
            },
        ] {
            assert_eq!(refusal(&p), ("invalid_request", Some("st".into())));
        }
    }

    #[test]
    fn other_errors_name_their_code() {
        let with = |f: fn(&mut AuthorizeParams)| {
            let mut p = params();
            f(&mut p);
            refusal(&p).0
        };
        assert_eq!(
            with(|p| p.response_type = Some("token".into())),
            "unsupported_response_type"
        );
        assert_eq!(with(|p| p.response_type = None), "invalid_request");
        assert_eq!(with(|p| p.scope = Some("profile".into())), "invalid_scope");
        assert_eq!(
            with(|p| p.scope = Some("openid email".into())),
            "invalid_scope"
        );
        assert_eq!(
            with(|p| p.prompt = Some("none login".into())),
            "invalid_request"
        );
        assert_eq!(
            with(|p| p.prompt = Some("select_account".into())),
            "invalid_request"
        );
        assert_eq!(with(|p| p.max_age = Some("-1".into())), "invalid_request");
        assert_eq!(
            with(|p| p.request = Some("x".into())),
            "request_not_supported"
        );
        assert_eq!(
            with(|p| p.response_mode = Some("fragment".into())),
            "invalid_request"
        );
    }

    #[test]
    fn an_overlong_state_is_not_sent_back() {
        let p = AuthorizeParams {
            state: Some("s".repeat(2000)),
            ..params()
        };
        assert_eq!(refusal(&p), ("invalid_request", None));
    }
}
