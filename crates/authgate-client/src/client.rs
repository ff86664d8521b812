//! [`Client`]: the store, the transport and the refresh logic put together.

use std::fmt;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use authgate_proto::ErrorBody;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::audit::{AuditKind, AuditLog, AuditRecord};
use crate::error::Error;
use crate::flight::Flight;
use crate::skew::ServerOffset;
use crate::store::AuthStore;
use crate::transport::{HttpRequest, HttpResponse, Method, Transport};
use authgate_proto::clock::{Clock, SystemClock};

/// How long before expiry the access token is refreshed: 60 s.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// A client of one authgate server for one user session.
///
/// Clones share everything (store, audit log, in-flight refresh), so a
/// program makes one and hands clones to its tasks. Requests that need an
/// access token refresh it first when less than the refresh margin is
/// left (after a failure that may pass, at most every 5 s while the old
/// token lasts), and once more after a 401; concurrent refreshes are merged
/// into one request.
#[derive(Clone)]
pub struct Client {
    /// Shared by every clone, and by a refresh running on behalf of all.
    pub(crate) inner: Arc<Inner>,
}

/// The parts of a [`Client`].
pub(crate) struct Inner {
    /// How requests reach the server.
    pub(crate) transport: Arc<dyn Transport>,
    /// The session's tokens and user.
    pub(crate) store: AuthStore,
    /// "Now", for the refresh margin and audit times.
    pub(crate) clock: Arc<dyn Clock>,
    /// Refresh when fewer seconds than this are left.
    pub(crate) refresh_margin: i64,
    /// Where audit records go (besides `tracing`).
    pub(crate) audit: AuditLog,
    /// The refresh in flight, which every caller needing one joins.
    pub(crate) flight: Mutex<Option<Flight>>,
    /// Unix seconds before which no proactive refresh is tried again, set
    /// when one failed for a reason that may pass.
    pub(crate) proactive_retry_at: AtomicI64,
    /// The server's clock minus ours, learnt from each token received.
    pub(crate) server_offset: Arc<ServerOffset>,
}

/// Builds a [`Client`]; every setting has a default.
#[derive(Debug)]
pub struct ClientBuilder {
    /// The transport to send requests with.
    transport: Arc<dyn Transport>,
    /// Defaults to a new, empty store.
    store: AuthStore,
    /// Defaults to [`SystemClock`].
    clock: Arc<dyn Clock>,
    /// Defaults to [`DEFAULT_REFRESH_MARGIN`].
    refresh_margin: Duration,
    /// Defaults to an [`AuditLog`] of the latest 100 records.
    audit: AuditLog,
}

impl ClientBuilder {
    /// Uses `store` (for example one a UI already subscribes to).
    #[must_use]
    pub fn store(mut self, store: AuthStore) -> Self {
        self.store = store;
        self
    }

    /// Uses `clock` for "now". Defaults to the system clock.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Refreshes when less than `margin` is left. Defaults to 60 s.
    #[must_use]
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// Records audit events into `log` (shared with the caller).
    #[must_use]
    pub fn audit_log(mut self, log: AuditLog) -> Self {
        self.audit = log;
        self
    }

    /// The client.
    pub fn build(self) -> Client {
        Client {
            inner: Arc::new(Inner {
                transport: self.transport,
                store: self.store,
                clock: self.clock,
                refresh_margin: i64::try_from(self.refresh_margin.as_secs()).unwrap_or(i64::MAX),
                audit: self.audit,
                flight: Mutex::new(None),
                proactive_retry_at: AtomicI64::new(i64::MIN),
                server_offset: Arc::default(),
            }),
        }
    }
}

impl Client {
    /// A client with every default (new store, system clock, 60 s margin).
    pub fn new(transport: impl Transport + 'static) -> Self {
        Self::builder(transport).build()
    }

    /// A builder for a client sending through `transport`.
    pub fn builder(transport: impl Transport + 'static) -> ClientBuilder {
        ClientBuilder {
            transport: Arc::new(transport),
            store: AuthStore::new(),
            clock: Arc::new(SystemClock),
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            audit: AuditLog::default(),
        }
    }

    /// The store holding this client's session.
    pub fn store(&self) -> &AuthStore {
        &self.inner.store
    }

    /// The audit log this client records into.
    pub fn audit_log(&self) -> &AuditLog {
        &self.inner.audit
    }

    /// "Now" by the client's clock, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.inner.clock.unix()
    }

    /// "Now" by the server's clock as far as the client knows it (the
    /// local clock corrected by the `iat` of the tokens received), in Unix
    /// seconds: what a token's `exp` is compared with.
    pub fn server_now(&self) -> i64 {
        self.inner.server_offset.server_time(self.now())
    }

    /// Sends a request without credentials.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<HttpResponse, Error> {
        self.inner
            .transport
            .send(HttpRequest {
                method,
                path: path.to_owned(),
                bearer: None,
                body,
                timeout: None,
            })
            .await
    }

    /// Sends a request with a fresh access token; after a 401 refreshes
    /// (or takes the token another caller just got) and tries once more.
    pub(crate) async fn authorized(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<HttpResponse, Error> {
        self.authorized_in(None, method, path, body).await
    }

    /// [`Client::authorized`], for session `only_in` alone when one is
    /// given: [`Error::NotAuthenticated`], sending nothing, when the
    /// current session is another.
    ///
    /// The retry after a 401 is made only in the session that got the 401:
    /// if a logout or a login changed the session meanwhile, the 401 is
    /// returned as it is, rather than the request sent again as whoever
    /// is logged in now.
    pub(crate) async fn authorized_in(
        &self,
        only_in: Option<u64>,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<HttpResponse, Error> {
        let (epoch, token) = self.session_token().await?;
        if only_in.is_some_and(|wanted| wanted != epoch) {
            return Err(Error::NotAuthenticated);
        }
        let request = HttpRequest {
            method,
            path: path.to_owned(),
            bearer: Some(token.clone()),
            body,
            timeout: None,
        };
        let response = self.inner.transport.send(request.clone()).await?;
        if response.status != 401 {
            return Ok(response);
        }
        let can_refresh = self
            .inner
            .store
            .session()
            .is_some_and(|s| s.epoch == epoch && s.tokens.refresh.is_some());
        if !can_refresh {
            return Ok(response);
        }
        let (refreshed_in, token) = self.refresh_after(Some((epoch, &token))).await?;
        if refreshed_in != epoch {
            return Ok(response);
        }
        self.inner
            .transport
            .send(HttpRequest {
                bearer: Some(token),
                ..request
            })
            .await
    }

    /// Appends an audit record stamped with the client's clock.
    pub(crate) fn audit(&self, kind: AuditKind, user: Option<String>, detail: Option<String>) {
        self.inner.audit.record(AuditRecord {
            at: self.now(),
            kind,
            user,
            detail,
        });
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("transport", &self.inner.transport)
            .field("store", &self.inner.store)
            .field("refresh_margin", &self.inner.refresh_margin)
            .finish_non_exhaustive()
    }
}

/// A value as a JSON request body.
pub(crate) fn json_body<T: Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|e| Error::UnexpectedResponse {
        status: 0,
        reason: format!("request body could not be written: {e}"),
    })
}

/// The body of a response with status `expected`, or the docs/http-api.md error it
/// carries instead.
pub(crate) fn parse<T: DeserializeOwned>(
    response: &HttpResponse,
    expected: u16,
) -> Result<T, Error> {
    check(response, expected)?;
    serde_json::from_slice(&response.body).map_err(|_| Error::UnexpectedResponse {
        status: response.status,
        reason: "the body is not the JSON that docs/http-api.md describes".to_owned(),
    })
}

/// `Ok` for status `expected`, else the docs/http-api.md error the response carries.
pub(crate) fn check(response: &HttpResponse, expected: u16) -> Result<(), Error> {
    if response.status == expected {
        return Ok(());
    }
    match serde_json::from_slice::<ErrorBody>(&response.body) {
        Ok(body) => Err(Error::api(response.status, body, response.retry_after)),
        Err(_) => Err(Error::UnexpectedResponse {
            status: response.status,
            reason: format!("expected {expected} or an error body of docs/http-api.md"),
        }),
    }
}

/// Recovers a poisoned lock: the guarded values are replaced whole.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
