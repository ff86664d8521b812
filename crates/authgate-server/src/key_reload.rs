//! Reloading the verifier's keys when a token names a key id it does not
//! hold: another instance may have just put a new key to signing (a forced
//! rotation with no `next` key waiting signs at once), and without Redis this
//! instance would otherwise learn of it only at its next poll, up to 10 s
//! later, answering 401 to good tokens meanwhile.
//!
//! A forger can name any key id, so the reload is single-flight and runs at
//! most once per second by the server's clock: a flood of made-up key ids
//! costs the store one read a second.

use std::future::Future;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// The shortest time between two reloads, in milliseconds.
const MIN_INTERVAL_MS: i64 = 1_000;

/// Where the reloads stand; one per server.
#[derive(Debug)]
pub(crate) struct KeyReload {
    /// Held for the whole of a reload: at most one at a time, and callers
    /// can wait for the one in flight instead of starting their own.
    running: tokio::sync::Mutex<()>,
    /// When the last reload was allowed (Unix milliseconds of the clock).
    last_ms: AtomicI64,
    /// Completed reloads, so a waiter can tell one finished while it waited.
    done: AtomicU64,
}

impl Default for KeyReload {
    fn default() -> Self {
        Self {
            running: tokio::sync::Mutex::new(()),
            last_ms: AtomicI64::new(i64::MIN),
            done: AtomicU64::new(0),
        }
    }
}

impl KeyReload {
    /// Whether a reload may start at `now_ms`; if so the budget is spent.
    fn take_budget(&self, now_ms: i64) -> bool {
        let mut last = self.last_ms.load(Ordering::Acquire);
        loop {
            if now_ms.saturating_sub(last) < MIN_INTERVAL_MS {
                return false;
            }
            match self.last_ms.compare_exchange_weak(
                last,
                now_ms,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(current) => last = current,
            }
        }
    }

    /// Runs `sync` (the reload of the keys from the store into the
    /// verifier) if the budget allows at `now_ms` (Unix milliseconds of the
    /// server's clock), or waits for a reload already in flight; never
    /// starts a second one while one runs.
    pub(crate) async fn reload<F: Future<Output = ()>>(
        &self,
        now_ms: i64,
        sync: impl FnOnce() -> F,
    ) {
        let seen = self.done.load(Ordering::Acquire);
        if !self.take_budget(now_ms) {
            // Over budget: join a reload in flight (it costs nothing), never start one.
            if self.running.try_lock().is_err() {
                drop(self.running.lock().await);
            }
            return;
        }
        let _running = self.running.lock().await;
        if self.done.load(Ordering::Acquire) != seen {
            return;
        }
        tracing::debug!("a token names a key this instance does not hold; reloading the keys");
        sync().await;
        self.done.fetch_add(1, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_is_allowed_at_most_once_per_second() {
        let reload = KeyReload::default();
        assert!(reload.take_budget(10_000));
        assert!(!reload.take_budget(10_000));
        assert!(!reload.take_budget(10_999));
        assert!(reload.take_budget(11_000));
        assert!(!reload.take_budget(11_500));
    }
}
