//! Several instances on one store: the optional Redis of
//! `storage.redis_url` (docs/architecture.md, "Scaling out").
//!
//! Without Redis an instance announces nothing ([`NoBus`]) and counts login
//! attempts itself ([`LocalLimiter`]); other instances sharing the database
//! see its revocations at their next poll (the upkeep loop, every few
//! seconds) and its user and session changes within the record cache's
//! second. With Redis, login counters are shared and every revocation, user
//! change and key change is announced, and applied by every other instance
//! as soon as it arrives ([`follow`]). Redis is never needed for
//! correctness: while it is down the polling path and the local limiter do
//! the work, and `/readyz` reports it (200, `degraded`).

use std::sync::Arc;

use authgate_core::{
    Change, ChangeBus, Clock, LimitSettings, LocalLimiter, LoginLimiter, NoBus, Ping,
};
use authgate_store::{RedisBus, RedisLimiter, RedisStore};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::Settings;
use crate::state::AppState;

/// Announcements waiting to be applied; the subscription waits when full.
const PENDING: usize = 1024;

/// Why the Redis settings are unusable; the message never repeats the URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScaleoutError {
    /// `storage.redis_prefix` is empty.
    #[error("storage.redis_prefix must not be empty (its default is \"authgate:\")")]
    EmptyPrefix,
    /// `storage.redis_url` is not a usable Redis URL.
    #[error("storage.redis_url: {0}")]
    RedisUrl(#[source] authgate_core::StoreError),
}

/// What the instance shares with the others, and how.
pub(crate) struct Shared {
    /// Where its changes are announced.
    pub(crate) bus: Arc<dyn ChangeBus>,
    /// Login counters.
    pub(crate) limiter: Arc<dyn LoginLimiter>,
    /// Redis, for the readiness probe; `None` without Redis.
    pub(crate) redis: Option<Arc<dyn Ping>>,
}

/// The bus, limiter and probe the settings describe.
///
/// # Errors
/// [`ScaleoutError`] when `storage.redis_url` is not a usable Redis URL (the
/// message never repeats it) or `storage.redis_prefix` is empty. A Redis
/// that does not answer is not an error: the instance starts degraded.
pub(crate) fn open(settings: &Settings, clock: Arc<dyn Clock>) -> Result<Shared, ScaleoutError> {
    let limits = LimitSettings {
        login_per_ip_per_minute: settings.rate_limit.login_per_ip_per_minute,
        failures_before_delay: settings.rate_limit.account_failures_before_delay,
        account_wide_failures_before_delay: settings.rate_limit.account_wide_failures_before_delay,
    };
    let url = settings.storage.redis_url.trim();
    if url.is_empty() {
        return Ok(Shared {
            bus: Arc::new(NoBus),
            limiter: Arc::new(LocalLimiter::new(limits, clock)),
            redis: None,
        });
    }
    let prefix = &settings.storage.redis_prefix;
    if prefix.is_empty() {
        return Err(ScaleoutError::EmptyPrefix);
    }
    let redis = RedisStore::open(url, prefix).map_err(ScaleoutError::RedisUrl)?;
    tracing::info!(
        redis = redis.location(),
        prefix = redis.prefix(),
        "sharing revocations, login limits and changes through Redis"
    );
    Ok(Shared {
        bus: Arc::new(RedisBus::new(redis.clone(), clock.clone())),
        limiter: Arc::new(RedisLimiter::new(redis.clone(), limits, clock)),
        redis: Some(Arc::new(redis)),
    })
}

/// Applies the changes other instances announce, until aborted: revocations
/// and user changes to the in-process caches at once, key changes by
/// reloading the keys (as the upkeep poll would, only sooner).
pub(crate) fn follow(state: AppState) -> JoinHandle<()> {
    let (sink, mut changes) = mpsc::channel(PENDING);
    state.maintenance.subscribe(sink);
    tokio::spawn(async move {
        while let Some(change) = changes.recv().await {
            match change {
                Change::KeysChanged => state.sync_keys().await,
                change => state.maintenance.apply(&change),
            }
        }
    })
}
