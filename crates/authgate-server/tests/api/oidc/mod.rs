//! OpenID Connect: relying parties registered by an administrator, the
//! authorization endpoint with the pages' login and consent, the code
//! exchange with PKCE, ID tokens verified by another library against the
//! published JWKS, userinfo, and every refusal docs/http-api.md promises.

use authgate_core::Origin;
use authgate_core::oidc::OidcClientSpec;
use authgate_testkit::reqwest::{StatusCode, header};
use authgate_testkit::{PASSWORD, TestApp, TestUser, spawn_app, spawn_app_with};
use serde_json::{Value, json};

use crate::pages::Browser;

pub(super) const REDIRECT: &str = "https://rp.example/cb";
/// RFC 7636's example pair.
pub(super) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub(super) const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub(super) async fn oidc_app() -> TestApp {
    spawn_app_with(|s| s.oidc.enabled = true).await
}

/// A registered relying party.
pub(super) struct Rp {
    pub(super) id: String,
    pub(super) secret: Option<String>,
}

pub(super) async fn register(app: &TestApp, public: bool, first_party: bool) -> Rp {
    register_with(app, public, first_party, &["profile", "email"]).await
}

/// A registered relying party allowed `scopes` (and `openid`).
pub(super) async fn register_with(
    app: &TestApp,
    public: bool,
    first_party: bool,
    scopes: &[&str],
) -> Rp {
    let created = app
        .state
        .auth
        .create_oidc_client(
            None,
            OidcClientSpec {
                name: "Team Wiki".into(),
                public,
                redirect_uris: vec![REDIRECT.into(), "http://127.0.0.1/native".into()],
                post_logout_redirect_uris: vec!["https://rp.example/bye".into()],
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                first_party,
            },
            &Origin::default(),
        )
        .await
        .unwrap();
    Rp {
        id: created.client.id.clone(),
        secret: created.secret.map(|s| s.to_string()),
    }
}

/// `/oauth/authorize?…` with sound defaults, `changes` replacing or
/// (with an empty value) removing parameters.
pub(super) fn authorize(rp: &Rp, changes: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("response_type", "code".to_owned()),
        ("client_id", rp.id.clone()),
        ("redirect_uri", REDIRECT.to_owned()),
        ("scope", "openid email profile".to_owned()),
        ("state", "st-123".to_owned()),
        ("nonce", "n-456".to_owned()),
        ("code_challenge", CHALLENGE.to_owned()),
        ("code_challenge_method", "S256".to_owned()),
    ];
    for (name, value) in changes {
        params.retain(|(n, _)| n != name);
        if !value.is_empty() {
            params.push((name, (*value).to_owned()));
        }
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().map(|(n, v)| (*n, v.as_str())))
        .finish();
    format!("/oauth/authorize?{query}")
}

/// The query parameters of `uri`.
pub(super) fn query_of(uri: &str) -> Vec<(String, String)> {
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes())
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect()
}

pub(super) fn param(uri: &str, name: &str) -> Option<String> {
    query_of(uri)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// Where a "continue" page sends the browser.
pub(super) fn continue_target(body: &str) -> String {
    let start = body.find("0;url=").expect("a continue page") + "0;url=".len();
    let end = start + body[start..].find('"').unwrap();
    unescape(&body[start..end])
}

/// Text from an HTML attribute, as the browser reads it.
pub(super) fn unescape(text: &str) -> String {
    [
        ("&#38;", "&"),
        ("&#39;", "'"),
        ("&#34;", "\""),
        ("&#60;", "<"),
        ("&#62;", ">"),
    ]
    .iter()
    .chain(&[
        ("&amp;", "&"),
        ("&quot;", "\""),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&#x27;", "'"),
    ])
    .fold(text.to_owned(), |t, (from, to)| t.replace(from, to))
}

/// A field's value in a form of `body`.
pub(super) fn hidden(body: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = body.find(&marker).expect("the field") + marker.len();
    let end = start + body[start..].find('"').unwrap();
    unescape(&body[start..end])
}

/// Logs `user` in through the login page from an authorization request,
/// allowing it on the consent page when asked; the final redirect URI.
pub(super) async fn sign_in(browser: &mut Browser<'_>, user: &TestUser, path: &str) -> String {
    let first = browser.get(path).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let login = first.location().to_owned();
    assert!(login.starts_with("/login?"), "{login}");
    let return_to = param(&login, "return_to").unwrap();
    let done = browser.login_to(&user.email, PASSWORD, &return_to).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let back = continue_target(&done.body);
    assert!(back.starts_with("/oauth/authorize?"), "{back}");
    let next = browser.get(&back).await;
    if next.status == StatusCode::SEE_OTHER {
        return next.location().to_owned();
    }
    assert_eq!(next.status, StatusCode::OK, "{}", next.body);
    assert!(next.body.contains("Team Wiki"), "{}", next.body);
    let allowed = browser
        .post(
            "/oauth/authorize/consent",
            &[
                ("csrf", &next.csrf()),
                ("request", &hidden(&next.body, "request")),
                ("decision", "allow"),
            ],
        )
        .await;
    assert_eq!(allowed.status, StatusCode::OK, "{}", allowed.body);
    continue_target(&allowed.body)
}

/// Exchanges `code` as `rp` (Basic for a confidential client, `client_id`
/// alone for a public one).
pub(super) async fn exchange(
    app: &TestApp,
    rp: &Rp,
    code: &str,
    verifier: &str,
) -> authgate_testkit::reqwest::Response {
    let mut fields = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ];
    let mut request = app.client.post(app.url("/oauth/token"));
    match &rp.secret {
        Some(secret) => request = request.basic_auth(&rp.id, Some(secret)),
        None => fields.push(("client_id", &rp.id)),
    }
    request.form(&fields).send().await.unwrap()
}

pub(super) async fn code_of(app: &TestApp, rp: &Rp, user: &TestUser) -> String {
    let mut browser = Browser::new(app);
    let location = sign_in(&mut browser, user, &authorize(rp, &[])).await;
    assert!(location.starts_with(REDIRECT), "{location}");
    param(&location, "code").expect("a code")
}

pub(super) async fn error_of(
    response: authgate_testkit::reqwest::Response,
) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    (status, body["error"].as_str().unwrap().to_owned())
}

mod codes;
mod flow;
mod logout;
mod prompts;
mod refresh;
