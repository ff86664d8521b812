//! Login attempts on an account: starting one on the limiter (waiting in
//! line while the account has as many running as it may), and ending it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, oneshot};

use crate::limits::{AccountKey, Attempt, LoginLimiter, Refused, RetryAfter};

/// Longest a login waits for its turn among concurrent attempts on the same
/// account before it is answered 429.
const MAX_TURN_WAIT: Duration = Duration::from_secs(10);

/// Longest the first in line waits before asking the limiter again, when
/// no attempt of this instance ends meanwhile (one of another instance may).
const MAX_RECHECK: Duration = Duration::from_millis(10);

/// This instance's logins waiting for a place on an account: one line per
/// account, first come first served. A line is forgotten when its last
/// waiter leaves.
#[derive(Debug, Default)]
pub(crate) struct AccountQueues {
    lines: Mutex<HashMap<String, Arc<Line>>>,
}

/// The logins waiting on one account.
#[derive(Debug, Default)]
struct Line {
    /// Held by the first in line, the only one asking the limiter; tokio's
    /// mutex hands it on in the order it was asked for.
    turn: tokio::sync::Mutex<()>,
    /// Signalled when an attempt on the account ends in this instance: a
    /// place may be free.
    ended: Notify,
}

/// A login's place in its account's line; leaving (dropping) forgets the
/// line if nobody else is in it.
struct Place<'q> {
    queues: &'q AccountQueues,
    account: &'q str,
    /// Always `Some` until dropped (taken then, under the map's lock).
    line: Option<Arc<Line>>,
}

impl AccountQueues {
    fn lines(&self) -> MutexGuard<'_, HashMap<String, Arc<Line>>> {
        self.lines.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn join<'q>(&'q self, account: &'q str) -> Place<'q> {
        let line = Arc::clone(self.lines().entry(account.to_owned()).or_default());
        Place {
            queues: self,
            account,
            line: Some(line),
        }
    }

    /// Whether logins are waiting on `account`: a newcomer then queues
    /// behind them rather than taking a place that frees up first.
    fn is_waiting(&self, account: &str) -> bool {
        self.lines().contains_key(account)
    }

    /// Tells the first in `account`'s line that an attempt ended.
    fn attempt_ended(&self, account: &str) {
        if let Some(line) = self.lines().get(account) {
            line.ended.notify_one();
        }
    }

    /// Starts an attempt on `account`, waiting (up to [`MAX_TURN_WAIT`])
    /// while the account has as many attempts running as it may: concurrent
    /// logins of one account take turns rather than fail, and concurrent
    /// guesses still cannot outrun the delay, which refuses them as soon as
    /// the failures before them are counted.
    ///
    /// Only the first in line asks the limiter again, when an attempt of
    /// this instance ends or after a short pause: all asking at once would
    /// let some lose every race until they gave up.
    pub(crate) async fn begin(
        self: &Arc<Self>,
        limiter: &Arc<dyn LoginLimiter>,
        key: AccountKey,
    ) -> Result<InFlight, RetryAfter> {
        // One line per (account, address): the counter a burst of one
        // client's logins fills first.
        let account = key.per_address();
        let in_flight = |attempt| InFlight {
            limiter: Arc::clone(limiter),
            queues: Arc::clone(self),
            key: key.clone(),
            attempt: Some(attempt),
        };
        if !self.is_waiting(&account) {
            match reserve(limiter, &key).await {
                Ok(attempt) => return Ok(in_flight(attempt)),
                Err(Refused::Delayed(wait)) => return Err(wait),
                Err(Refused::Busy) => {}
            }
        }
        let started = tokio::time::Instant::now();
        let place = self.join(&account);
        let Some(line) = &place.line else {
            return Err(RetryAfter(1));
        };
        let Ok(_first) = tokio::time::timeout(MAX_TURN_WAIT, line.turn.lock()).await else {
            return Err(RetryAfter(1));
        };
        let mut pause = Duration::from_millis(1);
        loop {
            match reserve(limiter, &key).await {
                Ok(attempt) => return Ok(in_flight(attempt)),
                Err(Refused::Delayed(wait)) => return Err(wait),
                Err(Refused::Busy) if started.elapsed() + pause > MAX_TURN_WAIT => {
                    return Err(RetryAfter(1));
                }
                Err(Refused::Busy) => {
                    // A notification left by an attempt that ended before
                    // we waited is taken at once (Notify keeps one permit).
                    let _ = tokio::time::timeout(pause, line.ended.notified()).await;
                    pause = (pause * 2).min(MAX_RECHECK);
                }
            }
        }
    }
}

/// Asks the limiter for a place on `account`, on a task of its own: if the
/// login goes away meanwhile (its future dropped), the place the limiter
/// may already have reserved (a shared limiter's round trip) is abandoned
/// by that task instead of lingering until it lapses.
async fn reserve(limiter: &Arc<dyn LoginLimiter>, key: &AccountKey) -> Result<Attempt, Refused> {
    let (limiter, key) = (Arc::clone(limiter), key.clone());
    let (answer, asked) = oneshot::channel();
    tokio::spawn(async move {
        let result = limiter.begin_attempt(&key).await;
        if let Err(Ok(attempt)) = answer.send(result) {
            limiter.abandon(&key, attempt).await;
        }
    });
    // The task cannot fail to answer unless the runtime is shutting down.
    asked.await.unwrap_or(Err(Refused::Busy))
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        // Every place lets go of its line under the map's lock, so a count
        // of one (the map's) means nobody else is in it.
        let mut lines = self.queues.lines();
        drop(self.line.take());
        if lines
            .get(self.account)
            .is_some_and(|line| Arc::strong_count(line) == 1)
        {
            lines.remove(self.account);
        }
    }
}

/// An attempt begun on the login limiter: ended by [`failed`](Self::failed)
/// or [`succeeded`](Self::succeeded), and abandoned if dropped before (a
/// store error, or a client that went away while its hash was queued), so
/// its reservation never has to wait for its expiry.
pub(crate) struct InFlight {
    limiter: Arc<dyn LoginLimiter>,
    queues: Arc<AccountQueues>,
    key: AccountKey,
    attempt: Option<Attempt>,
}

impl InFlight {
    // The attempt is cleared only once recorded: if the request goes away
    // during the call, dropping still abandons it (a second release of the
    // same reservation does nothing).
    pub(crate) async fn failed(mut self) {
        if let Some(attempt) = self.attempt {
            self.limiter.record_failure(&self.key, attempt).await;
            self.attempt = None;
            self.queues.attempt_ended(&self.key.per_address());
        }
    }

    pub(crate) async fn succeeded(mut self) {
        if let Some(attempt) = self.attempt {
            self.limiter.record_success(&self.key, attempt).await;
            self.attempt = None;
            self.queues.attempt_ended(&self.key.per_address());
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let Some(attempt) = self.attempt.take() else {
            return;
        };
        // Without a runtime (shutting down) the reservation lapses by itself.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (limiter, queues) = (Arc::clone(&self.limiter), Arc::clone(&self.queues));
            let key = self.key.clone();
            runtime.spawn(async move {
                limiter.abandon(&key, attempt).await;
                queues.attempt_ended(&key.per_address());
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::limits::{LimitSettings, LocalLimiter};

    #[test]
    fn a_line_is_forgotten_when_its_last_waiter_leaves() {
        let queues = AccountQueues::default();
        let (a, b, bob) = (
            queues.join("alice"),
            queues.join("alice"),
            queues.join("bob"),
        );
        assert_eq!(queues.lines().len(), 2, "one line per account");
        drop(a);
        assert!(queues.is_waiting("alice"), "b still waits");
        drop(b);
        assert!(!queues.is_waiting("alice"));
        drop(bob);
        assert!(queues.lines().is_empty());
    }

    /// Time stands still (paused, advanced only when every task is idle):
    /// the waiters must be woken by the attempts that end, not by their
    /// back-off, and a newcomer must queue behind them.
    #[tokio::test(start_paused = true)]
    async fn waiting_logins_get_their_turn_in_order_as_attempts_end() {
        let clock = Arc::new(ManualClock::new(
            time::macros::datetime!(2026-11-24 12:00 UTC),
        ));
        let settings = LimitSettings {
            login_per_ip_per_minute: 0,
            failures_before_delay: 2,
            account_wide_failures_before_delay: 0,
        };
        let limiter: Arc<dyn LoginLimiter> = Arc::new(LocalLimiter::new(settings, clock));
        let queues = Arc::new(AccountQueues::default());
        let started = tokio::time::Instant::now();
        let first = queues.begin(&limiter, "alice".into()).await.unwrap();
        let second = queues.begin(&limiter, "alice".into()).await.unwrap();
        let (done, mut order) = tokio::sync::mpsc::unbounded_channel();
        let mut tasks = Vec::new();
        let spawn = |n: usize| {
            let (queues, limiter, done) = (queues.clone(), limiter.clone(), done.clone());
            tokio::spawn(async move {
                let attempt = queues.begin(&limiter, "alice".into()).await.unwrap();
                done.send((n, started.elapsed())).unwrap();
                attempt.succeeded().await;
            })
        };
        // Both places are taken: three wait, each in line before the next comes.
        for n in 0..3 {
            tasks.push(spawn(n));
            while queues.lines().get("alice -").map_or(0, Arc::strong_count) < n + 2 {
                tokio::task::yield_now().await;
            }
        }
        first.succeeded().await;
        // A place is free, and a newcomer arrives before the first in line runs.
        tasks.push(spawn(3));
        second.succeeded().await;
        drop(done);
        let mut served = Vec::new();
        while let Some((n, waited)) = order.recv().await {
            assert_eq!(
                waited,
                Duration::ZERO,
                "woken by an ending attempt, not a timer"
            );
            served.push(n);
        }
        assert_eq!(served, [0, 1, 2, 3], "first come, first served");
        for task in tasks {
            task.await.unwrap();
        }
        assert!(
            !queues.is_waiting("alice -"),
            "the line is gone with its last waiter"
        );
    }
}
