//! [`RedisLimiter`]: login limits counted in Redis, so every instance counts
//! together; the same rules as [`LocalLimiter`], which takes over while
//! Redis does not answer.
//!
//! - Per address: GCRA, as the in-process limiter (governor) does: the
//!   theoretical arrival time in `<prefix>login:ip:<ip>`, advanced by one
//!   emission interval (a minute ÷ the limit) per attempt in one Lua script
//!   (atomic across instances). A burst of the whole limit is allowed, then
//!   one attempt per interval; unlike a fixed window, timing attempts around
//!   a minute boundary gains nothing. An IPv6 attempt also counts against
//!   its /56 and /48 (`<prefix>login:ip:<net>/<len>`), each with its
//!   multiple of the limit ([`IPV6_PREFIX_TIERS`](authgate_core::IPV6_PREFIX_TIERS)).
//! - Per account, two counters ([`AccountKey::counters`]): the account from
//!   one client address and the account from everywhere, each
//!   `<prefix>login:account:<sha256 of the counter's name>`, a hash of consecutive
//!   `failures` and `locked_until` (Unix ms), updated by one Lua script for
//!   both: each delay doubles from 1 s after its threshold
//!   (`failures_before_delay`, `account_wide_failures_before_delay`), capped
//!   at [`MAX_ACCOUNT_DELAY_SECS`], and a success deletes both. Attempts in
//!   flight are reservations in the sorted sets `<that key>:inflight` (member:
//!   the attempt id, score: when it lapses); starting one checks both delays
//!   and [`attempts_allowed`](authgate_core::attempts_allowed) and adds it in one script, so concurrent
//!   guesses on every instance together cannot outrun the delay.
//!
//! Time is the caller's [`Clock`] (passed to the scripts), not Redis's, so
//! tests move it; the keys expire in Redis's own time, long after they stop
//! mattering.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use ::redis::Script;
use ::redis::aio::ConnectionManager;
use async_trait::async_trait;
use authgate_core::{
    ATTEMPT_RESERVATION_SECS, AccountKey, Attempt, Clock, LimitSettings, LocalLimiter,
    LoginLimiter, MAX_ACCOUNT_DELAY_SECS, Refused, RetryAfter, wider_buckets,
};

use super::link::RedisStore;

/// What the fallback is, for the log line of an outage.
const FALLBACK: &str = "login limits are counted per instance meanwhile";

/// The per-address limit's period (ms): a minute.
const WINDOW_MS: f64 = 60_000.0;

/// How long an account's failures are kept after the last one (ms): a day,
/// as the in-process limiter does.
const FAILURES_KEPT_MS: i64 = 24 * 3600 * 1000;

/// GCRA. KEYS[1] the theoretical arrival time (ms); ARGV: now (ms), the
/// emission interval (ms), the burst window (ms: limit × interval).
/// Returns 0 when the attempt is allowed (and counted), else the ms to
/// wait. The key lives a minute past its arrival time in Redis's own
/// time, so a caller's clock that stands still (tests) is never undercut.
const COUNT_ATTEMPT: &str = r"
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + interval
-- A millisecond of slack: 60000 / limit is rarely exact, and the last
-- attempt of a full burst must not be refused for a rounding error.
if next_tat - now > window + 1 then
  return math.ceil(next_tat - now - window)
end
redis.call('SET', KEYS[1], string.format('%.17g', next_tat),
  'PX', math.ceil(next_tat - now) + 60000)
return 0
";

/// For each counter i, KEYS[2i-1] its hash and KEYS[2i] its attempts in
/// flight; ARGV: now (ms), attempt id, when its reservation lapses (ms), how
/// long Redis keeps the sets (ms), then each counter's threshold. Returns 0
/// when the attempt starts (reserved on every counter), the ms left while a
/// counter is delayed (the longest), or -1 while a counter has too many
/// attempts in flight (the rule of `attempts_allowed`).
const BEGIN_ATTEMPT: &str = r"
local now = tonumber(ARGV[1])
local wait, busy = 0, false
for i = 1, #KEYS / 2 do
  local hash, inflight = KEYS[2 * i - 1], KEYS[2 * i]
  redis.call('ZREMRANGEBYSCORE', inflight, '-inf', now)
  local locked = tonumber(redis.call('HGET', hash, 'locked_until') or '0')
  if locked - now > wait then
    wait = locked - now
  end
  local failures = tonumber(redis.call('HGET', hash, 'failures') or '0')
  local allowed = math.max(1, tonumber(ARGV[4 + i]) - failures)
  if redis.call('ZCARD', inflight) >= allowed then
    busy = true
  end
end
if wait > 0 then
  return wait
end
if busy then
  return -1
end
for i = 1, #KEYS / 2 do
  redis.call('ZADD', KEYS[2 * i], ARGV[3], ARGV[2])
  redis.call('PEXPIRE', KEYS[2 * i], ARGV[4])
end
return 0
";

/// For each counter i, KEYS[2i-1] its hash and KEYS[2i] its attempts in
/// flight; ARGV: now (ms), cap (s), expiry (ms), attempt id, then each
/// counter's threshold. Ends the attempt, counted by every counter.
const COUNT_FAILURE: &str = r"
for i = 1, #KEYS / 2 do
  local hash, inflight = KEYS[2 * i - 1], KEYS[2 * i]
  redis.call('ZREM', inflight, ARGV[4])
  local failures = redis.call('HINCRBY', hash, 'failures', 1)
  local threshold = tonumber(ARGV[4 + i])
  if failures >= threshold then
    local doublings = math.min(failures - threshold, 20)
    local secs = math.min(2 ^ doublings, tonumber(ARGV[2]))
    redis.call('HSET', hash, 'locked_until',
      string.format('%d', tonumber(ARGV[1]) + secs * 1000))
  end
  redis.call('PEXPIRE', hash, ARGV[3])
end
return 0
";

/// The shared [`LoginLimiter`]: counters in Redis, [`LocalLimiter`] while
/// Redis does not answer.
pub struct RedisLimiter {
    /// The connection and key prefix.
    redis: RedisStore,
    /// Counts while Redis is down (and only then).
    local: LocalLimiter,
    /// The limits.
    settings: LimitSettings,
    /// The time, shared with the rest of the server.
    clock: Arc<dyn Clock>,
    /// [`COUNT_ATTEMPT`], loaded once per Redis server (EVALSHA).
    count_attempt: Script,
    /// [`BEGIN_ATTEMPT`].
    begin_attempt: Script,
    /// [`COUNT_FAILURE`].
    count_failure: Script,
}

impl fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("redis", &self.redis)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl RedisLimiter {
    /// A limiter with `settings` on `redis`, time from `clock`.
    pub fn new(redis: RedisStore, settings: LimitSettings, clock: Arc<dyn Clock>) -> Self {
        Self {
            redis,
            local: LocalLimiter::new(settings, clock.clone()),
            settings,
            clock,
            count_attempt: Script::new(COUNT_ATTEMPT),
            begin_attempt: Script::new(BEGIN_ATTEMPT),
            count_failure: Script::new(COUNT_FAILURE),
        }
    }

    fn now_ms(&self) -> i64 {
        (self.clock.now().unix_timestamp_nanos() / 1_000_000) as i64
    }

    fn account_key(&self, account: &str) -> String {
        // Hashed: for unknown users the account is the typed identifier (an
        // email), which has no business in Redis key names or its logs.
        let digest = authgate_core::TokenHash::of(account);
        let hex: String = digest.0.iter().map(|b| format!("{b:02x}")).collect();
        self.redis.key(&format!("login:account:{hex}"))
    }

    /// The key of `account`'s attempts in flight, beside its failures.
    fn in_flight_key(account_key: &str) -> String {
        format!("{account_key}:inflight")
    }

    /// The Redis keys of `key`'s counters: (hash, attempts in flight,
    /// threshold) for each.
    fn counter_keys(&self, key: &AccountKey) -> Vec<(String, String, u32)> {
        key.counters(&self.settings)
            .into_iter()
            .map(|(name, threshold)| {
                let hash = self.account_key(&name);
                let in_flight = Self::in_flight_key(&hash);
                (hash, in_flight, threshold)
            })
            .collect()
    }

    /// Ends `attempt` in Redis without counting anything; `also_failures`
    /// forgets the counters' failures too (a success).
    async fn release(&self, key: &AccountKey, attempt: Attempt, also_failures: bool) {
        let counters = self.counter_keys(key);
        self.redis
            .run(FALLBACK, |mut conn: ConnectionManager| async move {
                let mut pipe = ::redis::pipe();
                pipe.atomic();
                for (hash, in_flight, _) in counters {
                    pipe.zrem(in_flight, attempt.id).ignore();
                    if also_failures {
                        pipe.del(hash).ignore();
                    }
                }
                pipe.query_async::<()>(&mut conn).await
            })
            .await;
    }
}

impl RedisLimiter {
    /// Counts one attempt against `limit` a minute under the key `name`
    /// ([`COUNT_ATTEMPT`]): `Some(0)` allowed, `Some(ms)` to wait, `None`
    /// when Redis did not answer.
    async fn count_attempt(&self, name: &str, limit: u32, now: i64) -> Option<i64> {
        let interval = WINDOW_MS / f64::from(limit);
        let key = self.redis.key(name);
        let script = &self.count_attempt;
        self.redis
            .run(FALLBACK, |mut conn: ConnectionManager| async move {
                script
                    .key(key)
                    .arg(now)
                    .arg(interval)
                    .arg(WINDOW_MS)
                    .invoke_async::<i64>(&mut conn)
                    .await
            })
            .await
    }
}

/// Whole seconds until `until_ms`, at least 1.
fn retry_after(until_ms: i64, now_ms: i64) -> RetryAfter {
    let ms = (until_ms - now_ms).max(1) as u64;
    RetryAfter(ms.div_ceil(1000).max(1))
}

#[async_trait]
impl LoginLimiter for RedisLimiter {
    async fn attempt_from(&self, ip: IpAddr) -> Result<(), RetryAfter> {
        let limit = self.settings.login_per_ip_per_minute;
        if limit == 0 {
            return Ok(());
        }
        let now = self.now_ms();
        // The address (its /64) first, then its wider prefixes with their
        // multiples of the limit: an attempt refused narrower costs the
        // wider ones nothing.
        let mut buckets = vec![(format!("login:ip:{ip}"), limit)];
        for (net, prefix, times) in wider_buckets(ip) {
            buckets.push((
                format!("login:ip:{net}/{prefix}"),
                limit.saturating_mul(times),
            ));
        }
        for (name, limit) in buckets {
            match self.count_attempt(&name, limit, now).await {
                Some(wait_ms) if wait_ms > 0 => return Err(retry_after(now + wait_ms, now)),
                Some(_) => {}
                None => return self.local.attempt_from(ip).await,
            }
        }
        Ok(())
    }

    async fn begin_attempt(&self, key: &AccountKey) -> Result<Attempt, Refused> {
        let counters = self.counter_keys(key);
        if counters.is_empty() {
            return Ok(Attempt::UNTRACKED);
        }
        let now = self.now_ms();
        let attempt = Attempt::fresh();
        let lapses = now + (ATTEMPT_RESERVATION_SECS * 1000) as i64;
        // Redis keeps the set a little past the last reservation in its own time.
        let kept_ms = (ATTEMPT_RESERVATION_SECS * 1000 + 60_000) as i64;
        let script = &self.begin_attempt;
        let answer = self
            .redis
            .run(FALLBACK, |mut conn: ConnectionManager| async move {
                let mut invocation = script.prepare_invoke();
                invocation.arg(now).arg(attempt.id).arg(lapses).arg(kept_ms);
                for (hash, in_flight, threshold) in counters {
                    invocation.key(hash).key(in_flight).arg(threshold);
                }
                invocation.invoke_async::<i64>(&mut conn).await
            })
            .await;
        match answer {
            Some(0) => Ok(attempt),
            Some(wait_ms) if wait_ms > 0 => Err(Refused::Delayed(retry_after(now + wait_ms, now))),
            Some(_) => Err(Refused::Busy),
            None => self.local.begin_attempt(key).await.map(|attempt| Attempt {
                fallback: true,
                ..attempt
            }),
        }
    }

    async fn record_failure(&self, key: &AccountKey, attempt: Attempt) {
        let counters = self.counter_keys(key);
        if counters.is_empty() {
            return;
        }
        let now = self.now_ms();
        let script = &self.count_failure;
        let counted = self
            .redis
            .run(FALLBACK, |mut conn: ConnectionManager| async move {
                let mut invocation = script.prepare_invoke();
                invocation
                    .arg(now)
                    .arg(MAX_ACCOUNT_DELAY_SECS)
                    .arg(FAILURES_KEPT_MS)
                    .arg(attempt.id);
                for (hash, in_flight, threshold) in counters {
                    invocation.key(hash).key(in_flight).arg(threshold);
                }
                invocation.invoke_async::<i64>(&mut conn).await
            })
            .await;
        // Counted first, released after: a reservation held in-process is
        // never free while its failure is not yet counted anywhere.
        match counted {
            Some(_) if attempt.fallback => self.local.abandon(key, attempt).await,
            Some(_) => {}
            None => self.local.record_failure(key, attempt).await,
        }
    }

    async fn record_success(&self, key: &AccountKey, attempt: Attempt) {
        // Both: failures counted locally during an outage are forgotten too.
        self.local.record_success(key, attempt).await;
        self.release(key, attempt, true).await;
    }

    async fn abandon(&self, key: &AccountKey, attempt: Attempt) {
        if attempt.fallback {
            self.local.abandon(key, attempt).await;
        } else if attempt.id != 0 {
            self.release(key, attempt, false).await;
        }
    }

    async fn prune(&self) {
        // Redis forgets by itself (every key has an expiry).
        self.local.prune().await;
    }
}
