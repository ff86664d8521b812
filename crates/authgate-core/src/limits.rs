//! Brute-force protection for logins: a per-address limit on attempts and a
//! progressive delay after consecutive failures, per account and client
//! address and, with a much higher threshold, per account from everywhere.
//!
//! [`LoginLimiter`] is the seam: [`LocalLimiter`] keeps the counters in this
//! process (one instance); a shared implementation (Redis) makes several
//! instances count together.
//!
//! The per-account delay follows OWASP's advice against both guessing and
//! lock-out abuse: no permanent lock, a delay that doubles from 1 s after
//! `failures_before_delay` consecutive failures and is capped at 15 minutes,
//! reset by a successful login. Attempts refused while delayed do not count,
//! so a third party cannot grow a victim's delay beyond the cap.
//!
//! The delay is counted per account *and client address* ([`AccountKey`]):
//! a guesser from one address delays only that address, so the owner
//! logging in from another is not locked out by someone else's guesses.
//! A distributed guess (many addresses, a few tries each) is caught by the
//! account-wide count, the same rule with `account_wide_failures_before_delay`
//! (50 by default) failures from any address: it delays the account
//! everywhere, the owner included, which is the price of stopping it.
//!
//! A delay only starts once a failure is recorded, after the password hash
//! (tens of milliseconds). Checking first and counting afterwards would let
//! a burst of concurrent guesses all pass the check before the first
//! failure lands. So an attempt is a reservation: an account has at most as
//! many attempts in flight as failures remain before its delay (and one at
//! a time once delayed), each counted as soon as it ends; more wait for
//! one to end (the service does the waiting). Sequential logins never notice.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use governor::clock::Clock as GovernorClock;
use governor::nanos::Nanos;
use governor::{Quota, RateLimiter};

use uuid::Uuid;

use crate::clock::Clock;

/// The longest per-account delay.
pub const MAX_ACCOUNT_DELAY_SECS: u64 = 15 * 60;

/// Accounts tracked at most; beyond it, only accounts with recent failures
/// are kept, so a flood of made-up usernames cannot exhaust memory.
const MAX_TRACKED_ACCOUNTS: usize = 100_000;

/// How the login flow names an identifier that matches no user (followed by
/// its hash), as opposed to a real account's user id: the local limiter may
/// stop tracking the former under a flood, never the latter.
pub(crate) const UNKNOWN_ACCOUNT_PREFIX: &str = "login:";

/// What the limits are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    /// Login attempts per client address per minute, whatever their
    /// outcome; 0 turns the limit off. Defaults to 30.
    pub login_per_ip_per_minute: u32,
    /// Consecutive failures on an account from one client address before
    /// that address's logins on it are delayed; 0 turns the delay off.
    /// Defaults to 5.
    pub failures_before_delay: u32,
    /// Consecutive failures on an account from all addresses together
    /// before its logins are delayed from everywhere; 0 turns it off.
    /// Defaults to 50: ten times the per-address threshold, so one address
    /// alone needs hours of delayed guessing to reach it (docs/security.md).
    pub account_wide_failures_before_delay: u32,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            login_per_ip_per_minute: 30,
            failures_before_delay: 5,
            account_wide_failures_before_delay: 50,
        }
    }
}

/// A refusal: try again in this many whole seconds (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

/// Why an attempt on an account may not start now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The account is delayed after failures: not before this.
    Delayed(RetryAfter),
    /// As many attempts as may run at once are running; one ends soon.
    Busy,
}

/// How long an attempt's reservation lasts if it is never recorded (a
/// process that died mid-login): long past any real login, short enough
/// that a leak does not keep an account's owner out for long.
pub const ATTEMPT_RESERVATION_SECS: u64 = 60;

/// A login attempt in flight on an account, from
/// [`LoginLimiter::begin_attempt`] until it is recorded or abandoned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// Names the reservation; 0 for an attempt nothing was reserved for
    /// (the delay is off).
    pub id: u64,
    /// Set by a shared limiter when its in-process fallback holds the
    /// reservation (the shared store did not answer).
    pub fallback: bool,
}

impl Attempt {
    /// An attempt with a fresh random id (unique across instances).
    pub fn fresh() -> Self {
        Self {
            id: Uuid::now_v7().as_u64_pair().1 | 1,
            fallback: false,
        }
    }

    /// An attempt that reserved nothing: recording it only counts the outcome.
    pub const UNTRACKED: Self = Self {
        id: 0,
        fallback: false,
    };
}

/// The address whose per-address limit an attempt from `ip` counts
/// against: IPv4 addresses as they are, IPv6 by their /64, which is what
/// one subscriber (or one cloud instance) gets; counting each IPv6 address
/// alone would give a single host 2^64 quotas. IPv4-mapped IPv6 addresses
/// count as the IPv4 address.
pub fn address_bucket(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from_bits(
                v6.to_bits() & !((1u128 << 64) - 1),
            )),
        },
    }
}

/// Whose failures a login attempt counts toward: an account, as the login
/// flow names it, and the client address (bucket) it came from, if known.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountKey {
    /// The account: a user id or an unknown identifier's hash.
    pub account: String,
    /// The client's [`address_bucket`]; `None` when unknown (all such
    /// attempts share one per-address count).
    pub address: Option<IpAddr>,
}

impl AccountKey {
    /// `account` from `address`.
    pub fn new(account: impl Into<String>, address: Option<IpAddr>) -> Self {
        Self {
            account: account.into(),
            address,
        }
    }

    /// The name of the (account, address) counter: the account, a space
    /// (in no account name) and the address.
    pub fn per_address(&self) -> String {
        match self.address {
            Some(ip) => format!("{} {ip}", self.account),
            None => format!("{} -", self.account),
        }
    }

    /// The counters an attempt counts toward with `settings`, each with its
    /// threshold: (account, address), then the account from everywhere;
    /// those turned off (threshold 0) left out.
    pub fn counters(&self, settings: &LimitSettings) -> Vec<(String, u32)> {
        [
            (self.per_address(), settings.failures_before_delay),
            (
                self.account.clone(),
                settings.account_wide_failures_before_delay,
            ),
        ]
        .into_iter()
        .filter(|(_, threshold)| *threshold > 0)
        .collect()
    }
}

impl From<&str> for AccountKey {
    /// `account` from an unknown address.
    fn from(account: &str) -> Self {
        Self::new(account, None)
    }
}

/// The wider IPv6 prefixes an attempt also counts against, each with its
/// limit as a multiple of the per-address one: a /56 gets 4×, a /48 16×.
/// A /64 is one subscriber, but a provider hands out /56s and /48s, so one
/// holder of a /48 (65,536 /64s) would otherwise get 65,536 quotas; the
/// multiples leave room for a few busy neighbours behind the same prefix.
pub const IPV6_PREFIX_TIERS: [(u8, u32); 2] = [(56, 4), (48, 16)];

/// The wider buckets an attempt from `ip` also counts against, with the
/// multiple of the per-address limit each gets ([`IPV6_PREFIX_TIERS`]):
/// the /56 and /48 of an IPv6 address, none for IPv4 (or IPv4-mapped).
pub fn wider_buckets(ip: IpAddr) -> Vec<(IpAddr, u8, u32)> {
    let IpAddr::V6(v6) = ip else {
        return Vec::new();
    };
    if v6.to_ipv4_mapped().is_some() {
        return Vec::new();
    }
    IPV6_PREFIX_TIERS
        .iter()
        .map(|&(prefix, times)| {
            let mask = !((1u128 << (128 - u32::from(prefix))) - 1);
            let net = std::net::Ipv6Addr::from_bits(v6.to_bits() & mask);
            (IpAddr::V6(net), prefix, times)
        })
        .collect()
}

/// How many attempts on an account may be in flight at once after
/// `failures` consecutive failures: as many as remain before the delay
/// starts, and one once it has.
pub fn attempts_allowed(failures: u32, threshold: u32) -> usize {
    threshold.saturating_sub(failures).max(1) as usize
}

/// Counts login attempts and failures.
#[async_trait]
pub trait LoginLimiter: Send + Sync + fmt::Debug {
    /// Counts one login attempt from `ip`; refuses it when the address is
    /// over its limit.
    async fn attempt_from(&self, ip: IpAddr) -> Result<(), RetryAfter>;

    /// Starts an attempt on `key`: refused while one of its counters
    /// ([`AccountKey::counters`]) is delayed after failures
    /// ([`Refused::Delayed`]), or while one has [`attempts_allowed`]
    /// attempts already in flight ([`Refused::Busy`]: the caller may
    /// wait for one to end). The attempt must end in [`record_failure`](Self::record_failure),
    /// [`record_success`](Self::record_success) or [`abandon`](Self::abandon);
    /// one that never does expires after [`ATTEMPT_RESERVATION_SECS`].
    async fn begin_attempt(&self, key: &AccountKey) -> Result<Attempt, Refused>;

    /// Ends `attempt` on `key` as a failed login, counted by each counter.
    async fn record_failure(&self, key: &AccountKey, attempt: Attempt);

    /// Ends `attempt` on `key` as a successful login: the failures of its
    /// counters (this address's and the account-wide) are forgotten.
    async fn record_success(&self, key: &AccountKey, attempt: Attempt);

    /// Ends `attempt` without an outcome (the request failed or went away).
    async fn abandon(&self, key: &AccountKey, attempt: Attempt);

    /// Forgets what no longer matters (called periodically).
    async fn prune(&self) {}
}

/// Our [`Clock`] as governor's, so tests move rate-limit time too.
#[derive(Clone)]
struct ClockAdapter(Arc<dyn Clock>);

impl GovernorClock for ClockAdapter {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let nanos = self.0.now().unix_timestamp_nanos();
        Nanos::new(u64::try_from(nanos).unwrap_or(0))
    }
}

/// A keyed GCRA limiter on our clock.
type IpLimiter = RateLimiter<
    IpAddr,
    governor::state::keyed::DashMapStateStore<IpAddr>,
    ClockAdapter,
    governor::middleware::NoOpMiddleware<Nanos>,
>;

/// One account's failures and attempts in flight.
#[derive(Debug, Clone, Default)]
struct AccountState {
    /// Consecutive failures since the last success.
    failures: u32,
    /// Unix milliseconds before which logins are refused.
    locked_until_ms: i64,
    /// Unix milliseconds of the last failure, for pruning.
    last_failure_ms: i64,
    /// Attempts in flight: (id, Unix milliseconds when the reservation lapses).
    in_flight: Vec<(u64, i64)>,
}

impl AccountState {
    /// Whether the state says nothing worth keeping.
    fn is_idle(&self) -> bool {
        self.failures == 0 && self.in_flight.is_empty()
    }

    /// Whether to keep the state at `now`: failures since `horizon`, a
    /// delay still running, or an attempt whose reservation has not lapsed.
    fn worth_keeping(&self, now: i64, horizon: i64) -> bool {
        (self.failures > 0 && self.last_failure_ms > horizon)
            || self.locked_until_ms > now
            || self.in_flight.iter().any(|(_, lapses)| *lapses > now)
    }

    fn release(&mut self, attempt: Attempt) {
        if let Some(at) = self.in_flight.iter().position(|(id, _)| *id == attempt.id) {
            self.in_flight.swap_remove(at);
        }
    }
}

/// The in-process [`LoginLimiter`]: governor's GCRA per address, a map of
/// failure counts per account.
pub struct LocalLimiter {
    /// `None` when the per-address limit is off.
    per_ip: Option<IpLimiter>,
    /// One limiter per [`IPV6_PREFIX_TIERS`] entry (same order), keyed by
    /// the prefix; empty when the per-address limit is off.
    per_prefix: Vec<IpLimiter>,
    /// Account key → failures.
    accounts: Mutex<HashMap<String, AccountState>>,
    /// Unix milliseconds of the last sweep of a full map: at most one a
    /// second, or a flood of made-up usernames would make every login scan
    /// the whole map under its lock.
    swept_ms: AtomicI64,
    /// The limits.
    settings: LimitSettings,
    /// The time.
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for LocalLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalLimiter")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl LocalLimiter {
    /// A limiter with `settings` on `clock`.
    pub fn new(settings: LimitSettings, clock: Arc<dyn Clock>) -> Self {
        let limit = settings.login_per_ip_per_minute;
        let keyed = |n: NonZeroU32| {
            RateLimiter::dashmap_with_clock(Quota::per_minute(n), ClockAdapter(clock.clone()))
        };
        let per_ip = NonZeroU32::new(limit).map(keyed);
        let per_prefix = match NonZeroU32::new(limit) {
            Some(_) => IPV6_PREFIX_TIERS
                .iter()
                .filter_map(|&(_, times)| NonZeroU32::new(limit.saturating_mul(times)))
                .map(keyed)
                .collect(),
            None => Vec::new(),
        };
        Self {
            per_ip,
            per_prefix,
            accounts: Mutex::new(HashMap::new()),
            swept_ms: AtomicI64::new(i64::MIN),
            settings,
            clock,
        }
    }

    fn now_ms(&self) -> i64 {
        (self.clock.now().unix_timestamp_nanos() / 1_000_000) as i64
    }

    fn accounts(&self) -> std::sync::MutexGuard<'_, HashMap<String, AccountState>> {
        self.accounts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `account`'s state, created if need be; `None` when the map is full
    /// even after forgetting what no longer matters (a flood of made-up
    /// usernames must not exhaust memory). Only identifiers that match no
    /// user ([`UNKNOWN_ACCOUNT_PREFIX`]) can be turned away: real accounts,
    /// as many as the users table holds, are always tracked, or a flood of
    /// made-up names that filled the map would switch the per-account
    /// limit off for every real account.
    fn tracked<'a>(
        &self,
        accounts: &'a mut HashMap<String, AccountState>,
        account: &str,
        now: i64,
    ) -> Option<&'a mut AccountState> {
        if accounts.len() >= MAX_TRACKED_ACCOUNTS
            && account.starts_with(UNKNOWN_ACCOUNT_PREFIX)
            && !accounts.contains_key(account)
        {
            let swept = self.swept_ms.load(Ordering::Relaxed);
            if now.saturating_sub(swept) < 1000 {
                return None;
            }
            self.swept_ms.store(now, Ordering::Relaxed);
            // Under pressure, failures are kept only while they could still delay.
            let horizon = now - (MAX_ACCOUNT_DELAY_SECS * 1000) as i64;
            accounts.retain(|_, s| s.worth_keeping(now, horizon));
            if accounts.len() >= MAX_TRACKED_ACCOUNTS {
                tracing::warn!("too many accounts with failed logins to track; not counting more");
                return None;
            }
        }
        Some(accounts.entry(account.to_owned()).or_default())
    }
}

/// The delay after `failures` consecutive failures on a counter with
/// `threshold`, in milliseconds.
fn delay_ms(failures: u32, threshold: u32) -> i64 {
    if threshold == 0 || failures < threshold {
        return 0;
    }
    let doublings = (failures - threshold).min(20);
    let secs = (1u64 << doublings).min(MAX_ACCOUNT_DELAY_SECS);
    (secs * 1000) as i64
}

impl LocalLimiter {
    /// Counts one attempt of `key` on `limiter`, or says how long to wait.
    fn check(&self, limiter: &IpLimiter, key: IpAddr) -> Result<(), RetryAfter> {
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(ClockAdapter(self.clock.clone()).now());
            RetryAfter(wait.as_millis().div_ceil(1000).max(1) as u64)
        })
    }
}

/// Whole seconds until `until_ms`, at least 1.
fn retry_after(until_ms: i64, now_ms: i64) -> RetryAfter {
    let ms = (until_ms - now_ms).max(1) as u64;
    RetryAfter(ms.div_ceil(1000).max(1))
}

#[async_trait]
impl LoginLimiter for LocalLimiter {
    async fn attempt_from(&self, ip: IpAddr) -> Result<(), RetryAfter> {
        let Some(limiter) = &self.per_ip else {
            return Ok(());
        };
        // The narrowest first: an attempt its own address may not make
        // costs its wider prefixes nothing.
        self.check(limiter, ip)?;
        for (tier, (wider, _, _)) in self.per_prefix.iter().zip(wider_buckets(ip)) {
            self.check(tier, wider)?;
        }
        Ok(())
    }

    async fn begin_attempt(&self, key: &AccountKey) -> Result<Attempt, Refused> {
        let counters = key.counters(&self.settings);
        if counters.is_empty() {
            return Ok(Attempt::UNTRACKED);
        }
        let now = self.now_ms();
        let mut accounts = self.accounts();
        // Every counter is checked before any reserves: a refusal reserves nothing.
        let (mut delayed_until, mut busy, mut tracked) = (0, false, false);
        for (name, threshold) in &counters {
            let Some(state) = self.tracked(&mut accounts, name, now) else {
                continue;
            };
            tracked = true;
            state.in_flight.retain(|(_, lapses)| *lapses > now);
            delayed_until = delayed_until.max(state.locked_until_ms);
            busy |= state.in_flight.len() >= attempts_allowed(state.failures, *threshold);
        }
        if delayed_until > now {
            return Err(Refused::Delayed(retry_after(delayed_until, now)));
        }
        if busy {
            return Err(Refused::Busy);
        }
        if !tracked {
            return Ok(Attempt::UNTRACKED);
        }
        let attempt = Attempt::fresh();
        let lapses = now + (ATTEMPT_RESERVATION_SECS * 1000) as i64;
        for (name, _) in &counters {
            if let Some(state) = accounts.get_mut(name) {
                state.in_flight.push((attempt.id, lapses));
            }
        }
        Ok(attempt)
    }

    async fn record_failure(&self, key: &AccountKey, attempt: Attempt) {
        let now = self.now_ms();
        let mut accounts = self.accounts();
        for (name, threshold) in key.counters(&self.settings) {
            let Some(state) = self.tracked(&mut accounts, &name, now) else {
                continue;
            };
            state.release(attempt);
            state.failures = state.failures.saturating_add(1);
            state.last_failure_ms = now;
            let delay = delay_ms(state.failures, threshold);
            if delay > 0 {
                state.locked_until_ms = now + delay;
            }
        }
    }

    async fn record_success(&self, key: &AccountKey, attempt: Attempt) {
        let mut accounts = self.accounts();
        for (name, _) in key.counters(&self.settings) {
            if let Some(state) = accounts.get_mut(&name) {
                state.release(attempt);
                state.failures = 0;
                state.locked_until_ms = 0;
                if state.is_idle() {
                    accounts.remove(&name);
                }
            }
        }
    }

    async fn abandon(&self, key: &AccountKey, attempt: Attempt) {
        let mut accounts = self.accounts();
        for (name, _) in key.counters(&self.settings) {
            if let Some(state) = accounts.get_mut(&name) {
                state.release(attempt);
                if state.is_idle() {
                    accounts.remove(&name);
                }
            }
        }
    }

    async fn prune(&self) {
        if let Some(limiter) = &self.per_ip {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        let now = self.now_ms();
        // A day without failures forgets the count (the delay has long passed).
        let horizon = now - 24 * 3600 * 1000;
        self.accounts().retain(|_, s| {
            s.in_flight.retain(|(_, lapses)| *lapses > now);
            s.worth_keeping(now, horizon)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use time::macros::datetime;

    fn limiter(per_ip: u32, threshold: u32) -> (Arc<ManualClock>, LocalLimiter) {
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 12:00 UTC)));
        let limiter = LocalLimiter::new(
            LimitSettings {
                login_per_ip_per_minute: per_ip,
                failures_before_delay: threshold,
                account_wide_failures_before_delay: 0,
            },
            clock.clone(),
        );
        (clock, limiter)
    }

    fn secs(n: i64) -> time::Duration {
        time::Duration::seconds(n)
    }

    /// A failed login on `account`, as the service makes it.
    async fn fail(l: &LocalLimiter, account: &str) {
        let attempt = l.begin_attempt(&AccountKey::from(account)).await.unwrap();
        l.record_failure(&AccountKey::from(account), attempt).await;
    }

    /// A successful login on `account`.
    async fn succeed(l: &LocalLimiter, account: &str) {
        let attempt = l.begin_attempt(&AccountKey::from(account)).await.unwrap();
        l.record_success(&AccountKey::from(account), attempt).await;
    }

    /// Whether an attempt on `account` would start now (it is abandoned at once).
    async fn check(l: &LocalLimiter, account: &str) -> Result<(), Refused> {
        let attempt = l.begin_attempt(&AccountKey::from(account)).await?;
        l.abandon(&AccountKey::from(account), attempt).await;
        Ok(())
    }

    #[tokio::test]
    async fn a_map_full_of_made_up_names_still_tracks_real_accounts() {
        let (_clock, l) = limiter(0, 2);
        for i in 0..MAX_TRACKED_ACCOUNTS {
            fail(&l, &format!("{UNKNOWN_ACCOUNT_PREFIX}{i}")).await;
        }
        let made_up = format!("{UNKNOWN_ACCOUNT_PREFIX}one-more");
        assert_eq!(
            l.begin_attempt(&AccountKey::from(made_up.as_str())).await,
            Ok(Attempt::UNTRACKED)
        );
        // A real account is counted and delayed as ever.
        let victim = "0197c1d2-0000-7000-8000-000000000001";
        fail(&l, victim).await;
        fail(&l, victim).await;
        assert!(matches!(
            l.begin_attempt(&AccountKey::from(victim)).await,
            Err(Refused::Delayed(_))
        ));
    }

    #[tokio::test]
    async fn a_full_account_map_is_swept_at_most_once_a_second() {
        let (clock, l) = limiter(0, 5);
        for i in 0..MAX_TRACKED_ACCOUNTS {
            fail(&l, &format!("{UNKNOWN_ACCOUNT_PREFIX}{i}")).await;
        }
        let ms = time::Duration::milliseconds;
        // Every failure can still delay: the sweep frees nothing.
        clock.advance(secs(MAX_ACCOUNT_DELAY_SECS as i64) - ms(500));
        assert_eq!(
            l.begin_attempt(&AccountKey::from(&*format!("{UNKNOWN_ACCOUNT_PREFIX}new1")))
                .await,
            Ok(Attempt::UNTRACKED)
        );
        // Now they could be forgotten, but the last sweep was 0.7 s ago.
        clock.advance(ms(700));
        assert_eq!(
            l.begin_attempt(&AccountKey::from(&*format!("{UNKNOWN_ACCOUNT_PREFIX}new2")))
                .await,
            Ok(Attempt::UNTRACKED)
        );
        clock.advance(ms(300));
        let tracked = l
            .begin_attempt(&AccountKey::from(&*format!("{UNKNOWN_ACCOUNT_PREFIX}new3")))
            .await
            .unwrap();
        assert_ne!(tracked, Attempt::UNTRACKED);
        assert_eq!(l.accounts().len(), 1, "the stale failures went");
    }

    /// A limiter with the default thresholds (5 per address, 50 account-wide).
    fn two_tier() -> (Arc<ManualClock>, LocalLimiter) {
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 12:00 UTC)));
        let settings = LimitSettings {
            login_per_ip_per_minute: 0,
            ..LimitSettings::default()
        };
        (clock.clone(), LocalLimiter::new(settings, clock))
    }

    fn from(account: &str, ip: &str) -> AccountKey {
        AccountKey::new(account, Some(ip.parse().unwrap()))
    }

    async fn fail_key(l: &LocalLimiter, key: &AccountKey) {
        let attempt = l.begin_attempt(key).await.unwrap();
        l.record_failure(key, attempt).await;
    }

    async fn check_key(l: &LocalLimiter, key: &AccountKey) -> Result<(), Refused> {
        let attempt = l.begin_attempt(key).await?;
        l.abandon(key, attempt).await;
        Ok(())
    }

    #[tokio::test]
    async fn a_guessers_address_is_delayed_not_the_owners() {
        let (_clock, l) = two_tier();
        let guesser = from("alice", "198.51.100.66");
        for _ in 0..5 {
            fail_key(&l, &guesser).await;
        }
        assert_eq!(
            check_key(&l, &guesser).await,
            Err(Refused::Delayed(RetryAfter(1)))
        );
        assert_eq!(check_key(&l, &from("alice", "203.0.113.7")).await, Ok(()));
    }

    #[tokio::test]
    async fn fifty_failures_from_anywhere_delay_the_account_everywhere() {
        let (clock, l) = two_tier();
        for i in 0..10 {
            for _ in 0..5 {
                fail_key(&l, &from("alice", &format!("198.51.100.{i}"))).await;
            }
        }
        let owner = from("alice", "203.0.113.7");
        assert_eq!(
            check_key(&l, &owner).await,
            Err(Refused::Delayed(RetryAfter(1)))
        );
        clock.advance(secs(1));
        // The account-wide delay doubles like the per-address one.
        fail_key(&l, &from("alice", "198.51.100.99")).await;
        assert_eq!(
            check_key(&l, &owner).await,
            Err(Refused::Delayed(RetryAfter(2)))
        );
        assert_eq!(check_key(&l, &from("bob", "198.51.100.0")).await, Ok(()));
        // The owner's success forgets the account-wide count, not the
        // guessers' per-address delays.
        clock.advance(secs(2));
        let attempt = l.begin_attempt(&owner).await.unwrap();
        l.record_success(&owner, attempt).await;
        assert_eq!(check_key(&l, &from("alice", "203.0.113.8")).await, Ok(()));
        let guesser = from("alice", "198.51.100.0");
        fail_key(&l, &guesser).await;
        assert_eq!(
            check_key(&l, &guesser).await,
            Err(Refused::Delayed(RetryAfter(2))),
            "its sixth failure"
        );
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_and_mapped_ones_as_ipv4() {
        let bucket = |s: &str| address_bucket(s.parse().unwrap()).to_string();
        assert_eq!(bucket("203.0.113.7"), "203.0.113.7");
        assert_eq!(bucket("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::");
        assert_eq!(bucket("2001:db8:1:2::1"), "2001:db8:1:2::");
        assert_ne!(bucket("2001:db8:1:3::1"), bucket("2001:db8:1:2::1"));
        assert_eq!(bucket("::ffff:203.0.113.7"), "203.0.113.7");
    }

    #[tokio::test]
    async fn concurrent_attempts_cannot_outrun_the_delay() {
        let (clock, l) = limiter(0, 5);
        let mut in_flight = Vec::new();
        for _ in 0..5 {
            in_flight.push(l.begin_attempt(&AccountKey::from("alice")).await.unwrap());
        }
        assert_eq!(
            l.begin_attempt(&AccountKey::from("alice")).await,
            Err(Refused::Busy)
        );
        assert!(
            l.begin_attempt(&AccountKey::from("bob")).await.is_ok(),
            "accounts are separate"
        );
        for attempt in in_flight {
            l.record_failure(&AccountKey::from("alice"), attempt).await;
        }
        assert_eq!(
            check(&l, "alice").await,
            Err(Refused::Delayed(RetryAfter(1))),
            "five failures: delayed"
        );
        clock.advance(secs(1));
        // Delayed accounts get one attempt at a time.
        let one = l.begin_attempt(&AccountKey::from("alice")).await.unwrap();
        assert_eq!(
            l.begin_attempt(&AccountKey::from("alice")).await,
            Err(Refused::Busy)
        );
        l.record_failure(&AccountKey::from("alice"), one).await;
        assert_eq!(
            check(&l, "alice").await,
            Err(Refused::Delayed(RetryAfter(2)))
        );
    }

    #[tokio::test]
    async fn attempts_in_flight_are_what_failures_remain_before_the_delay() {
        let (_clock, l) = limiter(0, 5);
        for _ in 0..3 {
            fail(&l, "alice").await;
        }
        let a = l.begin_attempt(&AccountKey::from("alice")).await.unwrap();
        let b = l.begin_attempt(&AccountKey::from("alice")).await.unwrap();
        assert_ne!(a, b);
        assert_eq!(
            l.begin_attempt(&AccountKey::from("alice")).await,
            Err(Refused::Busy)
        );
        // An abandoned attempt frees its place and counts nothing.
        l.abandon(&AccountKey::from("alice"), a).await;
        let c = l.begin_attempt(&AccountKey::from("alice")).await.unwrap();
        // A success forgets the failures, not the other attempts in flight.
        l.record_success(&AccountKey::from("alice"), b).await;
        let mut more = Vec::new();
        for _ in 0..4 {
            more.push(l.begin_attempt(&AccountKey::from("alice")).await.unwrap());
        }
        assert_eq!(
            l.begin_attempt(&AccountKey::from("alice")).await,
            Err(Refused::Busy),
            "c and 4 more"
        );
        l.record_failure(&AccountKey::from("alice"), c).await;
        for attempt in more {
            l.abandon(&AccountKey::from("alice"), attempt).await;
        }
        assert_eq!(
            check(&l, "alice").await,
            Ok(()),
            "one failure since the success"
        );
    }

    #[tokio::test]
    async fn a_reservation_never_ended_lapses() {
        let (clock, l) = limiter(0, 1);
        let _lost = l.begin_attempt(&AccountKey::from("alice")).await.unwrap();
        assert_eq!(check(&l, "alice").await, Err(Refused::Busy));
        clock.advance(secs(ATTEMPT_RESERVATION_SECS as i64 - 1));
        assert_eq!(check(&l, "alice").await, Err(Refused::Busy));
        clock.advance(secs(1));
        assert_eq!(check(&l, "alice").await, Ok(()));
        l.prune().await;
        assert!(l.accounts().is_empty(), "nothing left to remember");
    }

    #[tokio::test]
    async fn the_delay_starts_after_the_threshold_and_doubles() {
        let (clock, l) = limiter(0, 5);
        for _ in 0..4 {
            fail(&l, "alice").await;
            assert_eq!(check(&l, "alice").await, Ok(()));
        }
        fail(&l, "alice").await;
        assert_eq!(
            check(&l, "alice").await,
            Err(Refused::Delayed(RetryAfter(1)))
        );
        clock.advance(secs(1));
        assert_eq!(check(&l, "alice").await, Ok(()));
        fail(&l, "alice").await;
        assert_eq!(
            check(&l, "alice").await,
            Err(Refused::Delayed(RetryAfter(2)))
        );
        clock.advance(secs(2));
        fail(&l, "alice").await;
        assert_eq!(
            check(&l, "alice").await,
            Err(Refused::Delayed(RetryAfter(4)))
        );
        clock.advance(secs(3));
        assert_eq!(
            check(&l, "alice").await,
            Err(Refused::Delayed(RetryAfter(1)))
        );
        assert_eq!(check(&l, "bob").await, Ok(()), "accounts are separate");
    }

    #[tokio::test]
    async fn the_delay_is_capped_at_fifteen_minutes() {
        let (clock, l) = limiter(0, 5);
        for _ in 0..40 {
            fail(&l, "alice").await;
            clock.advance(secs(MAX_ACCOUNT_DELAY_SECS as i64));
        }
        fail(&l, "alice").await;
        assert_eq!(
            check(&l, "alice").await,
            Err(Refused::Delayed(RetryAfter(MAX_ACCOUNT_DELAY_SECS)))
        );
    }

    #[tokio::test]
    async fn a_success_resets_the_count() {
        let (_clock, l) = limiter(0, 2);
        fail(&l, "alice").await;
        succeed(&l, "alice").await;
        fail(&l, "alice").await;
        assert_eq!(
            check(&l, "alice").await,
            Ok(()),
            "one failure since the success"
        );
        fail(&l, "alice").await;
        assert_eq!(
            check(&l, "alice").await,
            Err(Refused::Delayed(RetryAfter(1)))
        );
    }

    #[tokio::test]
    async fn zero_turns_each_limit_off() {
        let (_clock, l) = limiter(0, 0);
        let ip: IpAddr = "203.0.113.1".parse().unwrap();
        for _ in 0..100 {
            fail(&l, "alice").await;
            assert_eq!(l.attempt_from(ip).await, Ok(()));
        }
        assert_eq!(check(&l, "alice").await, Ok(()));
    }

    #[tokio::test]
    async fn each_address_gets_its_quota_per_minute() {
        let (clock, l) = limiter(30, 5);
        let ip: IpAddr = "203.0.113.1".parse().unwrap();
        let other: IpAddr = "203.0.113.2".parse().unwrap();
        for i in 0..30 {
            assert_eq!(l.attempt_from(ip).await, Ok(()), "attempt {i}");
        }
        let Err(RetryAfter(wait)) = l.attempt_from(ip).await else {
            panic!("the 31st attempt within a minute is refused");
        };
        assert_eq!(wait, 2, "one attempt comes back every 2 s");
        assert_eq!(l.attempt_from(other).await, Ok(()));
        clock.advance(secs(2));
        assert_eq!(l.attempt_from(ip).await, Ok(()));
        assert!(l.attempt_from(ip).await.is_err());
        clock.advance(secs(60));
        for _ in 0..30 {
            assert_eq!(l.attempt_from(ip).await, Ok(()));
        }
    }

    #[tokio::test]
    async fn a_56_and_a_48_share_four_and_sixteen_times_the_per_address_quota() {
        let (clock, l) = limiter(2, 5);
        let in_56 = |n: u16| -> IpAddr { format!("2001:db8:1:{n:x}::1").parse().unwrap() };
        // Four /64s of one /56 take 2 each: the /56's 8 are used up.
        for n in 0..4 {
            for _ in 0..2 {
                assert_eq!(l.attempt_from(in_56(n)).await, Ok(()), "/64 #{n}");
            }
        }
        assert!(
            l.attempt_from(in_56(4)).await.is_err(),
            "a fifth /64 of the same /56 finds the /56 quota used up"
        );
        // Another /56 of the same /48 still has its own; the /48's 32 run out
        // after four /56s.
        for n56 in 1..4u16 {
            for n in 0..4u16 {
                let ip: IpAddr = format!("2001:db8:1:{:x}::1", (n56 << 8) | n)
                    .parse()
                    .unwrap();
                for _ in 0..2 {
                    assert_eq!(l.attempt_from(ip).await, Ok(()), "/56 #{n56} /64 #{n}");
                }
            }
        }
        let fifth_56: IpAddr = "2001:db8:1:400::1".parse().unwrap();
        assert!(
            l.attempt_from(fifth_56).await.is_err(),
            "a fifth /56 of the same /48 finds the /48 quota used up"
        );
        let other_48: IpAddr = "2001:db8:2::1".parse().unwrap();
        assert_eq!(
            l.attempt_from(other_48).await,
            Ok(()),
            "other /48s are separate"
        );
        let v4: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(l.attempt_from(v4).await, Ok(()), "IPv4 has no wider tier");
        clock.advance(secs(60));
        assert_eq!(
            l.attempt_from(fifth_56).await,
            Ok(()),
            "a minute refills them"
        );
    }

    #[test]
    fn wider_buckets_are_the_56_and_48_of_ipv6_only() {
        let wider = |s: &str| -> Vec<String> {
            wider_buckets(s.parse().unwrap())
                .into_iter()
                .map(|(ip, prefix, times)| format!("{ip}/{prefix}x{times}"))
                .collect()
        };
        assert_eq!(
            wider("2001:db8:aaaa:bbcc::1"),
            ["2001:db8:aaaa:bb00::/56x4", "2001:db8:aaaa::/48x16"]
        );
        assert!(wider("203.0.113.7").is_empty());
        assert!(wider("::ffff:203.0.113.7").is_empty());
    }
}
