//! A fake authgate server behind the [`Transport`] trait, for unit tests of
//! the store, refresh and error logic without a network.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use authgate_jwt::{Algorithm, SigningKey, sign};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::error::Error;
use crate::store::tests::user;
use crate::transport::{HttpRequest, HttpResponse, Transport};
use authgate_proto::clock::{Clock, ManualClock};

/// How long the fake's access tokens live.
pub(crate) const ACCESS_TTL: i64 = 900;

/// The server's default refresh-reuse grace (docs/http-api.md), in seconds.
pub(crate) const REUSE_GRACE: i64 = 10;

/// The one password the fake accepts.
pub(crate) const PASSWORD: &str = "right-password";

/// How the fake answers `POST /auth/refresh`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefreshMode {
    /// Rotates the refresh token and issues a new access token.
    Rotate,
    /// 503 `unavailable`.
    Unavailable,
    /// This status, with a docs/http-api.md body of this code, or without one
    /// (an HTML page, as a proxy sends).
    Refuse(u16, Option<&'static str>),
}

/// The latest rotation, for docs/http-api.md's reuse grace.
#[derive(Debug, Clone)]
struct Rotation {
    /// The refresh token that was rotated.
    parent: String,
    /// Its successor.
    successor: String,
    /// When, by the fake's clock.
    at: i64,
}

/// What the fake does once before answering a request to a path, as if
/// another part of the program acted while the request was on the wire.
pub(crate) struct Hook {
    /// The path whose next request triggers it.
    path: &'static str,
    /// The action.
    action: Box<dyn FnOnce() + Send>,
}

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hook").field("path", &self.path).finish()
    }
}

/// The fake server's state, shared with the test through an `Arc`.
#[derive(Debug)]
pub(crate) struct FakeServer {
    /// The server's (and the test client's) clock.
    pub(crate) clock: Arc<ManualClock>,
    /// Signs access tokens, so `exp` is a real claim.
    key: SigningKey,
    /// Requests received, by path.
    calls: Mutex<HashMap<String, u32>>,
    /// The access token `/me` accepts, and the refresh token `/auth/refresh` accepts.
    current: Mutex<(String, String)>,
    /// Numbers tokens, so each is distinct.
    serial: AtomicU64,
    /// The latest refresh, whose parent token is answered again within
    /// the grace and revokes the session after it.
    rotation: Mutex<Option<Rotation>>,
    /// The timeout of the latest request, by path.
    timeouts: Mutex<HashMap<String, Option<Duration>>>,
    /// How many of the next refresh responses are lost: the fake acts on
    /// the request, but the client gets a transport error (a timeout).
    pub(crate) lose_refresh_responses: AtomicU32,
    /// What refresh does.
    pub(crate) refresh_mode: Mutex<RefreshMode>,
    /// When set, `/me` answers 401 whatever the token.
    pub(crate) reject_all: AtomicBool,
    /// Refresh responses wait for a permit here when `hold_refresh` is set.
    pub(crate) gate: Semaphore,
    /// Whether refresh waits at the gate.
    pub(crate) hold_refresh: AtomicBool,
    /// Runs before the next response to its path.
    hook: Mutex<Option<Hook>>,
}

impl FakeServer {
    /// A fake at `now` = 1 800 000 000 with no session.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            clock: Arc::new(ManualClock::at_unix(1_800_000_000)),
            key: SigningKey::generate(Algorithm::HS256).unwrap(),
            calls: Mutex::new(HashMap::new()),
            current: Mutex::new((String::new(), String::new())),
            serial: AtomicU64::new(0),
            rotation: Mutex::new(None),
            timeouts: Mutex::new(HashMap::new()),
            lose_refresh_responses: AtomicU32::new(0),
            refresh_mode: Mutex::new(RefreshMode::Rotate),
            reject_all: AtomicBool::new(false),
            gate: Semaphore::new(0),
            hold_refresh: AtomicBool::new(false),
            hook: Mutex::new(None),
        })
    }

    /// Runs `action` once, before answering the next request to `path`.
    pub(crate) fn before_response(
        &self,
        path: &'static str,
        action: impl FnOnce() + Send + 'static,
    ) {
        *self.hook.lock().unwrap() = Some(Hook {
            path,
            action: Box::new(action),
        });
    }

    /// How many requests reached `path`.
    pub(crate) fn calls(&self, path: &str) -> u32 {
        self.calls.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    /// The timeout the latest request to `path` asked for.
    pub(crate) fn timeout(&self, path: &str) -> Option<Duration> {
        self.timeouts.lock().unwrap().get(path).copied().flatten()
    }

    /// The refresh token the fake accepts next.
    pub(crate) fn current_refresh(&self) -> String {
        self.current.lock().unwrap().1.clone()
    }

    /// Stops accepting the current access token (as after a key
    /// compromise), keeping the refresh token.
    pub(crate) fn reject_current_access(&self) {
        self.current.lock().unwrap().0 = "no access token is accepted".to_owned();
    }

    /// Issues a new pair and makes it the current one.
    pub(crate) fn issue(&self) -> (String, String) {
        let n = self.serial.fetch_add(1, Ordering::SeqCst);
        self.issue_with(format!("refresh-{n}"))
    }

    /// Issues a new access token with `refresh`, and makes them current.
    fn issue_with(&self, refresh: String) -> (String, String) {
        let n = self.serial.fetch_add(1, Ordering::SeqCst);
        let now = self.clock.unix();
        let access = sign(
            &self.key,
            Some("at+jwt"),
            &json!({"sub": "alice", "iat": now, "exp": now + ACCESS_TTL, "jti": n.to_string()}),
        )
        .unwrap();
        let pair = (access, refresh);
        *self.current.lock().unwrap() = pair.clone();
        pair
    }

    /// docs/http-api.md's rotation: the current refresh token gets a successor; its
    /// parent, within the grace, the same successor again; the parent
    /// after the grace revokes the session.
    fn rotate(&self, presented: &Value) -> Result<(String, String), HttpResponse> {
        let now = self.clock.unix();
        let mut rotation = self.rotation.lock().unwrap();
        if *presented == self.current_refresh() {
            let parent = self.current_refresh();
            let pair = self.issue();
            *rotation = Some(Rotation {
                parent,
                successor: pair.1.clone(),
                at: now,
            });
            return Ok(pair);
        }
        match rotation.clone() {
            Some(r) if *presented == r.parent && r.successor == self.current_refresh() => {
                if now - r.at <= REUSE_GRACE {
                    Ok(self.issue_with(r.successor))
                } else {
                    // Theft: no token of the session works any more.
                    *self.current.lock().unwrap() = ("revoked".to_owned(), "revoked".to_owned());
                    Err(error(401, "invalid_grant"))
                }
            }
            _ => Err(error(401, "invalid_grant")),
        }
    }

    fn respond(&self, request: &HttpRequest) -> HttpResponse {
        let body: Value = request
            .body
            .as_deref()
            .map(|b| serde_json::from_slice(b).unwrap())
            .unwrap_or(Value::Null);
        match request.path.as_str() {
            "/auth/login" if body["password"] == PASSWORD => {
                let (access, refresh) = self.issue();
                let user = serde_json::to_value(user(&["user"])).unwrap();
                ok(
                    json!({"access_token": access, "token_type": "Bearer", "expires_in": ACCESS_TTL,
                          "refresh_token": refresh, "refresh_expires_in": 86_400, "user": user}),
                )
            }
            "/auth/login" => error(401, "invalid_credentials"),
            "/auth/refresh" => {
                match *self.refresh_mode.lock().unwrap() {
                    RefreshMode::Rotate => {}
                    RefreshMode::Unavailable => return error(503, "unavailable"),
                    RefreshMode::Refuse(status, Some(code)) => return error(status, code),
                    RefreshMode::Refuse(status, None) => {
                        return HttpResponse {
                            status,
                            retry_after: None,
                            body: b"<html>Unauthorized</html>".to_vec(),
                        };
                    }
                }
                let (access, refresh) = match self.rotate(&body["refresh_token"]) {
                    Ok(pair) => pair,
                    Err(response) => return response,
                };
                ok(
                    json!({"access_token": access, "token_type": "Bearer", "expires_in": ACCESS_TTL,
                          "refresh_token": refresh, "refresh_expires_in": 86_400}),
                )
            }
            "/me" | "/auth/logout" => {
                let current = self.current.lock().unwrap().0.clone();
                let good = request.bearer.as_deref() == Some(current.as_str())
                    && !authgate_jwt::is_expired(&current, self.clock.unix())
                    && !self.reject_all.load(Ordering::SeqCst);
                match (good, request.path.as_str()) {
                    (false, _) => error(401, "invalid_token"),
                    (true, "/me") => {
                        let mut me = serde_json::to_value(user(&["user"])).unwrap();
                        me["session"] = json!({"id": "0193a5b2-8000-7000-8000-000000000001",
                            "created_at": "2026-11-22T10:00:00Z", "expires_at": "2026-12-22T10:00:00Z"});
                        ok(me)
                    }
                    (true, _) => ok(json!({"message": "Logged out."})),
                }
            }
            _ => error(404, "not_found"),
        }
    }
}

fn ok(body: Value) -> HttpResponse {
    HttpResponse {
        status: 200,
        retry_after: None,
        body: serde_json::to_vec(&body).unwrap(),
    }
}

fn error(status: u16, code: &str) -> HttpResponse {
    HttpResponse {
        status,
        retry_after: None,
        body: serde_json::to_vec(&json!({"error": code, "error_description": code})).unwrap(),
    }
}

/// The [`Transport`] that hands requests to a [`FakeServer`].
#[derive(Debug, Clone)]
pub(crate) struct FakeTransport(pub(crate) Arc<FakeServer>);

#[async_trait]
impl Transport for FakeTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        *self
            .0
            .calls
            .lock()
            .unwrap()
            .entry(request.path.clone())
            .or_default() += 1;
        self.0
            .timeouts
            .lock()
            .unwrap()
            .insert(request.path.clone(), request.timeout);
        if request.path == "/auth/refresh" && self.0.hold_refresh.load(Ordering::SeqCst) {
            self.0.gate.acquire().await.unwrap().forget();
        }
        // Let other tasks run between request and response, as a network would.
        tokio::task::yield_now().await;
        let hook = {
            let mut slot = self.0.hook.lock().unwrap();
            match slot.take() {
                Some(hook) if hook.path == request.path => Some(hook),
                other => {
                    *slot = other;
                    None
                }
            }
        };
        if let Some(hook) = hook {
            (hook.action)();
        }
        let response = self.0.respond(&request);
        let lost = request.path == "/auth/refresh"
            && self
                .0
                .lose_refresh_responses
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
        if lost {
            return Err(Error::Transport("operation timed out".to_owned()));
        }
        Ok(response)
    }
}
