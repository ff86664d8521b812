//! The connection table: the cap on connections served at once, and who
//! gives way past it.
//!
//! Past `max_connections`, a new connection takes the place of the oldest
//! connection with no request in progress: an idle keep-alive connection,
//! or one still sending its request head. Those are exactly what a
//! slowloris holds, so holding connections cannot lock anyone out, while a
//! request being served is never cut. When every connection has a request
//! in progress, no more are accepted: new ones wait in the kernel's listen
//! backlog until a request finishes (each is bounded by the body timeout
//! and the handlers' own limits).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// What the table and the connection's own task share about one connection.
#[derive(Debug)]
pub(super) struct ConnState {
    /// When the connection was accepted; the origin of the `*_ms` fields.
    opened: Instant,
    /// Requests in progress (from a complete head to the response).
    busy: AtomicUsize,
    /// Last byte received or request finished, in ms since `opened`.
    last_active_ms: AtomicU64,
    /// When the pending request head started, in ms since `opened` plus 1
    /// (0: no head is pending).
    head_started_ms: AtomicU64,
    /// Fired to close the connection when a newcomer takes its place.
    evicted: Notify,
    /// Fired when a request head starts: the watchdog's deadline moves closer.
    head_started: Notify,
}

impl ConnState {
    fn new() -> Self {
        Self {
            opened: Instant::now(),
            busy: AtomicUsize::new(0),
            last_active_ms: AtomicU64::new(0),
            head_started_ms: AtomicU64::new(0),
            evicted: Notify::new(),
            head_started: Notify::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn at(&self, ms: u64) -> Instant {
        self.opened + Duration::from_millis(ms)
    }

    /// Bytes arrived: the connection is not idle, and if no request is in
    /// progress they start (or continue) a request head.
    pub(super) fn received(&self) {
        let now = self.now_ms();
        self.last_active_ms.store(now, Ordering::Relaxed);
        if self.busy.load(Ordering::Acquire) == 0
            && self
                .head_started_ms
                .compare_exchange(
                    0,
                    now.saturating_add(1),
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            self.head_started.notify_one();
        }
    }

    /// Bytes went out: the connection is not idle (a slow reader of a long
    /// answer is not cut as idle while it reads).
    pub(super) fn sent(&self) {
        self.last_active_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// A complete request head arrived; the returned guard ends the request.
    pub(super) fn begin_request(self: &Arc<Self>) -> RequestGuard {
        self.busy.fetch_add(1, Ordering::AcqRel);
        self.head_started_ms.store(0, Ordering::Release);
        RequestGuard(self.clone())
    }

    /// Whether a request is in progress.
    pub(super) fn is_busy(&self) -> bool {
        self.busy.load(Ordering::Acquire) > 0
    }

    /// When the connection must be closed if nothing changes: idle for
    /// `idle`, or a request head pending for `head`. `None` while busy.
    pub(super) fn deadline(&self, idle: Duration, head: Duration) -> Option<Instant> {
        if self.is_busy() {
            return None;
        }
        let idle_end = self.at(self.last_active_ms.load(Ordering::Relaxed)) + idle;
        match self.head_started_ms.load(Ordering::Acquire) {
            0 => Some(idle_end),
            started => Some(idle_end.min(self.at(started - 1) + head)),
        }
    }

    /// Resolves when a request head has started since the last call.
    pub(super) async fn head_started(&self) {
        self.head_started.notified().await;
    }

    /// Resolves when a newcomer took this connection's place.
    pub(super) async fn evicted(&self) {
        self.evicted.notified().await;
    }
}

/// A request in progress; dropping it ends the request.
#[derive(Debug)]
pub(super) struct RequestGuard(Arc<ConnState>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let state = &self.0;
        state
            .last_active_ms
            .store(state.now_ms(), Ordering::Relaxed);
        state.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The open connections, oldest first, and the cap.
#[derive(Debug)]
pub(super) struct Tracker {
    /// Connections served at once.
    cap: usize,
    /// Open connections by accept order.
    open: Mutex<BTreeMap<u64, Arc<ConnState>>>,
    /// The next connection's number.
    next: AtomicU64,
    /// Fired when a connection ends.
    ended: Notify,
}

impl Tracker {
    pub(super) fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            open: Mutex::new(BTreeMap::new()),
            next: AtomicU64::new(0),
            ended: Notify::new(),
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<ConnState>>> {
        // The table is consistent after every statement: a panic elsewhere cannot break it.
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn has_room(&self) -> bool {
        let table = self.table();
        table.len() < self.cap || table.values().any(|c| !c.is_busy())
    }

    /// Waits until a new connection could be admitted, looking again every
    /// `recheck` (requests finishing are not announced).
    pub(super) async fn wait_for_room(&self, recheck: Duration) {
        while !self.has_room() {
            let _ = tokio::time::timeout(recheck, self.ended.notified()).await;
        }
    }

    /// Admits a new connection, evicting the oldest one with no request in
    /// progress if the table is full; `None` if every one is busy.
    pub(super) fn admit(self: &Arc<Self>) -> Option<Slot> {
        let mut table = self.table();
        if table.len() >= self.cap {
            let oldest_idle = table.iter().find(|(_, c)| !c.is_busy()).map(|(k, _)| *k)?;
            if let Some(victim) = table.remove(&oldest_idle) {
                victim.evicted.notify_one();
            }
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(ConnState::new());
        table.insert(id, state.clone());
        Some(Slot {
            tracker: self.clone(),
            id,
            state,
        })
    }
}

/// A connection's place in the table; dropping it frees the place.
#[derive(Debug)]
pub(super) struct Slot {
    tracker: Arc<Tracker>,
    id: u64,
    /// The connection's shared state.
    pub(super) state: Arc<ConnState>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.tracker.table().remove(&self.id);
        self.tracker.ended.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn past_the_cap_the_oldest_connection_without_a_request_gives_way() {
        let tracker = Arc::new(Tracker::new(2));
        let first = tracker.admit().unwrap();
        let second = tracker.admit().unwrap();
        let _busy = first.state.begin_request();
        let third = tracker.admit().expect("the idle second one gives way");
        tokio::time::timeout(Duration::from_secs(1), second.state.evicted())
            .await
            .expect("the second connection is told to close");
        assert_eq!(tracker.table().len(), 2);
        let _also_busy = third.state.begin_request();
        assert!(
            tracker.admit().is_none(),
            "requests in progress are never cut"
        );
        assert!(!tracker.has_room());
    }

    #[tokio::test(start_paused = true)]
    async fn a_pending_head_is_bounded_by_the_head_timeout_even_while_bytes_trickle() {
        let state = ConnState::new();
        let idle = Duration::from_secs(5);
        let head = Duration::from_secs(10);
        assert_eq!(state.deadline(idle, head), Some(state.opened + idle));
        for _ in 0..4 {
            tokio::time::advance(Duration::from_secs(3)).await;
            state.received();
        }
        // Bytes from 3 s to 12 s: never idle for 5 s, but the head began at 3 s.
        assert_eq!(
            state.deadline(idle, head),
            Some(state.opened + Duration::from_secs(3) + head)
        );
        let state = Arc::new(state);
        let request = state.begin_request();
        assert_eq!(
            state.deadline(idle, head),
            None,
            "a request in progress is not idle"
        );
        drop(request);
        assert_eq!(state.deadline(idle, head), Some(Instant::now() + idle));
    }
}
