//! [`RedisStore`]: the connection to Redis, the key prefix, and what
//! happens when Redis stops answering (a short back-off during which callers
//! use their fallback at once instead of waiting for another timeout).

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{Client, RedisError, RedisResult};
use async_trait::async_trait;
use authgate_core::{Ping, StoreError, StoreResult};

/// How long one command may take before Redis counts as down.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(1);

/// After a failure, how long callers skip Redis and use their fallback
/// before trying it again.
const BACKOFF: Duration = Duration::from_secs(1);

/// The default key prefix (`storage.redis_prefix`).
pub const DEFAULT_PREFIX: &str = "authgate:";

/// A Redis server shared by the instances: cheap to clone.
#[derive(Clone)]
pub struct RedisStore {
    /// Shared by the bus, the limiter and the readiness probe.
    inner: Arc<Inner>,
}

/// What the clones share.
struct Inner {
    /// Opens the pub/sub connections (one per subscription).
    client: Client,
    /// The command connection; reconnects by itself after a failure.
    manager: ConnectionManager,
    /// Prepended to every key and to the channel, so several deployments
    /// (or tests) can share one Redis.
    prefix: String,
    /// `redis://host:port/db`: the URL without credentials, for the operator.
    location: String,
    /// While set and in the future, Redis is skipped (it just failed).
    skip_until: Mutex<Option<Instant>>,
    /// Whether the last command failed: the warning is logged once per
    /// outage, and the recovery once.
    degraded: AtomicBool,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the URL as configured: it may hold a password.
        f.debug_struct("RedisStore")
            .field("location", &self.inner.location)
            .field("prefix", &self.inner.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Prepares a connection to the Redis server at `url` (`redis://` or
    /// `unix://`), with every key starting with `prefix`. Nothing is sent
    /// yet: an instance starts even while Redis is down, and connects when
    /// it comes back.
    ///
    /// # Errors
    /// [`StoreError::Other`] when the URL does not parse or names a scheme
    /// this build lacks (`rediss://`); the message never repeats the URL.
    pub fn open(url: &str, prefix: &str) -> StoreResult<Self> {
        let client = Client::open(url).map_err(|e| {
            StoreError::Other(format!(
                "the Redis URL is not a usable redis:// or unix:// URL ({:?})",
                e.kind()
            ))
        })?;
        let info = client.get_connection_info();
        let location = format!("redis://{}/{}", info.addr(), info.redis_settings().db());
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| StoreError::Other(format!("cannot set up the Redis connection: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                manager,
                prefix: prefix.to_owned(),
                location,
                skip_until: Mutex::new(None),
                degraded: AtomicBool::new(false),
            }),
        })
    }

    /// `redis://host:port/db`, without credentials.
    pub fn location(&self) -> &str {
        &self.inner.location
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// Whether the last command failed (the instance runs on its fallbacks).
    pub fn is_degraded(&self) -> bool {
        self.inner.degraded.load(Ordering::Relaxed)
    }

    /// `prefix` + `name`.
    pub(super) fn key(&self, name: &str) -> String {
        format!("{}{name}", self.inner.prefix)
    }

    /// The client, for pub/sub connections of their own.
    pub(super) fn client(&self) -> &Client {
        &self.inner.client
    }

    /// Runs `command` on the shared connection, or returns `None` at once
    /// while Redis is in back-off, or when it fails or takes too long (then
    /// the back-off starts). `what` names the caller's fallback in the log.
    pub(super) async fn run<T, F, Fut>(&self, what: &str, command: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        if self.skipping() {
            return None;
        }
        self.run_now(what, command).await
    }

    /// [`RedisStore::run`] even while in back-off: for a caller that has
    /// just reached Redis another way (a new subscription) and must not
    /// have its command skipped because of an older failure.
    pub(super) async fn run_now<T, F, Fut>(&self, what: &str, command: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let result = tokio::time::timeout(COMMAND_TIMEOUT, command(self.inner.manager.clone()))
            .await
            .map_err(|_| "timed out".to_owned())
            .and_then(|r| r.map_err(|e: RedisError| e.to_string()));
        match result {
            Ok(value) => {
                self.answered();
                Some(value)
            }
            Err(cause) => {
                self.failed(what, &cause);
                None
            }
        }
    }

    /// Whether Redis is in back-off after a failure.
    fn skipping(&self) -> bool {
        let skip = self
            .inner
            .skip_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        skip.is_some_and(|until| Instant::now() < until)
    }

    /// Notes that Redis answered; logs the recovery once.
    pub(super) fn answered(&self) {
        if self.inner.degraded.swap(false, Ordering::Relaxed) {
            tracing::info!(redis = %self.inner.location, "Redis answers again");
        }
    }

    /// Notes a failure: Redis is skipped for [`BACKOFF`]; logs once per outage.
    pub(super) fn failed(&self, what: &str, cause: &str) {
        *self
            .inner
            .skip_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now() + BACKOFF);
        if !self.inner.degraded.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                redis = %self.inner.location,
                error = %cause,
                "Redis does not answer; {what}, and retrying"
            );
        }
    }
}

#[async_trait]
impl Ping for RedisStore {
    async fn ping(&self) -> StoreResult<()> {
        // Always asks, back-off or not: readiness reports what is true now.
        let mut conn = self.inner.manager.clone();
        let answer = tokio::time::timeout(
            COMMAND_TIMEOUT,
            ::redis::cmd("PING").query_async::<String>(&mut conn),
        )
        .await;
        match answer {
            Ok(Ok(_)) => {
                self.answered();
                Ok(())
            }
            Ok(Err(e)) => Err(StoreError::Unavailable(format!("Redis: {e}"))),
            Err(_) => Err(StoreError::Unavailable("Redis: timed out".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_location_never_shows_the_password() {
        let store = RedisStore::open("redis://:hunter2@127.0.0.1:6390/3", "p:").unwrap();
        assert_eq!(store.location(), "redis://127.0.0.1:6390/3");
        assert!(!format!("{store:?}").contains("hunter2"));
    }

    #[tokio::test]
    async fn a_url_that_is_not_redis_is_refused_without_echoing_it() {
        let err = RedisStore::open("http://user:hunter2@example.com", "p:")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("redis://"), "{err}");
    }
}
