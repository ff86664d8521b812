//! The app's four routes: `/` (who is signed in, their claims), `/login`
//! (off to authgate), `/callback` (back from it with a code), `/logout`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value};

use crate::page::{self, escape};
use crate::pkce;
use crate::provider::{Provider, RelyingParty};

/// How long a sign-in may take between `/login` and `/callback`.
const PENDING_FOR: Duration = Duration::from_secs(600);
/// At most this many sign-ins in flight: an attacker hammering `/login`
/// cannot grow memory without bound.
const MAX_PENDING: usize = 10_000;
const LOGIN_COOKIE: &str = "rp_login";
const SESSION_COOKIE: &str = "rp_session";

/// The app's state: the provider, this app's registration, the sign-ins in
/// flight and the signed-in sessions (in memory: this is an example).
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    provider: Provider,
    rp: RelyingParty,
    /// By `state`: what the callback needs to finish that sign-in.
    pending: Mutex<HashMap<String, Pending>>,
    /// By session cookie: who is signed in.
    sessions: Mutex<HashMap<String, SignedIn>>,
}

struct Pending {
    nonce: String,
    verifier: String,
    started: Instant,
}

struct SignedIn {
    claims: Map<String, Value>,
    id_token: String,
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState")
            .field("issuer", &self.inner.provider.issuer)
            .field("client_id", &self.inner.rp.client_id)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The state of an app registered as `rp` at `provider`.
    pub fn new(provider: Provider, rp: RelyingParty) -> Self {
        Self {
            inner: Arc::new(Inner {
                provider,
                rp,
                pending: Mutex::new(HashMap::new()),
                sessions: Mutex::new(HashMap::new()),
            }),
        }
    }
}

/// The app's router.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/callback", get(callback))
        .route("/logout", get(logout))
        .with_state(state)
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(n, v)| (n == name).then_some(v))
}

fn set_cookie(name: &str, value: &str, max_age: Option<u64>) -> String {
    let age = max_age.map_or(String::new(), |s| format!("; Max-Age={s}"));
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax{age}")
}

fn redirect(to: &str, cookies: &[String]) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(LOCATION, to.to_owned())]).into_response();
    for c in cookies {
        if let Ok(value) = c.parse() {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let sessions = state
        .inner
        .sessions
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let Some(signed_in) = cookie(&headers, SESSION_COOKIE).and_then(|id| sessions.get(id)) else {
        return page::render(
            StatusCode::OK,
            "Example relying party",
            "<p>Nobody is signed in.</p><p><a href=\"/login\">Sign in with authgate</a></p>",
        );
    };
    let claims = &signed_in.claims;
    let who = ["name", "email", "sub"]
        .iter()
        .find_map(|k| claims.get(*k).and_then(Value::as_str))
        .unwrap_or("someone");
    let rows: String = claims
        .iter()
        .map(|(name, value)| {
            let shown = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            format!(
                "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                escape(name),
                escape(&shown)
            )
        })
        .collect();
    page::render(
        StatusCode::OK,
        "Example relying party",
        &format!(
            "<p role=\"status\">Signed in as <strong>{}</strong>.</p>\
             <table><caption>Your ID token's claims, verified against authgate's JWKS</caption>{rows}</table>\
             <p><a href=\"/logout\">Sign out</a></p>",
            escape(who)
        ),
    )
}

async fn login(State(state): State<AppState>) -> Response {
    let (Ok(st), Ok(nonce), Ok(verifier)) = (
        pkce::random_token(),
        pkce::random_token(),
        pkce::random_token(),
    ) else {
        return page::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "No random numbers: try again.",
        );
    };
    let url = state
        .inner
        .provider
        .authorization_url(&state.inner.rp, &st, &nonce, &verifier);
    {
        let mut pending = state
            .inner
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        pending.retain(|_, p| p.started.elapsed() < PENDING_FOR);
        if pending.len() >= MAX_PENDING {
            return page::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many sign-ins at once: try again in a minute.",
            );
        }
        pending.insert(
            st.clone(),
            Pending {
                nonce,
                verifier,
                started: Instant::now(),
            },
        );
    }
    redirect(
        &url,
        &[set_cookie(LOGIN_COOKIE, &st, Some(PENDING_FOR.as_secs()))],
    )
}

async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let inner = &state.inner;
    // The state must be the one this browser was given at /login.
    let (Some(st), Some(ours)) = (query.get("state"), cookie(&headers, LOGIN_COOKIE)) else {
        return page::error(
            StatusCode::BAD_REQUEST,
            "This sign-in was not started in this browser.",
        );
    };
    if aws_lc_rs::constant_time::verify_slices_are_equal(st.as_bytes(), ours.as_bytes()).is_err() {
        return page::error(
            StatusCode::BAD_REQUEST,
            "This sign-in was not started in this browser.",
        );
    }
    let pending = inner
        .pending
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(st);
    let Some(pending) = pending.filter(|p| p.started.elapsed() < PENDING_FOR) else {
        return page::error(
            StatusCode::BAD_REQUEST,
            "This sign-in is unknown, expired or already finished.",
        );
    };
    // RFC 9207: the answer must come from the provider we asked (mix-up defence).
    if query.get("iss") != Some(&inner.provider.issuer) {
        return page::error(
            StatusCode::BAD_REQUEST,
            "The answer did not come from the expected issuer.",
        );
    }
    if let Some(error) = query.get("error") {
        return page::error(
            StatusCode::BAD_REQUEST,
            &format!("authgate answered: {error}"),
        );
    }
    let Some(code) = query.get("code") else {
        return page::error(StatusCode::BAD_REQUEST, "The answer has no code.");
    };
    let tokens = match inner
        .provider
        .exchange(&inner.rp, code, &pending.verifier)
        .await
    {
        Ok(tokens) => tokens,
        Err(err) => return page::error(StatusCode::BAD_GATEWAY, &format!("{err:#}")),
    };
    let claims = match inner
        .provider
        .verify_id_token(&inner.rp, &tokens, &pending.nonce)
        .await
    {
        Ok(claims) => claims,
        Err(err) => return page::error(StatusCode::BAD_GATEWAY, &format!("{err:#}")),
    };
    let Ok(session) = pkce::random_token() else {
        return page::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "No random numbers: try again.",
        );
    };
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    tracing::info!(%sub, "signed in");
    inner
        .sessions
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(
            session.clone(),
            SignedIn {
                claims,
                id_token: tokens.id_token,
            },
        );
    redirect(
        "/",
        &[
            set_cookie(SESSION_COOKIE, &session, None),
            set_cookie(LOGIN_COOKIE, "", Some(0)),
        ],
    )
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let ended = cookie(&headers, SESSION_COOKIE).and_then(|id| {
        state
            .inner
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id)
    });
    let clear = set_cookie(SESSION_COOKIE, "", Some(0));
    match ended {
        // Ends authgate's browser session too (RP-initiated logout), then back to `/`.
        Some(signed_in) => redirect(
            &state
                .inner
                .provider
                .logout_url(&state.inner.rp, &signed_in.id_token),
            &[clear],
        ),
        None => redirect("/", &[clear]),
    }
}
