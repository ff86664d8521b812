//! The in-process authgate, the counting proxy in front of its JWKS, and
//! guards that read the server's clock.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use authgate_guard::{Guard, JwksSettings, VerifierConfig};
use authgate_testkit::{TestApp, TestUser};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Request, Response, StatusCode, Uri};
use serde_json::Value;

/// The audience authgate's logins get by default (`tokens.audiences.default`).
pub(crate) const AUDIENCE: &str = "authgate";

/// A proxy on 127.0.0.1 that forwards GETs to authgate and counts the JWKS
/// requests that pass through it.
#[derive(Debug, Clone)]
pub(crate) struct CountingProxy {
    /// Where it listens.
    pub(crate) address: SocketAddr,
    /// Shared with the proxy's handler.
    state: Arc<ProxyState>,
}

#[derive(Debug)]
struct ProxyState {
    upstream: Mutex<String>,
    jwks_requests: AtomicUsize,
    client: reqwest::Client,
}

impl CountingProxy {
    /// A proxy forwarding to `upstream` (`http://127.0.0.1:PORT`).
    pub(crate) async fn start(upstream: &str) -> Self {
        let state = Arc::new(ProxyState {
            upstream: Mutex::new(upstream.to_owned()),
            jwks_requests: AtomicUsize::new(0),
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
        });
        let router = Router::new().fallback(forward).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { address, state }
    }

    /// The JWKS URL through the proxy.
    pub(crate) fn jwks_url(&self) -> String {
        format!("http://{}/.well-known/jwks.json", self.address)
    }

    /// Forwards to `upstream` from now on (a dead address plays authgate down).
    pub(crate) fn set_upstream(&self, upstream: &str) {
        *self.state.upstream.lock().unwrap() = upstream.to_owned();
    }

    /// JWKS requests forwarded so far.
    pub(crate) fn jwks_requests(&self) -> usize {
        self.state.jwks_requests.load(Ordering::SeqCst)
    }
}

async fn forward(
    State(state): State<Arc<ProxyState>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response<Body> {
    if uri.path() == "/.well-known/jwks.json" {
        state.jwks_requests.fetch_add(1, Ordering::SeqCst);
    }
    let upstream = state.upstream.lock().unwrap().clone();
    let mut request = state.client.get(format!("{upstream}{uri}"));
    if let Some(etag) = headers.get("if-none-match") {
        request = request.header("if-none-match", etag.as_bytes());
    }
    let Ok(answer) = request.send().await else {
        return Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .body(Body::empty())
            .unwrap();
    };
    let mut response = Response::builder().status(answer.status().as_u16());
    for name in ["cache-control", "etag", "content-type"] {
        if let Some(value) = answer.headers().get(name) {
            response = response.header(name, value.as_bytes());
        }
    }
    response
        .body(Body::from(answer.bytes().await.unwrap()))
        .unwrap()
}

/// JWKS settings for tests: no background task, the rest the defaults.
pub(crate) fn manual_settings() -> JwksSettings {
    let mut settings = JwksSettings::default();
    settings.background_refresh = false;
    settings
}

/// A guard for `app`'s issuer and default audience, fetching its JWKS from
/// `jwks_url` on the server's clock, with the example's permissions.
pub(crate) fn guard_for(app: &TestApp, jwks_url: &str) -> Guard {
    Guard::builder(VerifierConfig::new(
        app.state.auth.settings().issuer.clone(),
        AUDIENCE,
    ))
    .jwks_url(jwks_url)
    .jwks_settings(manual_settings())
    .clock(app.clock.clone())
    .permissions(resource_server::permissions())
    .build()
    .unwrap()
}

/// A new user holding `roles` (beside `user`), with an access token that carries them.
pub(crate) async fn user_with_roles(app: &TestApp, roles: &[&str]) -> (TestUser, String) {
    let user = app.new_user().await;
    let mut all = vec!["user".to_owned()];
    all.extend(roles.iter().map(|r| (*r).to_owned()));
    app.store()
        .await
        .set_roles(user.user.id, &all, app.now())
        .await
        .unwrap()
        .expect("the user exists");
    let access = app.login_ok(&user.email, &user.password).await.access_token;
    (user, access)
}

/// A GET of `path` with an optional Authorization header.
pub(crate) fn request(path: &str, authorization: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.body(Body::empty()).unwrap()
}

pub(crate) fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Status, WWW-Authenticate and the body (JSON when it parses) of a response.
pub(crate) async fn read(response: Response<Body>) -> (u16, Option<String>, Value) {
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, challenge, body)
}

pub(crate) const BARE: &str = r#"Bearer realm="authgate""#;
pub(crate) const INVALID_TOKEN: &str = r#"Bearer realm="authgate", error="invalid_token""#;
pub(crate) const INSUFFICIENT: &str = r#"Bearer realm="authgate", error="insufficient_scope""#;
