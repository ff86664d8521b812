//! The Redis backend: login counters shared by instances with the rules of
//! the in-process limiter, announcements that reach the other instances
//! (and catch-up after a lost link), and what happens while Redis is down
//! (every call falls back at once, the probe says so) and when it is back.
//!
//! Each test uses a key prefix of its own and needs `AUTHGATE_TEST_REDIS_URL`
//! (`#[ignore]`d without it; see `testing::service_url`).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authgate_core::{
    ATTEMPT_RESERVATION_SECS, AccountKey, Change, ChangeBus, Clock, LimitSettings, LoginLimiter,
    MAX_ACCOUNT_DELAY_SECS, ManualClock, Ping, Refused, RetryAfter,
};
use authgate_store::testing::{REDIS_URL_VAR, TcpProxy, redis_prefix, service_url};
use authgate_store::{RedisBus, RedisLimiter, RedisStore};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use uuid::Uuid;

/// How long to wait for an announcement between two processes before
/// calling it lost. Generous (docs/architecture.md promises a second) because this is
/// real time on a loaded 2-core machine; the tests wait for the event, and
/// only a lost one costs the whole wait.
const WITHIN: Duration = Duration::from_secs(5);

/// How long a subscription may take to start listening before the test
/// gives up on it (it waits for the signal, not for this).
const SUBSCRIBING: Duration = Duration::from_secs(30);

/// The Redis URL for `test` (it fails without one).
fn redis_url(test: &str) -> String {
    service_url(REDIS_URL_VAR, &format!("redis::{test}"))
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(OffsetDateTime::now_utc()))
}

fn limiter(redis: &RedisStore, clock: &Arc<ManualClock>, per_ip: u32) -> RedisLimiter {
    let settings = LimitSettings {
        login_per_ip_per_minute: per_ip,
        failures_before_delay: 5,
        account_wide_failures_before_delay: 50,
    };
    RedisLimiter::new(redis.clone(), settings, clock.clone())
}

fn secs(n: i64) -> time::Duration {
    time::Duration::seconds(n)
}

/// A failed login on `account`, as the service makes it.
async fn fail(l: &RedisLimiter, account: &str) {
    let attempt = l.begin_attempt(&account.into()).await.unwrap();
    l.record_failure(&account.into(), attempt).await;
}

/// A successful login on `account`.
async fn succeed(l: &RedisLimiter, account: &str) {
    let attempt = l.begin_attempt(&account.into()).await.unwrap();
    l.record_success(&account.into(), attempt).await;
}

/// Whether an attempt on `account` would start now (it is abandoned at once).
async fn check(l: &RedisLimiter, account: &str) -> Result<(), Refused> {
    let attempt = l.begin_attempt(&account.into()).await?;
    l.abandon(&account.into(), attempt).await;
    Ok(())
}

/// The next change on `changes`, waiting at most [`WITHIN`].
async fn next(changes: &mut mpsc::Receiver<Change>) -> Option<Change> {
    tokio::time::timeout(WITHIN, changes.recv()).await.ok()?
}

/// Whether `wanted` arrives on `changes` within [`WITHIN`] (other changes,
/// such as subscription probes, are skipped).
async fn hears(changes: &mut mpsc::Receiver<Change>, wanted: &Change) -> bool {
    let deadline = tokio::time::Instant::now() + WITHIN;
    while let Ok(Some(change)) = tokio::time::timeout_at(deadline, changes.recv()).await {
        if change == *wanted {
            return true;
        }
    }
    false
}

/// A subscription of `bus`, once it is listening (an announcement made
/// before that would be missed by pub/sub, like any late subscriber's).
async fn subscribed(bus: &RedisBus) -> mpsc::Receiver<Change> {
    let (sink, changes) = mpsc::channel(64);
    bus.subscribe(sink);
    until_listening(bus).await;
    changes
}

/// A connection of the test's own to the Redis at `url`.
async fn connection(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Waits until `key` exists: the bus stores announcements on a task of its
/// own, and its `flush` gives up after 2 s, which a loaded machine can take.
async fn until_stored(conn: &mut redis::aio::MultiplexedConnection, key: &str) {
    let deadline = Instant::now() + SUBSCRIBING;
    loop {
        let exists: bool = redis::cmd("EXISTS")
            .arg(key)
            .query_async(conn)
            .await
            .unwrap();
        if exists {
            return;
        }
        assert!(Instant::now() < deadline, "{key} was never stored");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits for `bus`'s subscription to say it is listening and caught up.
async fn until_listening(bus: &RedisBus) {
    let mut listening = bus.listening();
    tokio::time::timeout(SUBSCRIBING, listening.wait_for(|up| *up))
        .await
        .expect("the subscription starts listening")
        .expect("the bus is alive");
}

#[tokio::test]
#[ignore = "needs Redis: set AUTHGATE_TEST_REDIS_URL (scripts/test does)"]
async fn instances_share_the_per_address_limit() {
    let url = redis_url("instances_share_the_per_address_limit");
    let prefix = redis_prefix();
    let (a, b) = (
        RedisStore::open(&url, &prefix).unwrap(),
        RedisStore::open(&url, &prefix).unwrap(),
    );
    let clock = clock();
    let (la, lb) = (limiter(&a, &clock, 10), limiter(&b, &clock, 10));
    let ip: IpAddr = "203.0.113.7".parse().unwrap();
    for i in 0..10 {
        let on = if i % 2 == 0 { &la } else { &lb };
        assert_eq!(on.attempt_from(ip).await, Ok(()), "attempt {i}");
    }
    assert!(la.attempt_from(ip).await.is_err(), "the 11th, on A");
    assert!(lb.attempt_from(ip).await.is_err(), "the 12th, on B");
    let other: IpAddr = "203.0.113.8".parse().unwrap();
    assert_eq!(
        lb.attempt_from(other).await,
        Ok(()),
        "addresses are separate"
    );
    clock.advance(secs(60));
    assert_eq!(
        la.attempt_from(ip).await,
        Ok(()),
        "a new minute, a new quota"
    );
}

#[tokio::test]
#[ignore = "needs Redis: set AUTHGATE_TEST_REDIS_URL (scripts/test does)"]
async fn instances_share_the_56_and_48_tiers_at_four_and_sixteen_times_the_limit() {
    let url = redis_url("instances_share_the_56_and_48_tiers");
    let prefix = redis_prefix();
    let (a, b) = (
        RedisStore::open(&url, &prefix).unwrap(),
        RedisStore::open(&url, &prefix).unwrap(),
    );
    let clock = clock();
    let (la, lb) = (limiter(&a, &clock, 2), limiter(&b, &clock, 2));
    // Sixteen /64s over four /56s of one /48, two attempts each, split
    // over both instances: the /48's 32 and each /56's 8.
    for n56 in 0..4u16 {
        for n in 0..4u16 {
            let ip: IpAddr = format!("2001:db8:7:{:x}::1", (n56 << 8) | n)
                .parse()
                .unwrap();
            assert_eq!(la.attempt_from(ip).await, Ok(()), "/56 #{n56} /64 #{n}");
            assert_eq!(lb.attempt_from(ip).await, Ok(()), "/56 #{n56} /64 #{n}");
        }
        let fifth_64: IpAddr = format!("2001:db8:7:{:x}::1", (n56 << 8) | 4)
            .parse()
            .unwrap();
        assert!(
            la.attempt_from(fifth_64).await.is_err(),
            "a fifth /64 of /56 #{n56} finds the /56 quota used up"
        );
    }
    let fifth_56: IpAddr = "2001:db8:7:400::1".parse().unwrap();
    assert!(
        lb.attempt_from(fifth_56).await.is_err(),
        "a fifth /56 finds the /48 quota used up"
    );
    let other_48: IpAddr = "2001:db8:8::1".parse().unwrap();
    assert_eq!(la.attempt_from(other_48).await, Ok(()));
    assert!(!a.is_degraded() && !b.is_degraded(), "counted in Redis");
    clock.advance(secs(60));
    assert_eq!(
        la.attempt_from(fifth_56).await,
        Ok(()),
        "a minute refills them"
    );
}

#[tokio::test]
#[ignore = "needs Redis: set AUTHGATE_TEST_REDIS_URL (scripts/test does)"]
async fn the_per_address_limit_refills_evenly_and_a_minute_boundary_gains_nothing() {
    let url = redis_url("the_per_address_limit_refills_evenly");
    let redis = RedisStore::open(&url, &redis_prefix()).unwrap();
    let clock = clock();
    let limits = limiter(&redis, &clock, 10);
    let ip: IpAddr = "198.51.100.4".parse().unwrap();
    // Just before a minute ends (by the clock), the whole burst...
    let into_minute = clock.now().unix_timestamp().rem_euclid(60);
    clock.advance(secs(59 - into_minute));
    for i in 0..10 {
        assert_eq!(limits.attempt_from(ip).await, Ok(()), "attempt {i}");
    }
    // ...then, one second later in a new minute, no second burst: a fixed
    // window would allow ten more here. One attempt per 6 s refills.
    assert_eq!(limits.attempt_from(ip).await, Err(RetryAfter(6)));
    clock.advance(secs(2));
    assert_eq!(limits.attempt_from(ip).await, Err(RetryAfter(4)));
    clock.advance(secs(4));
    assert_eq!(limits.attempt_from(ip).await, Ok(()));
    assert_eq!(limits.attempt_from(ip).await, Err(RetryAfter(6)));
    // All of it happened in Redis, not in the local fallback: Redis never
    // failed, and a limiter with no local history of its own (another
    // instance) finds the same state there.
    assert!(
        !redis.is_degraded(),
        "the limiter fell back to local counting"
    );
    let fresh = limiter(&redis, &clock, 10);
    assert_eq!(fresh.attempt_from(ip).await, Err(RetryAfter(6)));
}

#[tokio::test]
#[ignore = "needs Redis: set AUTHGATE_TEST_REDIS_URL (scripts/test does)"]
async fn the_account_delay_follows_the_local_rules_across_instances() {
    let url = redis_url("the_account_delay_follows_the_local_rules");
    let prefix = redis_prefix();
    let redis = RedisStore::open(&url, &prefix).unwrap();
    let clock = clock();
    let (a, b) = (limiter(&redis, &clock, 0), limiter(&redis, &clock, 0));
    for _ in 0..4 {
        fail(&a, "alice").await;
        assert_eq!(check(&b, "alice").await, Ok(()));
    }
    fail(&b, "alice").await;
    assert_eq!(
        check(&a, "alice").await,
        Err(Refused::Delayed(RetryAfter(1)))
    );
    clock.advance(secs(1));
    assert_eq!(check(&a, "alice").await, Ok(()));
    fail(&a, "alice").await;
    assert_eq!(
        check(&b, "alice").await,
        Err(Refused::Delayed(RetryAfter(2)))
    );
    assert_eq!(check(&b, "bob").await, Ok(()), "accounts are separate");

    clock.advance(secs(2));
    for _ in 0..40 {
        fail(&a, "alice").await;
        clock.advance(secs(MAX_ACCOUNT_DELAY_SECS as i64));
    }
    fail(&b, "alice").await;
    assert_eq!(
        check(&a, "alice").await,
        Err(Refused::Delayed(RetryAfter(MAX_ACCOUNT_DELAY_SECS))),
        "capped at 15 minutes"
    );
    clock.advance(secs(MAX_ACCOUNT_DELAY_SECS as i64));
    succeed(&b, "alice").await;
    for _ in 0..4 {
        fail(&a, "alice").await;
    }
    assert_eq!(
        check(&b, "alice").await,
        Ok(()),
        "a success resets the count: four failures since"
    );
}

#[tokio::test]
#[ignore = "needs Redis: set AUTHGATE_TEST_REDIS_URL (scripts/test does)"]
async fn concurrent_attempts_on_all_instances_cannot_outrun_the_delay() {
    let url = redis_url("concurrent_attempts_on_all_instances");
    let prefix = redis_prefix();
    let redis = RedisStore::open(&url, &prefix).unwrap();
    let clock = clock();
    let (a, b) = (limiter(&redis, &clock, 0), limiter(&redis, &clock, 0));
    let mut in_flight = Vec::new();
    for i in 0..5 {
        let on = if i % 2 == 0 { &a } else { &b };
        in_flight.push(on.begin_attempt(&"alice".into()).await.unwrap());
    }
    assert_eq!(a.begin_attempt(&"alice".into()).await, Err(Refused::Busy));
    assert_eq!(b.begin_attempt(&"alice".into()).await, Err(Refused::Busy));
    assert!(
        b.begin_attempt(&"bob".into()).await.is_ok(),
        "accounts are separate"
    );
    // An abandoned attempt frees its place on every instance.
    b.abandon(&"alice".into(), in_flight.pop().unwrap()).await;
    in_flight.push(a.begin_attempt(&"alice".into()).await.unwrap());
    for attempt in in_flight {
        b.record_failure(&"alice".into(), attempt).await;
    }
    assert_eq!(
        check(&a, "alice").await,
        Err(Refused::Delayed(RetryAfter(1))),
        "five failures: delayed"
    );
    clock.advance(secs(1));
    let one = b.begin_attempt(&"alice".into()).await.unwrap();
    assert_eq!(
        a.begin_attempt(&"alice".into()).await,
        Err(Refused::Busy),
        "one attempt at a time once delayed"
    );
    a.record_success(&"alice".into(), one).await;
    assert_eq!(check(&a, "alice").await, Ok(()));
}

#[tokio::test]
#[ignore = "needs Redis: set AUTHGATE_TEST_REDIS_URL (scripts/test does)"]
async fn failures_count_per_address_and_account_wide_across_instances() {
    let url = redis_url("failures_count_per_address_and_account_wide");
    let prefix = redis_prefix();
    let redis = RedisStore::open(&url, &prefix).unwrap();
    let clock = clock();
    let (a, b) = (limiter(&redis, &clock, 0), limiter(&redis, &clock, 0));
    let from = |ip: &str| AccountKey::new("alice", Some(ip.parse().unwrap()));
    let guesser = from("198.51.100.66");
    for _ in 0..5 {
        let attempt = a.begin_attempt(&guesser).await.unwrap();
        b.record_failure(&guesser, attempt).await;
    }
    // The guesser's address is delayed; the owner's, elsewhere, is not.
    assert_eq!(
        b.begin_attempt(&guesser).await,
        Err(Refused::Delayed(RetryAfter(1)))
    );
    let owner = from("203.0.113.7");
    let attempt = b.begin_attempt(&owner).await.unwrap();
    a.abandon(&owner, attempt).await;
    // Nine more addresses, five failures each: fifty, the account-wide
    // threshold, so the account is delayed from everywhere.
    for i in 0..9 {
        let key = from(&format!("198.51.100.{i}"));
        for _ in 0..5 {
            let attempt = a.begin_attempt(&key).await.unwrap();
            a.record_failure(&key, attempt).await;
        }
    }
    assert_eq!(
        b.begin_attempt(&owner).await,
        Err(Refused::Delayed(RetryAfter(1)))
    );
    clock.advance(secs(1));
    let attempt = b.begin_attempt(&owner).await.unwrap();
    b.record_success(&owner, attempt).await;
    let attempt = a.begin_attempt(&from("203.0.113.8")).await.unwrap();
    a.abandon(&from("203.0.113.8"), attempt).await;
}

#[tokio::test]
#[ignore = "needs Redis: set AUTHGATE_TEST_REDIS_URL (scripts/test does)"]
async fn a_reservation_never_ended_lapses_in_redis_too() {
    let url = redis_url("a_reservation_never_ended_lapses");
    let prefix = redis_prefix();
    let redis = RedisStore::open(&url, &prefix).unwrap();
    let clock = clock();
    let settings = LimitSettings {
        login_per_ip_per_minute: 0,
        failures_before_delay: 1,
        account_wide_failures_before_delay: 0,
    };
    let (a, b) = (
        RedisLimiter::new(redis.clone(), settings, clock.clone()),
        RedisLimiter::new(redis.clone(), settings, clock.clone()),
    );
    let _lost = a.begin_attempt(&"alice".into()).await.unwrap();
    assert_eq!(check(&b, "alice").await, Err(Refused::Busy));
    clock.advance(secs(ATTEMPT_RESERVATION_SECS as i64 - 1));
    assert_eq!(check(&b, "alice").await, Err(Refused::Busy));
    clock.advance(secs(1));
    assert_eq!(check(&b, "alice").await, Ok(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis: set AUTHGATE_TEST_REDIS_URL (scripts/test does)"]
async fn an_announcement_reaches_the_other_instance_and_not_its_sender() {
    let url = redis_url("an_announcement_reaches_the_other_instance");
    let prefix = redis_prefix();
    let redis = RedisStore::open(&url, &prefix).unwrap();
    let (a, b) = (
        RedisBus::new(redis.clone(), clock()),
        RedisBus::new(redis.clone(), clock()),
    );
    let mut on_a = subscribed(&a).await;
    let mut on_b = subscribed(&b).await;

    let user = Uuid::now_v7();
    let started = Instant::now();
    a.publish(Change::UserChanged { id: user });
    assert!(hears(&mut on_b, &Change::UserChanged { id: user }).await);
    assert!(started.elapsed() < WITHIN);
    a.publish(Change::KeysChanged);
    assert!(hears(&mut on_b, &Change::KeysChanged).await);
    // A hears none of its own announcements.
    assert_eq!(next(&mut on_a).await, None, "A does not hear itself");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis: set AUTHGATE_TEST_REDIS_URL (scripts/test does)"]
async fn revocations_are_kept_for_the_tokens_remaining_lifetime_and_replayed_to_late_subscribers() {
    let url = redis_url("revocations_are_kept_and_replayed");
    let prefix = redis_prefix();
    let redis = RedisStore::open(&url, &prefix).unwrap();
    let clock = clock();
    let a = RedisBus::new(redis.clone(), clock.clone());
    let sid = Uuid::now_v7();
    let until = clock.unix() + 900;
    a.publish(Change::SessionRevoked { sid, until });
    a.publish(Change::TokenRevoked {
        jti: "jti-1".into(),
        until: clock.unix() + 30,
    });
    // Already past its expiry: nothing to keep.
    a.publish(Change::TokenRevoked {
        jti: "jti-old".into(),
        until: clock.unix() - 1,
    });
    a.flush().await;

    let mut conn = connection(&url).await;
    // Sent in order: once the second is stored, the first is too.
    until_stored(&mut conn, &format!("{prefix}revoked:token:jti-1")).await;
    let ttl: i64 = redis::cmd("TTL")
        .arg(format!("{prefix}revoked:session:{sid}"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!((890..=900).contains(&ttl), "ttl {ttl}");
    let ttl: i64 = redis::cmd("TTL")
        .arg(format!("{prefix}revoked:token:jti-1"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!((20..=30).contains(&ttl), "ttl {ttl}");

    // An instance subscribing now (a restart, a lost link) learns them,
    // all of them before it says it is listening.
    let b = RedisBus::new(redis.clone(), clock.clone());
    let mut on_b = subscribed(&b).await;
    let mut heard = vec![on_b.try_recv().ok(), on_b.try_recv().ok()];
    heard.sort_by_key(|c| matches!(c, Some(Change::TokenRevoked { .. })));
    assert_eq!(
        heard,
        [
            Some(Change::SessionRevoked { sid, until }),
            Some(Change::TokenRevoked {
                jti: "jti-1".into(),
                until: clock.unix() + 30
            })
        ]
    );
    assert!(on_b.try_recv().is_err(), "nothing expired is replayed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis: set AUTHGATE_TEST_REDIS_URL (scripts/test does)"]
async fn a_key_change_is_replayed_to_a_subscriber_that_was_not_listening() {
    let url = redis_url("a_key_change_is_replayed");
    let prefix = redis_prefix();
    let redis = RedisStore::open(&url, &prefix).unwrap();
    let b = RedisBus::new(redis.clone(), clock());
    // Before any key change, a new subscriber has nothing to catch up on.
    let mut early = subscribed(&b).await;
    assert!(early.try_recv().is_err());

    let a = RedisBus::new(redis.clone(), clock());
    a.publish(Change::KeysChanged);
    a.flush().await;
    until_stored(
        &mut connection(&url).await,
        &format!("{prefix}keys:changed"),
    )
    .await;
    // An instance starting now (its subscription was not up to hear the
    // announcement) reloads its keys anyway.
    let late = RedisBus::new(redis.clone(), clock());
    let mut on_late = subscribed(&late).await;
    assert_eq!(on_late.try_recv().ok(), Some(Change::KeysChanged));
    assert!(on_late.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Redis: set AUTHGATE_TEST_REDIS_URL (scripts/test does)"]
async fn while_redis_is_down_calls_fall_back_at_once_and_it_reconnects_by_itself() {
    let url = redis_url("while_redis_is_down_calls_fall_back");
    let server = {
        let info = redis::Client::open(url.as_str()).unwrap();
        info.get_connection_info().addr().to_string()
    };
    let proxy = TcpProxy::start(&server).await.unwrap();
    let prefix = redis_prefix();
    let via = format!("redis://{}", proxy.addr());
    let redis = RedisStore::open(&via, &prefix).unwrap();
    let clock = clock();
    let limits = limiter(&redis, &clock, 3);
    let bus = RedisBus::new(redis.clone(), clock.clone());
    let mut changes = subscribed(&bus).await;
    redis.ping().await.unwrap();
    assert!(!redis.is_degraded());

    proxy.cut().await;
    assert!(redis.ping().await.is_err(), "the probe says Redis is down");
    let ip: IpAddr = "203.0.113.9".parse().unwrap();
    let started = Instant::now();
    for _ in 0..3 {
        assert_eq!(limits.attempt_from(ip).await, Ok(()));
    }
    assert!(
        limits.attempt_from(ip).await.is_err(),
        "the local limiter counts meanwhile"
    );
    bus.publish(Change::KeysChanged);
    bus.flush().await;
    assert!(
        started.elapsed() < WITHIN,
        "nothing waits long on a dead Redis: {:?}",
        started.elapsed()
    );
    assert!(redis.is_degraded());

    proxy.restore().await.unwrap();
    let deadline = Instant::now() + SUBSCRIBING;
    while redis.ping().await.is_err() {
        assert!(Instant::now() < deadline, "Redis is reachable again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!redis.is_degraded());
    // The subscription came back by itself: an announcement made through
    // another connection reaches it again.
    let other = RedisBus::new(RedisStore::open(&url, &prefix).unwrap(), clock.clone());
    let user = Uuid::now_v7();
    let deadline = Instant::now() + SUBSCRIBING;
    loop {
        other.publish(Change::UserChanged { id: user });
        if let Some(Change::UserChanged { id }) = next(&mut changes).await
            && id == user
        {
            break;
        }
        assert!(Instant::now() < deadline, "the subscription resumed");
    }
}
