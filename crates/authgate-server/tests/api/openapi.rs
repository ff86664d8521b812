//! `GET /openapi.json`: the document is OpenAPI 3.1, documents exactly the
//! routes of docs/http-api.md, every documented operation exists and answers with a
//! documented status, error responses are `ErrorBody`, and the bodies of
//! docs/http-api.md have their schemas.

use std::collections::{BTreeMap, BTreeSet};

use authgate_testkit::reqwest::{Method, StatusCode, header};
use authgate_testkit::{
    PASSWORD, TestApp, TestClient, TestUser, expect_json, spawn_app, spawn_app_with,
};
use serde_json::{Value, json};
use uuid::Uuid;

/// Every route of docs/http-api.md the server serves, as (method, OpenAPI path). A
/// route added to the router must be added here and documented; one
/// documented but not served fails too.
const ROUTES: [(&str, &str); 45] = [
    ("POST", "/auth/register"),
    ("POST", "/auth/login"),
    ("POST", "/auth/refresh"),
    ("POST", "/auth/logout"),
    ("POST", "/auth/password/change"),
    ("POST", "/auth/password/forgot"),
    ("POST", "/auth/password/reset"),
    ("POST", "/auth/email/verify"),
    ("POST", "/auth/email/verify/resend"),
    ("POST", "/auth/email/change"),
    ("POST", "/auth/login/mfa"),
    ("GET", "/auth/mfa"),
    ("POST", "/auth/mfa/totp"),
    ("POST", "/auth/mfa/totp/confirm"),
    ("POST", "/auth/mfa/totp/disable"),
    ("POST", "/admin/users/{id}/mfa/reset"),
    ("GET", "/me"),
    ("GET", "/auth/sessions"),
    ("DELETE", "/auth/sessions/{id}"),
    ("GET", "/admin/dashboard"),
    ("GET", "/admin/users"),
    ("GET", "/admin/users/{id}"),
    ("PUT", "/admin/users/{id}/roles"),
    ("POST", "/admin/users/{id}/disable"),
    ("POST", "/admin/users/{id}/enable"),
    ("GET", "/admin/audit"),
    ("GET", "/admin/keys"),
    ("POST", "/admin/keys/rotate"),
    ("POST", "/admin/clients"),
    ("POST", "/admin/clients/{id}/disable"),
    ("POST", "/admin/clients/{id}/enable"),
    ("POST", "/admin/oidc-clients"),
    ("GET", "/admin/oidc-clients"),
    ("DELETE", "/admin/oidc-clients/{id}"),
    ("POST", "/oauth/token"),
    ("POST", "/oauth/introspect"),
    ("POST", "/oauth/revoke"),
    ("GET", "/oauth/userinfo"),
    ("POST", "/oauth/userinfo"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
];

/// The methods probed on every documented path.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

async fn document(app: &TestApp) -> Value {
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[header::CONTENT_TYPE].to_str().unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    response.json().await.unwrap()
}

/// Every (METHOD, path) the document describes.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if METHODS
                .iter()
                .any(|m| m.eq_ignore_ascii_case(method.as_str()))
            {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    let op = &doc["paths"][path][method.to_lowercase()];
    assert!(op.is_object(), "{method} {path} is documented");
    op
}

/// The statuses documented for an operation.
fn documented_statuses(op: &Value) -> BTreeSet<u16> {
    op["responses"]
        .as_object()
        .unwrap()
        .keys()
        .map(|s| s.parse().unwrap())
        .collect()
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_describes_exactly_the_served_routes() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(!doc["info"]["title"].as_str().unwrap().is_empty());

    let documented = operations(&doc);
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let undocumented: Vec<_> = expected.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&expected).collect();
    assert!(
        undocumented.is_empty(),
        "routes not documented: {undocumented:?}"
    );
    assert!(
        unknown.is_empty(),
        "documented but not in docs/http-api.md's list: {unknown:?}"
    );

    // The router serves no other method on a documented path: a method
    // added without documentation would answer something other than 405.
    for path in doc["paths"].as_object().unwrap().keys() {
        let concrete = path.replace("{id}", &Uuid::new_v4().to_string());
        for method in METHODS {
            if documented.contains(&(method.to_owned(), path.clone())) {
                continue;
            }
            let response = app
                .request(Method::from_bytes(method.as_bytes()).unwrap(), &concrete)
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is served but not documented"
            );
        }
    }

    let ids: Vec<&str> = documented
        .iter()
        .map(|(m, p)| operation(&doc, m, p)["operationId"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "operation ids are unique: {ids:?}");
}

/// How a probe authenticates.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Auth {
    None,
    /// The access token of a fresh session of the plain user.
    User,
    /// The admin's access token.
    Admin,
    /// The service client by HTTP Basic.
    Client,
}

/// What a probe sends as its body.
#[derive(Debug, Clone)]
enum Body {
    None,
    /// In the operation's first content type: JSON, or a form for the OAuth
    /// endpoints (from the object's string members).
    Fields(Value),
    /// `text/plain`, which no endpoint takes.
    Text,
}

/// The people and things the probes use.
struct Fixture {
    admin: TestUser,
    /// A plain user whose sessions the Bearer probes use.
    user: TestUser,
    /// The user the admin routes act on.
    target: TestUser,
    client: TestClient,
}

impl Fixture {
    async fn new(app: &TestApp) -> Self {
        Self {
            admin: app.new_user_with_roles(&["admin"]).await,
            user: app.new_user().await,
            target: app.new_user().await,
            client: app.new_client(&[]).await,
        }
    }

    /// A fresh session of the plain user, so a probe that logs out or
    /// revokes harms no other probe.
    async fn session(&self, app: &TestApp) -> (String, String, Uuid) {
        let tokens = app.login_ok(&self.user.email, PASSWORD).await;
        let me: Value = app.me(&tokens.access_token).await.json().await.unwrap();
        let sid = me["session"]["id"].as_str().unwrap().parse().unwrap();
        (tokens.access_token, tokens.refresh_token, sid)
    }
}

/// A new public relying party's id.
async fn relying_party(app: &TestApp) -> String {
    let spec = authgate_core::oidc::OidcClientSpec {
        name: "openapi probe".into(),
        public: true,
        redirect_uris: vec!["https://rp.example/cb".into()],
        ..Default::default()
    };
    let created = app
        .state
        .auth
        .create_oidc_client(None, spec, &authgate_core::Origin::default())
        .await
        .unwrap();
    created.client.id
}

/// A relying party's access token for the plain user, through the service
/// calls the authorization and token endpoints make.
async fn relying_party_token(app: &TestApp, fx: &Fixture) -> String {
    use authgate_core::oidc::{AuthorizeParams, Checked, Step};
    let auth = &app.state.auth;
    let origin = authgate_core::Origin::default();
    let id = relying_party(app).await;
    let attempt = authgate_core::LoginAttempt {
        identifier: fx.user.email.clone(),
        password: authgate_core::Password::new(PASSWORD.to_owned()).unwrap(),
        audience: None,
    };
    let authgate_core::BrowserOutcome::LoggedIn(login) = auth
        .browser_login(attempt, &origin, time::Duration::hours(1))
        .await
        .unwrap()
    else {
        panic!("the fixture user has no second factor")
    };
    let browser = auth
        .browser_session(&login.secret, time::Duration::hours(1))
        .await
        .unwrap()
        .unwrap();
    let params = AuthorizeParams {
        client_id: Some(id.clone()),
        redirect_uri: Some("https://rp.example/cb".into()),
        response_type: Some("code".into()),
        scope: Some("openid".into()),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        code_challenge_method: Some("S256".into()),
        ..Default::default()
    };
    let Checked::Valid(request) = auth.check_authorization(&params).await.unwrap() else {
        panic!("a valid authorization request");
    };
    let Step::Redirect { location } = auth
        .authorization_step(&request, Some(&browser), true, &origin)
        .await
        .unwrap()
    else {
        panic!("a code");
    };
    let code = location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let client = auth.authenticate_oidc_client(&id, None).await.unwrap();
    auth.exchange_code(
        &client,
        &code,
        Some("https://rp.example/cb"),
        Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        &origin,
    )
    .await
    .unwrap()
    .access_token
}

/// A live reset token of a user of its own (stored as the forgot flow
/// would, its message left undeliverable).
async fn reset_token(app: &TestApp) -> String {
    use authgate_core::{QueuedMail, ResetToken, TokenHash};
    let user = app.new_user().await;
    let stored = app.state.auth.user(user.user.id).await.unwrap();
    let token = Uuid::new_v4().simple().to_string();
    let now = app.now();
    let mail = QueuedMail {
        id: Uuid::now_v7(),
        kind: "password_reset".into(),
        recipient: user.email.clone(),
        sender: "authgate@localhost".into(),
        sealed: Vec::new(),
        attempts: 0,
        created_at: now,
        next_attempt_at: now,
    };
    let reset = ResetToken {
        hash: TokenHash::of(&token),
        user_id: user.user.id,
        password_fingerprint: TokenHash::of(&stored.password_hash),
        created_at: now,
        expires_at: now + time::Duration::minutes(30),
    };
    assert!(
        app.store()
            .await
            .request_reset(Some(&reset), &mail, 10, None)
            .await
            .unwrap()
    );
    token
}

/// A live verification link of a user of its own (stored as registration
/// would, its message left undeliverable).
async fn verification_token(app: &TestApp) -> String {
    use authgate_core::{QueuedMail, TokenHash, VerificationToken};
    let user = app.new_user().await;
    let token = Uuid::new_v4().simple().to_string();
    let now = app.now();
    let mail = QueuedMail {
        id: Uuid::now_v7(),
        kind: "email_verification".into(),
        recipient: user.email.clone(),
        sender: "authgate@localhost".into(),
        sealed: Vec::new(),
        attempts: 0,
        created_at: now,
        next_attempt_at: now,
    };
    let link = VerificationToken {
        hash: TokenHash::of(&token),
        user_id: user.user.id,
        email: user.email.clone(),
        created_at: now,
        expires_at: now + time::Duration::hours(24),
    };
    assert!(
        app.store()
            .await
            .request_verification(Some(&link), &mail, 10, None)
            .await
            .unwrap()
    );
    token
}

/// Begins a TOTP enrolment for the holder of `access`; their app.
async fn begin_totp(app: &TestApp, access: &str) -> totp_rs::Totp {
    let response = app
        .client
        .post(app.url("/auth/mfa/totp"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    let enrolment: authgate_proto::TotpEnrolmentResponse =
        expect_json(response, StatusCode::OK).await;
    totp_rs::Totp::from_url(&enrolment.otpauth_uri).unwrap()
}

/// The code of `totp` at the server's time, `steps` periods on.
fn totp_code(app: &TestApp, totp: &totp_rs::Totp, steps: i64) -> String {
    let at = app.now().unix_timestamp() + steps * 30;
    totp.generate(u64::try_from(at).unwrap()).to_string()
}

/// A new user whose TOTP factor is on (this step's code used), and their app.
async fn mfa_user(app: &TestApp) -> (TestUser, totp_rs::Totp) {
    let user = app.new_user().await;
    let totp = begin_totp(app, &user.access).await;
    let response = app
        .client
        .post(app.url("/auth/mfa/totp/confirm"))
        .bearer_auth(&user.access)
        .json(&json!({"code": totp_code(app, &totp, 0)}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    (user, totp)
}

/// The realistic, successful request for an operation: its path with real
/// ids, its credentials and its body.
async fn realistic(
    app: &TestApp,
    fx: &Fixture,
    method: &str,
    path: &str,
) -> (String, Auth, Body, Option<String>) {
    let target = fx.target.user.id.to_string();
    let with_target = path.replace("{id}", &target);
    match (method, path) {
        ("POST", "/auth/register") => {
            let email = format!("openapi-{}@example.com", Uuid::new_v4().simple());
            let body = json!({"email": email, "password": PASSWORD});
            (path.into(), Auth::None, Body::Fields(body), None)
        }
        ("POST", "/auth/login") => {
            let body = json!({"email": fx.user.email, "password": PASSWORD});
            (path.into(), Auth::None, Body::Fields(body), None)
        }
        ("POST", "/auth/refresh") => {
            let (_, refresh, _) = fx.session(app).await;
            let body = json!({"refresh_token": refresh});
            (path.into(), Auth::None, Body::Fields(body), None)
        }
        ("POST", "/auth/password/forgot") => {
            let body = json!({"email": fx.user.email});
            (path.into(), Auth::None, Body::Fields(body), None)
        }
        ("POST", "/auth/password/reset") => {
            let token = reset_token(app).await;
            let body = json!({"token": token, "new_password": "copper-meadow-lighthouse-82-orbit"});
            (path.into(), Auth::None, Body::Fields(body), None)
        }
        ("POST", "/auth/email/verify") => {
            let token = verification_token(app).await;
            (
                path.into(),
                Auth::None,
                Body::Fields(json!({"token": token})),
                None,
            )
        }
        ("POST", "/auth/email/verify/resend") => {
            let body = json!({"email": fx.user.email});
            (path.into(), Auth::None, Body::Fields(body), None)
        }
        ("POST", "/auth/email/change") => {
            let email = format!("openapi-{}@example.com", Uuid::new_v4().simple());
            let body = json!({"current_password": PASSWORD, "new_email": email});
            (path.into(), Auth::User, Body::Fields(body), None)
        }
        ("DELETE", "/auth/sessions/{id}") => {
            let (access, _, _) = fx.session(app).await;
            let (_, _, other) = fx.session(app).await;
            let path = path.replace("{id}", &other.to_string());
            (path, Auth::User, Body::None, Some(access))
        }
        ("POST", "/auth/password/change") => {
            // The same password again: later probes still log in with it.
            let body = json!({"current_password": PASSWORD, "new_password": PASSWORD});
            (path.into(), Auth::User, Body::Fields(body), None)
        }
        ("PUT", "/admin/users/{id}/roles") => {
            let body = json!({"roles": ["user"]});
            (with_target, Auth::Admin, Body::Fields(body), None)
        }
        ("POST", "/admin/clients") => {
            let body = json!({"name": "openapi probe", "roles": []});
            (path.into(), Auth::Admin, Body::Fields(body), None)
        }
        ("POST", "/admin/clients/{id}/disable" | "/admin/clients/{id}/enable") => {
            // A client of its own: the fixture's must keep working.
            let client = app.new_client(&[]).await;
            let path = path.replace("{id}", &client.id);
            (path, Auth::Admin, Body::None, None)
        }
        ("POST", "/admin/oidc-clients") => {
            let body = json!({"name": "openapi probe", "redirect_uris": ["https://rp.example/cb"]});
            (path.into(), Auth::Admin, Body::Fields(body), None)
        }
        ("DELETE", "/admin/oidc-clients/{id}") => {
            let id = relying_party(app).await;
            (path.replace("{id}", &id), Auth::Admin, Body::None, None)
        }
        ("GET" | "POST", "/oauth/userinfo") => {
            let token = relying_party_token(app, fx).await;
            (path.into(), Auth::User, Body::None, Some(token))
        }
        ("POST", "/oauth/token") => {
            let body = json!({"grant_type": "client_credentials"});
            (path.into(), Auth::Client, Body::Fields(body), None)
        }
        ("POST", "/oauth/introspect" | "/oauth/revoke") => {
            let (access, _, _) = fx.session(app).await;
            let body = json!({"token": access});
            (path.into(), Auth::Client, Body::Fields(body), None)
        }
        ("POST", "/auth/mfa/totp/confirm") => {
            let user = app.new_user().await;
            let totp = begin_totp(app, &user.access).await;
            let body = json!({"code": totp_code(app, &totp, 0)});
            (
                path.into(),
                Auth::User,
                Body::Fields(body),
                Some(user.access),
            )
        }
        ("POST", "/auth/mfa/totp/disable") => {
            let (user, _) = mfa_user(app).await;
            let body = json!({"password": PASSWORD});
            (
                path.into(),
                Auth::User,
                Body::Fields(body),
                Some(user.access),
            )
        }
        ("POST", "/auth/login/mfa") => {
            let (user, totp) = mfa_user(app).await;
            let step: authgate_proto::MfaRequiredResponse =
                expect_json(app.login(&user.email, PASSWORD).await, StatusCode::OK).await;
            // The next step's code: the enrolment used this one's.
            let body = json!({"mfa_token": step.mfa_token, "code": totp_code(app, &totp, 1)});
            (path.into(), Auth::None, Body::Fields(body), None)
        }
        (_, p) if p.starts_with("/admin/") => (with_target, Auth::Admin, Body::None, None),
        ("GET", "/auth/mfa") | ("POST", "/auth/mfa/totp") => {
            (path.into(), Auth::User, Body::None, None)
        }
        ("POST", "/auth/logout") | ("GET", "/me" | "/auth/sessions") => {
            (path.into(), Auth::User, Body::None, None)
        }
        _ => (path.into(), Auth::None, Body::None, None),
    }
}

/// One request to an operation.
struct Probe {
    /// What it tries, for failure messages.
    what: &'static str,
    /// The path with its parameters filled in.
    path: String,
    auth: Auth,
    body: Body,
    /// For [`Auth::User`]: the token to use, else a fresh session's.
    access: Option<String>,
}

/// Sends one probe and returns its status and body (JSON or `Null`).
async fn send(app: &TestApp, fx: &Fixture, op: &Value, method: &str, probe: Probe) -> (u16, Value) {
    let Probe {
        path,
        auth,
        body,
        access,
        ..
    } = probe;
    let mut request = app.request(Method::from_bytes(method.as_bytes()).unwrap(), &path);
    request = match auth {
        Auth::None => request,
        Auth::Admin => request.bearer_auth(&fx.admin.access),
        Auth::User => {
            let token = match access {
                Some(token) => token,
                None => fx.session(app).await.0,
            };
            request.bearer_auth(token)
        }
        Auth::Client => request.basic_auth(&fx.client.id, Some(&fx.client.secret)),
    };
    let content = op["requestBody"]["content"].as_object();
    let form = content.is_some_and(|c| c.contains_key("application/x-www-form-urlencoded"));
    request = match &body {
        Body::None => request,
        Body::Text => request
            .header(header::CONTENT_TYPE, "text/plain")
            .body("not a body"),
        Body::Fields(value) if form => {
            let fields: Vec<(String, String)> = value
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect();
            request.form(&fields)
        }
        Body::Fields(value) => request.json(value),
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test]
async fn every_documented_operation_exists_and_answers_with_a_documented_status() {
    // Every probe logs in afresh; the manual clock never lets a minute pass.
    let app = spawn_app_with(|s| {
        s.rate_limit.login_per_ip_per_minute = 1000;
        s.oidc.enabled = true;
    })
    .await;
    let doc = document(&app).await;
    let fx = Fixture::new(&app).await;

    for (method, path) in operations(&doc) {
        let op = operation(&doc, &method, &path);
        let documented = documented_statuses(op);
        let secured = op["security"]
            .as_array()
            .is_some_and(|reqs| !reqs.iter().any(|r| r.as_object().unwrap().is_empty()));
        let takes_body = op["requestBody"].is_object();

        let (real_path, auth, body, access) = realistic(&app, &fx, &method, &path).await;
        let probe = |what, path: &str, auth, body| Probe {
            what,
            path: path.to_owned(),
            auth,
            body,
            access: None,
        };
        let mut probes = vec![Probe {
            access,
            ..probe("realistic", &real_path, auth, body.clone())
        }];
        if auth != Auth::None {
            probes.push(probe(
                "without credentials",
                &real_path,
                Auth::None,
                body.clone(),
            ));
        }
        if auth == Auth::Admin {
            probes.push(probe(
                "without the permission",
                &real_path,
                Auth::User,
                body.clone(),
            ));
        }
        if takes_body {
            probes.push(probe(
                "empty body",
                &real_path,
                auth,
                Body::Fields(json!({})),
            ));
            probes.push(probe("text/plain body", &real_path, auth, Body::Text));
        }
        if path.contains("{id}") {
            let random = path.replace("{id}", &Uuid::new_v4().to_string());
            probes.push(probe("random id", &random, auth, body.clone()));
            let garbage = path.replace("{id}", "not-a-uuid");
            probes.push(probe("id that is no uuid", &garbage, auth, body.clone()));
        }

        let mut answered = BTreeMap::new();
        for probe in probes {
            let what = probe.what;
            let (status, response) = send(&app, &fx, op, &method, probe).await;
            assert!(
                documented.contains(&status),
                "{method} {path} ({what}) answered {status}, documented {documented:?}: {response}"
            );
            if status >= 400 && path != "/readyz" {
                assert!(
                    response["error"].is_string() && response["error_description"].is_string(),
                    "{method} {path} ({what}) {status} is an ErrorBody: {response}"
                );
            }
            if what == "realistic" {
                assert!(
                    status < 400,
                    "{method} {path} succeeds when asked properly: {status} {response}"
                );
            }
            if what == "without credentials" && secured {
                assert_eq!(status, 401, "{method} {path} needs credentials: {response}");
            }
            if what == "without the permission" {
                assert_eq!(
                    status, 403,
                    "{method} {path} needs a permission: {response}"
                );
            }
            answered.insert(what, status);
        }
        assert!(
            answered.values().any(|s| *s != 404 && *s != 405),
            "{method} {path} exists: {answered:?}"
        );
    }
}

/// Resolves a `$ref` to its component, or returns the schema itself.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("a local schema reference: {reference}"));
            let component = &doc["components"]["schemas"][name];
            assert!(component.is_object(), "{reference} resolves");
            component
        }
        None => schema,
    }
}

/// Whether `schema` is, or is made of (`allOf`), the `ErrorBody` schema.
fn is_error_body(doc: &Value, schema: &Value) -> bool {
    const ERROR_BODY: &str = "#/components/schemas/ErrorBody";
    if schema["$ref"] == ERROR_BODY {
        return true;
    }
    let resolved = resolve(doc, schema);
    resolved["allOf"]
        .as_array()
        .is_some_and(|parts| parts.iter().any(|p| p["$ref"] == ERROR_BODY))
}

/// Every `$ref` anywhere in `value`.
fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => references(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

fn schema_of<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let schema = &doc["components"]["schemas"][name];
    assert!(schema.is_object(), "schema {name} is present");
    schema
}

fn required(schema: &Value) -> BTreeSet<&str> {
    schema["required"]
        .as_array()
        .map(|r| r.iter().map(|v| v.as_str().unwrap()).collect())
        .unwrap_or_default()
}

/// One body of docs/http-api.md: method, path, request schema, success status,
/// response schema.
type BodyRow = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    Option<&'static str>,
);

#[tokio::test]
async fn error_responses_are_error_bodies_and_api_md_bodies_have_their_schemas() {
    let app = spawn_app().await;
    let doc = document(&app).await;

    // Every error response is an ErrorBody (readyz's adds the store detail)
    // and its description names its error code.
    for (method, path) in operations(&doc) {
        let op = operation(&doc, &method, &path);
        for (status, response) in op["responses"].as_object().unwrap() {
            if status.parse::<u16>().unwrap() < 400 {
                continue;
            }
            let schema = &response["content"]["application/json"]["schema"];
            assert!(
                is_error_body(&doc, schema),
                "{method} {path} {status} is an ErrorBody: {schema}"
            );
            let description = response["description"].as_str().unwrap();
            assert!(
                description.contains('`'),
                "{method} {path} {status} names its error code: {description}"
            );
        }
    }

    // Every reference resolves.
    let mut refs = Vec::new();
    references(&doc, &mut refs);
    for reference in &refs {
        resolve(&doc, &json!({"$ref": reference}));
    }

    // The error body and its codes.
    let error_body = schema_of(&doc, "ErrorBody");
    assert_eq!(
        required(error_body),
        BTreeSet::from(["error", "error_description"])
    );
    let codes: BTreeSet<&str> = resolve(&doc, &error_body["properties"]["error"])["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for code in [
        "invalid_request",
        "invalid_credentials",
        "invalid_token",
        "invalid_grant",
        "invalid_client",
        "insufficient_scope",
        "account_disabled",
        "email_not_verified",
        "not_found",
        "conflict",
        "payload_too_large",
        "unsupported_media_type",
        "rate_limited",
        "unavailable",
        "internal",
    ] {
        assert!(codes.contains(code), "{code} in {codes:?}");
    }

    // PublicUser as docs/http-api.md shows it.
    let user = schema_of(&doc, "PublicUser");
    assert_eq!(
        required(user),
        BTreeSet::from([
            "id",
            "email",
            "username",
            "name",
            "roles",
            "is_active",
            "email_verified",
            "created_at"
        ])
    );
    let props = &user["properties"];
    assert_eq!(props["id"]["format"], "uuid");
    assert_eq!(props["email"]["type"], "string");
    assert_eq!(props["username"]["type"], json!(["string", "null"]));
    assert_eq!(props["name"]["type"], json!(["string", "null"]));
    assert_eq!(props["roles"]["items"]["type"], "string");
    assert_eq!(props["is_active"]["type"], "boolean");
    assert_eq!(props["created_at"]["type"], "string");
    assert_eq!(props["created_at"]["format"], "date-time");

    // LoginResponse as docs/http-api.md shows it.
    let login = schema_of(&doc, "LoginResponse");
    assert_eq!(
        required(login),
        BTreeSet::from([
            "access_token",
            "token_type",
            "expires_in",
            "refresh_token",
            "refresh_expires_in",
            "user"
        ])
    );
    let props = &login["properties"];
    assert_eq!(props["user"]["$ref"], "#/components/schemas/PublicUser");
    assert_eq!(
        resolve(&doc, &props["token_type"])["enum"],
        json!(["Bearer"])
    );
    assert_eq!(props["expires_in"]["type"], "integer");

    let audit = schema_of(&doc, "AuditEvent");
    assert_eq!(audit["properties"]["at"]["format"], "date-time");

    // Each body of docs/http-api.md: (method, path, request schema, success status,
    // response schema).
    let bodies: [BodyRow; 27] = [
        (
            "POST",
            "/auth/register",
            Some("RegisterRequest"),
            "201",
            Some("RegisterResponse"),
        ),
        (
            "POST",
            "/auth/login",
            Some("LoginRequest"),
            "200",
            Some("LoginResponse"),
        ),
        (
            "POST",
            "/auth/refresh",
            Some("RefreshRequest"),
            "200",
            Some("RefreshResponse"),
        ),
        (
            "POST",
            "/auth/logout",
            Some("LogoutRequest"),
            "200",
            Some("MessageResponse"),
        ),
        (
            "POST",
            "/auth/password/change",
            Some("ChangePasswordRequest"),
            "200",
            Some("PasswordChangedResponse"),
        ),
        ("GET", "/me", None, "200", Some("MeResponse")),
        (
            "GET",
            "/auth/sessions",
            None,
            "200",
            Some("SessionsResponse"),
        ),
        ("DELETE", "/auth/sessions/{id}", None, "204", None),
        (
            "GET",
            "/admin/dashboard",
            None,
            "200",
            Some("DashboardResponse"),
        ),
        ("GET", "/admin/users", None, "200", Some("UsersPage")),
        ("GET", "/admin/users/{id}", None, "200", Some("PublicUser")),
        (
            "PUT",
            "/admin/users/{id}/roles",
            Some("SetRolesRequest"),
            "200",
            Some("PublicUser"),
        ),
        (
            "POST",
            "/admin/users/{id}/disable",
            None,
            "200",
            Some("PublicUser"),
        ),
        (
            "POST",
            "/admin/users/{id}/enable",
            None,
            "200",
            Some("PublicUser"),
        ),
        ("GET", "/admin/audit", None, "200", Some("AuditResponse")),
        ("GET", "/admin/keys", None, "200", Some("KeysResponse")),
        (
            "POST",
            "/admin/keys/rotate",
            None,
            "200",
            Some("RotateKeysResponse"),
        ),
        (
            "POST",
            "/admin/clients",
            Some("CreateClientRequest"),
            "201",
            Some("CreateClientResponse"),
        ),
        (
            "POST",
            "/admin/clients/{id}/disable",
            None,
            "200",
            Some("ServiceClientInfo"),
        ),
        (
            "POST",
            "/admin/clients/{id}/enable",
            None,
            "200",
            Some("ServiceClientInfo"),
        ),
        (
            "POST",
            "/oauth/token",
            Some("TokenRequest"),
            "200",
            Some("OAuthTokenResponse"),
        ),
        (
            "POST",
            "/oauth/introspect",
            Some("IntrospectRequest"),
            "200",
            Some("IntrospectionResponse"),
        ),
        ("POST", "/oauth/revoke", Some("RevokeRequest"), "200", None),
        ("GET", "/.well-known/jwks.json", None, "200", Some("Jwks")),
        (
            "GET",
            "/.well-known/openid-configuration",
            None,
            "200",
            Some("OpenIdConfiguration"),
        ),
        ("GET", "/healthz", None, "200", Some("HealthResponse")),
        ("GET", "/readyz", None, "200", Some("ReadyResponse")),
    ];
    for (method, path, request, status, response) in bodies {
        let op = operation(&doc, method, path);
        match request {
            Some(name) => {
                let content = op["requestBody"]["content"].as_object().unwrap();
                let types: BTreeSet<&str> = content.keys().map(String::as_str).collect();
                let expected = if path.starts_with("/oauth/") {
                    BTreeSet::from(["application/json", "application/x-www-form-urlencoded"])
                } else {
                    BTreeSet::from(["application/json"])
                };
                assert_eq!(types, expected, "{method} {path} content types");
                for media in content.values() {
                    assert_eq!(
                        media["schema"]["$ref"],
                        format!("#/components/schemas/{name}"),
                        "{method} {path} request body"
                    );
                }
                schema_of(&doc, name);
            }
            None => assert!(op["requestBody"].is_null(), "{method} {path} takes no body"),
        }
        let success = &op["responses"][status];
        assert!(success.is_object(), "{method} {path} documents {status}");
        if let Some(name) = response {
            assert_eq!(
                success["content"]["application/json"]["schema"]["$ref"],
                format!("#/components/schemas/{name}"),
                "{method} {path} {status} body"
            );
            schema_of(&doc, name);
        }
    }
    // Logout's body may be left out, but is never `null`.
    assert_ne!(
        operation(&doc, "POST", "/auth/logout")["requestBody"]["required"],
        true
    );

    // Query parameters of the admin listings.
    for (path, names) in [
        ("/admin/users", vec!["limit", "after", "q"]),
        ("/admin/audit", vec!["user_id", "kind", "since", "limit"]),
    ] {
        let params: Vec<&str> = operation(&doc, "GET", path)["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .inspect(|p| assert_eq!(p["in"], "query"))
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(params, names, "{path} query parameters");
    }

    // Security: the schemes, the permission of each admin operation, Bearer
    // on the caller's own routes, client authentication on OAuth.
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["type"], "http");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["bearer"]["bearerFormat"], "JWT");
    assert_eq!(schemes["client_basic"]["type"], "http");
    assert_eq!(schemes["client_basic"]["scheme"], "basic");
    for (method, path, permission) in [
        ("GET", "/admin/dashboard", "admin:read"),
        ("GET", "/admin/users", "users:read"),
        ("GET", "/admin/users/{id}", "users:read"),
        ("PUT", "/admin/users/{id}/roles", "users:write"),
        ("POST", "/admin/users/{id}/disable", "users:write"),
        ("POST", "/admin/users/{id}/enable", "users:write"),
        ("GET", "/admin/audit", "audit:read"),
        ("GET", "/admin/keys", "keys:read"),
        ("POST", "/admin/keys/rotate", "keys:write"),
        ("POST", "/admin/clients", "clients:write"),
        ("POST", "/admin/clients/{id}/disable", "clients:write"),
        ("POST", "/admin/clients/{id}/enable", "clients:write"),
    ] {
        let op = operation(&doc, method, path);
        assert_eq!(op["security"], json!([{"bearer": [permission]}]), "{path}");
        assert!(
            op["description"].as_str().unwrap().contains(permission),
            "{method} {path} names {permission}"
        );
        let forbidden = op["responses"]["403"]["description"].as_str().unwrap();
        assert!(
            forbidden.contains("insufficient_scope"),
            "{path}: {forbidden}"
        );
    }
    for (method, path) in [
        ("POST", "/auth/logout"),
        ("GET", "/me"),
        ("GET", "/auth/sessions"),
        ("DELETE", "/auth/sessions/{id}"),
    ] {
        let op = operation(&doc, method, path);
        assert_eq!(op["security"], json!([{"bearer": []}]), "{path}");
        let unauthorized = op["responses"]["401"]["description"].as_str().unwrap();
        assert!(
            unauthorized.contains("invalid_token"),
            "{path}: {unauthorized}"
        );
    }
    for path in ["/oauth/token", "/oauth/introspect", "/oauth/revoke"] {
        let security = operation(&doc, "POST", path)["security"]
            .as_array()
            .unwrap();
        assert!(security.contains(&json!({"client_basic": []})), "{path}");
        let unauthorized = operation(&doc, "POST", path)["responses"]["401"]["description"]
            .as_str()
            .unwrap();
        assert!(unauthorized.contains("invalid_client"), "{path}");
    }
    let login = operation(&doc, "POST", "/auth/login");
    let limited = &login["responses"]["429"];
    assert!(
        limited["description"]
            .as_str()
            .unwrap()
            .contains("rate_limited")
    );
    assert!(limited["headers"]["Retry-After"].is_object());
}
