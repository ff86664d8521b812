//! Keeping a [`Verifier`]'s keys in step with a JWKS URL: fetched at start,
//! refreshed in the background before the server's `Cache-Control` says
//! they go stale, refetched (at most once per interval) when a token names a
//! key we do not have, and kept in force while the server is unreachable.
//!
//! Verification never waits for any of this when the token's key is held:
//! the verifier's key set is swapped atomically after each fetch and read
//! without a lock. Only a token naming an unknown `kid` may wait, for one
//! fetch at most, and only when the refetch budget allows it (or a fetch
//! is already on its way).

mod schedule;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use authgate_jwt::{JwkSet, KeySet};
use reqwest::{StatusCode, Url, header};

pub use schedule::JwksSettings;
use schedule::Schedule;

use crate::http_client::{describe, ensure_not_redirected, read_bounded};
use crate::{Clock, GuardError, Verifier};

/// What a fetch brought.
enum Fetched {
    /// New keys, with the response's validator and lifetime.
    Keys {
        keys: KeySet,
        etag: Option<String>,
        max_age: Option<i64>,
    },
    /// `304 Not Modified`: the keys held are current.
    NotModified { max_age: Option<i64> },
}

/// Counters since the guard was built, for metrics and tests.
#[derive(Debug, Default)]
struct Counters {
    /// Requests sent to the JWKS URL.
    requests: AtomicU64,
    /// Of those, the ones that failed (unreachable, error status, bad document).
    failures: AtomicU64,
    /// Of those, the ones answered `304 Not Modified`.
    not_modified: AtomicU64,
    /// Refetches triggered by an unknown `kid` (each also counts as a request).
    unknown_kid_refetches: AtomicU64,
    /// Tokens refused because the keys were too stale.
    stale_refusals: AtomicU64,
}

/// The JWKS side of a guard: the URL, the schedule, and the verifier it feeds.
pub(crate) struct JwksSource {
    /// The JWKS document's URL.
    url: Url,
    /// The HTTP client (no proxy, no redirects, a timeout, unless given another).
    client: reqwest::Client,
    /// Receives each new key set.
    verifier: Arc<Verifier>,
    /// The time, for the schedule.
    clock: Arc<dyn Clock>,
    /// The schedule's bounds.
    settings: JwksSettings,
    /// Where the schedule stands; held only for short, non-async updates.
    schedule: Mutex<Schedule>,
    /// Held for the whole of a fetch: at most one request in flight, and
    /// others can wait for its outcome instead of sending their own.
    fetching: tokio::sync::Mutex<()>,
    /// Counts completed fetches, failed ones included, so a waiter can tell
    /// whether one finished while it waited (and not send its own).
    generation: AtomicU64,
    /// Counts fetches that loaded a key set into the verifier: only those
    /// make verifying a token again worth it. A failed fetch must not count,
    /// or a token would be refused as naming an unknown key (401) while no
    /// keys were ever loaded, when the honest answer is 503.
    loads: AtomicU64,
    /// See [`JwksStatus`].
    counters: Counters,
    /// Whether the keys are known to be too stale, so the change is logged
    /// once each way rather than on every request.
    stale: AtomicBool,
    /// When the last successful fetch completed (`i64::MIN`: never): the
    /// schedule's `fetched_at`, readable on every request without its lock.
    confirmed_at: AtomicI64,
}

impl JwksSource {
    pub(crate) fn new(
        url: Url,
        client: reqwest::Client,
        verifier: Arc<Verifier>,
        clock: Arc<dyn Clock>,
        settings: JwksSettings,
    ) -> Self {
        Self {
            url,
            client,
            verifier,
            clock,
            settings,
            schedule: Mutex::new(Schedule::default()),
            fetching: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            loads: AtomicU64::new(0),
            counters: Counters::default(),
            stale: AtomicBool::new(false),
            confirmed_at: AtomicI64::new(i64::MIN),
        }
    }

    fn schedule(&self) -> std::sync::MutexGuard<'_, Schedule> {
        self.schedule.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Fails closed once the keys held are older than `max_staleness_secs`
    /// (see [`JwksSettings`]): logged when it starts, counted per refusal,
    /// and shown in the `authgate_guard_jwks_stale` gauge (1 while stale).
    ///
    /// # Errors
    /// [`GuardError::StaleKeys`] while the keys are too stale.
    pub(crate) fn check_fresh(&self) -> Result<(), GuardError> {
        let confirmed_at = self.confirmed_at.load(Ordering::Acquire);
        let confirmed_at = (confirmed_at != i64::MIN).then_some(confirmed_at);
        if !schedule::too_stale(confirmed_at, self.clock.unix(), &self.settings) {
            return Ok(());
        }
        if !self.stale.swap(true, Ordering::AcqRel) {
            tracing::error!(
                url = %self.url,
                max_staleness_secs = self.settings.max_staleness_secs,
                "no JWKS fetch has succeeded within the maximum staleness; refusing every token (503) until one does"
            );
            metrics::gauge!("authgate_guard_jwks_stale").set(1.0);
        }
        self.counters.stale_refusals.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("authgate_guard_jwks_stale_refusals_total").increment(1);
        Err(GuardError::StaleKeys)
    }

    /// After a successful fetch at `now`: the keys are fresh again, if they were not.
    fn fresh_again(&self, now: i64) {
        self.confirmed_at.store(now, Ordering::Release);
        if self.stale.swap(false, Ordering::AcqRel) {
            tracing::info!(url = %self.url, "JWKS fetched again; tokens are accepted again");
            metrics::gauge!("authgate_guard_jwks_stale").set(0.0);
        }
    }

    /// Fetches now, after any fetch in flight.
    pub(crate) async fn refresh(&self) -> Result<(), GuardError> {
        let _fetching = self.fetching.lock().await;
        self.fetch_locked().await
    }

    /// Fetches if the schedule says a fetch is due: `Ok(true)` when it
    /// fetched, `Ok(false)` when nothing was due.
    pub(crate) async fn tick(&self) -> Result<bool, GuardError> {
        if self.clock.unix() < self.schedule().refresh_at {
            return Ok(false);
        }
        let _fetching = self.fetching.lock().await;
        // A fetch that finished while we waited has moved the schedule on.
        if self.clock.unix() < self.schedule().refresh_at {
            return Ok(false);
        }
        self.fetch_locked().await.map(|()| true)
    }

    /// Called when a token names a key id we do not hold. Returns whether a
    /// key set was loaded since, so that verifying again is worth it; a
    /// failed fetch or a `304 Not Modified` loads none.
    ///
    /// Within the refetch budget (one per `unknown_kid_interval_secs`) it
    /// fetches, or waits for the fetch already in flight. Over budget it
    /// still waits for a fetch in flight, which costs the server nothing,
    /// but never starts one.
    pub(crate) async fn unknown_kid(&self) -> bool {
        let seen_fetches = self.generation.load(Ordering::Acquire);
        let seen_loads = self.loads.load(Ordering::Acquire);
        let allowed = self
            .schedule()
            .allow_unknown_kid(self.clock.unix(), &self.settings);
        if allowed {
            self.counters
                .unknown_kid_refetches
                .fetch_add(1, Ordering::Relaxed);
            let _fetching = self.fetching.lock().await;
            // A fetch finished while we waited: its outcome is ours too,
            // success or failure; a second request would only add load.
            if self.generation.load(Ordering::Acquire) == seen_fetches {
                // A failure is logged and rescheduled by the fetch itself;
                // `loads` tells whether it brought keys.
                let _ = self.fetch_locked().await;
            }
        } else if let Err(_busy) = self.fetching.try_lock() {
            drop(self.fetching.lock().await);
        }
        self.loads.load(Ordering::Acquire) != seen_loads
    }

    /// One request to the JWKS URL and its effect on keys and schedule. The
    /// caller holds `fetching`.
    async fn fetch_locked(&self) -> Result<(), GuardError> {
        let etag = self.schedule().etag.clone();
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let outcome = self.request(etag.as_deref()).await;
        let now = self.clock.unix();
        let result = match outcome {
            Ok(Fetched::Keys {
                keys,
                etag,
                max_age,
            }) => {
                tracing::info!(url = %self.url, keys = keys.len(), max_age, "JWKS fetched");
                self.verifier.set_keys(keys);
                {
                    let mut schedule = self.schedule();
                    schedule.succeeded(now, max_age, &self.settings);
                    schedule.etag = etag;
                }
                // After the schedule: whoever sees the load also sees
                // `has_fetched`.
                self.loads.fetch_add(1, Ordering::Release);
                self.fresh_again(now);
                Ok(())
            }
            Ok(Fetched::NotModified { max_age }) => {
                self.counters.not_modified.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(url = %self.url, "JWKS not modified");
                self.schedule().succeeded(now, max_age, &self.settings);
                self.fresh_again(now);
                Ok(())
            }
            Err(reason) => {
                self.counters.failures.fetch_add(1, Ordering::Relaxed);
                let mut schedule = self.schedule();
                schedule.failed(now, &self.settings);
                tracing::warn!(
                    url = %self.url,
                    reason,
                    failures = schedule.failures,
                    retry_in = schedule.refresh_at - now,
                    "JWKS fetch failed; the keys held stay in force up to the maximum staleness"
                );
                Err(GuardError::Unavailable(reason))
            }
        };
        self.generation.fetch_add(1, Ordering::Release);
        result
    }

    /// Sends the request and reads the answer.
    async fn request(&self, etag: Option<&str>) -> Result<Fetched, &'static str> {
        let mut request = self
            .client
            .get(self.url.clone())
            .timeout(self.settings.timeout)
            .header(header::ACCEPT, "application/json");
        if let Some(etag) = etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        let response = request.send().await.map_err(|e| {
            tracing::debug!(error = %e, "JWKS request failed");
            describe(&e)
        })?;
        // Keys from anywhere but the configured URL are refused, whatever
        // the client (a caller's may follow redirects, even to plain http).
        ensure_not_redirected(&response, &self.url)?;
        let max_age = response
            .headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(schedule::max_age);
        match response.status() {
            StatusCode::NOT_MODIFIED if etag.is_some() => Ok(Fetched::NotModified { max_age }),
            StatusCode::OK => {
                let etag = response
                    .headers()
                    .get(header::ETAG)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body = read_bounded(response, self.settings.max_body_bytes).await?;
                let jwks: JwkSet = serde_json::from_slice(&body)
                    .map_err(|_| "the JWKS document is not a JWK Set")?;
                let keys = KeySet::from_jwks(&jwks)
                    .map_err(|_| "the JWKS document holds a malformed key")?;
                Ok(Fetched::Keys {
                    keys,
                    etag,
                    max_age,
                })
            }
            _ => Err("the JWKS endpoint answered an error status"),
        }
    }

    /// Seconds until the next scheduled fetch, at least 1.
    fn seconds_until_due(&self) -> u64 {
        let left = self.schedule().refresh_at.saturating_sub(self.clock.unix());
        u64::try_from(left).unwrap_or(0).max(1)
    }

    /// Whether a fetch has ever succeeded: before that, a token's unknown
    /// key says nothing about the token, only that the keys are missing.
    pub(crate) fn has_fetched(&self) -> bool {
        self.schedule().fetched_at.is_some()
    }

    /// Where things stand.
    pub(crate) fn status(&self) -> JwksStatus {
        let schedule = self.schedule().clone();
        JwksStatus {
            url: self.url.to_string(),
            key_ids: self.verifier.key_ids(),
            fetched_at: schedule.fetched_at,
            stale_at: schedule.stale_at,
            refresh_at: schedule.refresh_at,
            consecutive_failures: schedule.failures,
            requests: self.counters.requests.load(Ordering::Relaxed),
            failures: self.counters.failures.load(Ordering::Relaxed),
            not_modified: self.counters.not_modified.load(Ordering::Relaxed),
            unknown_kid_refetches: self.counters.unknown_kid_refetches.load(Ordering::Relaxed),
            stale_refusals: self.counters.stale_refusals.load(Ordering::Relaxed),
        }
    }
}

impl std::fmt::Debug for JwksSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksSource")
            .field("url", &self.url.as_str())
            .field("settings", &self.settings)
            .field("schedule", &*self.schedule())
            .finish_non_exhaustive()
    }
}

/// Starts the task that keeps `source` fresh: a fetch whenever the schedule
/// says one is due, sleeping in between. It holds the source weakly and
/// ends when the guard is dropped (the guard also aborts it).
pub(crate) fn spawn_refresher(
    source: &Arc<JwksSource>,
    runtime: &tokio::runtime::Handle,
) -> tokio::task::JoinHandle<()> {
    let weak: Weak<JwksSource> = Arc::downgrade(source);
    runtime.spawn(async move {
        loop {
            let Some(source) = weak.upgrade() else {
                return;
            };
            // A failure is logged and rescheduled by the fetch itself.
            let _ = source.tick().await;
            let wait = source.seconds_until_due();
            drop(source);
            tokio::time::sleep(Duration::from_secs(wait)).await;
        }
    })
}

/// Where a guard's JWKS stands: for health checks, metrics and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JwksStatus {
    /// The JWKS URL.
    pub url: String,
    /// The key ids held now.
    pub key_ids: Vec<String>,
    /// When the last successful fetch completed (Unix seconds); `None`
    /// until one has.
    pub fetched_at: Option<i64>,
    /// When the keys held go stale by the server's `Cache-Control`. Past it
    /// the keys still verify (a down server must not log everyone out) up
    /// to `max_staleness_secs` after `fetched_at`; a refresh has been due
    /// since a quarter of the lifetime before.
    pub stale_at: Option<i64>,
    /// When the next scheduled fetch is due (Unix seconds).
    pub refresh_at: i64,
    /// Failed fetches since the last success (the backoff's exponent).
    pub consecutive_failures: u32,
    /// Requests sent to the JWKS URL since the guard was built.
    pub requests: u64,
    /// Of those, the ones that failed.
    pub failures: u64,
    /// Of those, the ones answered `304 Not Modified`.
    pub not_modified: u64,
    /// Refetches triggered by a token with an unknown `kid`.
    pub unknown_kid_refetches: u64,
    /// Tokens refused (503) because the keys were past the maximum staleness.
    pub stale_refusals: u64,
}

/// A guard's JWKS fetcher, from [`Guard::jwks`](crate::Guard::jwks): to
/// fetch on demand, run one step of the schedule, or read its status.
#[derive(Debug, Clone)]
pub struct JwksHandle {
    /// The source it drives.
    pub(crate) source: Arc<JwksSource>,
}

impl JwksHandle {
    /// Fetches the JWKS now (after any fetch in flight), whatever the schedule.
    ///
    /// # Errors
    /// [`GuardError::Unavailable`] when the fetch failed; the keys held stay
    /// in force and a retry is scheduled.
    pub async fn refresh(&self) -> Result<(), GuardError> {
        self.source.refresh().await
    }

    /// One step of the schedule, as the background task runs it: fetches if
    /// a fetch is due by the guard's clock. `Ok(true)` when it fetched,
    /// `Ok(false)` when nothing was due.
    ///
    /// # Errors
    /// [`GuardError::Unavailable`] when a due fetch failed.
    pub async fn tick(&self) -> Result<bool, GuardError> {
        self.source.tick().await
    }

    /// Where things stand.
    pub fn status(&self) -> JwksStatus {
        self.source.status()
    }
}
