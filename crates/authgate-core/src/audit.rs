//! The audit trail: every security event as an [`AuditEvent`], written to
//! the configured sinks (the database, JSON lines on stdout, a JSONL file).
//!
//! Events that record a change (registration, roles, disable, revocation,
//! key rotation, client creation) are written to the database by the store
//! in the same transaction as the change; the store methods take them. Every
//! other event, and every event for the other sinks, goes through a bounded
//! queue per sink, drained by that sink's own task: a slow, failing or
//! panicking sink never blocks or fails a login. Its failures are counted and
//! logged, and it is simply tried again with the next event. When a queue is
//! full the event is dropped for that sink and counted.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use authgate_proto::{AuditEvent, AuditKind};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use tokio::io::AsyncWriteExt;
use tokio::sync::{Mutex, mpsc, oneshot};
use uuid::Uuid;

use crate::store::AuditStore;

/// Events waiting per sink before new ones are dropped.
pub const AUDIT_QUEUE_CAPACITY: usize = 10_000;

/// How long [`AuditLog::flush_database`] waits at most.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

/// Buckets of [`AuditLog::user_mark`]: users share a bucket by their id's
/// hash, so a mark moves for every user of its bucket (a needless refresh
/// for the others, never a missed one) and memory stays fixed.
const USER_MARK_BUCKETS: usize = 256;

/// Where a request came from, for sessions and audit records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The client address, as the server believes it (trusted proxies only).
    pub ip: Option<IpAddr>,
    /// The `User-Agent`, cut to [`MAX_USER_AGENT`] characters by
    /// [`Origin::new`].
    pub user_agent: Option<String>,
}

/// Longest `User-Agent` kept in sessions and audit records, in characters.
pub const MAX_USER_AGENT: usize = 256;

impl Origin {
    /// An origin from the caller's address and `User-Agent`, the latter cut
    /// once, here, to [`MAX_USER_AGENT`] characters: sessions and every
    /// audit record keep this copy.
    pub fn new(ip: Option<IpAddr>, user_agent: Option<&str>) -> Self {
        Self {
            ip,
            user_agent: user_agent.map(|ua| ua.chars().take(MAX_USER_AGENT).collect()),
        }
    }
}

/// A destination for audit events.
#[async_trait]
pub trait AuditSink: Send + Sync + std::fmt::Debug + 'static {
    /// A short name for metrics and logs (`"database"`, `"stdout"`, `"file"`).
    fn name(&self) -> &str;

    /// Writes one event.
    ///
    /// # Errors
    /// [`AuditSinkError`] saying what failed (never the event's contents).
    async fn write(&self, event: &AuditEvent) -> Result<(), AuditSinkError>;

    /// Writes `events`, in order, when several are waiting; one outcome per
    /// event. The default writes them one by one. The line sinks override
    /// it to write every line at once: one write and one flush for the lot,
    /// where each of those is a hop to a blocking thread (measured: half
    /// the CPU of a refresh went to writing its one stdout line alone).
    async fn write_many(&self, events: &[Arc<AuditEvent>]) -> Vec<Result<(), AuditSinkError>> {
        let mut outcomes = Vec::with_capacity(events.len());
        for event in events {
            outcomes.push(self.write(event).await);
        }
        outcomes
    }
}

/// Why an audit sink could not write an event; the message never holds
/// the event's contents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditSinkError {
    /// The audit store refused the event.
    #[error(transparent)]
    Store(#[from] crate::error::StoreError),
    /// Writing the line (or opening the file) failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The event could not be encoded as JSON.
    #[error(transparent)]
    Encode(#[from] serde_json::Error),
}

/// The database sink: the table `GET /admin/audit` reads.
#[derive(Debug)]
pub struct DatabaseSink(pub Arc<dyn AuditStore>);

#[async_trait]
impl AuditSink for DatabaseSink {
    fn name(&self) -> &str {
        "database"
    }

    async fn write(&self, event: &AuditEvent) -> Result<(), AuditSinkError> {
        Ok(self.0.append_event(event).await?)
    }

    /// All in one transaction; if that fails, one by one, so that one event
    /// the store refuses does not take the others with it.
    async fn write_many(&self, events: &[Arc<AuditEvent>]) -> Vec<Result<(), AuditSinkError>> {
        if events.len() > 1 && self.0.append_events(events).await.is_ok() {
            return events.iter().map(|_| Ok(())).collect();
        }
        let mut outcomes = Vec::with_capacity(events.len());
        for event in events {
            outcomes.push(self.write(event).await);
        }
        outcomes
    }
}

/// JSON lines on standard output, for log collectors.
#[derive(Debug, Default)]
pub struct StdoutSink;

#[async_trait]
impl AuditSink for StdoutSink {
    fn name(&self) -> &str {
        "stdout"
    }

    async fn write(&self, event: &AuditEvent) -> Result<(), AuditSinkError> {
        let line = json_line(event)?;
        let mut out = tokio::io::stdout();
        out.write_all(&line).await?;
        Ok(out.flush().await?)
    }

    async fn write_many(&self, events: &[Arc<AuditEvent>]) -> Vec<Result<(), AuditSinkError>> {
        let (lines, mut outcomes) = json_lines(events);
        if !lines.is_empty() {
            let mut out = tokio::io::stdout();
            let written = match out.write_all(&lines).await {
                Ok(()) => out.flush().await,
                Err(e) => Err(e),
            };
            if let Err(e) = written {
                fail_encoded(&mut outcomes, &e);
            }
        }
        outcomes
    }
}

/// JSON lines appended to a file (created 0600 if missing); reopened after
/// an error, so a full disk or a rotated file recovers by itself.
#[derive(Debug)]
pub struct FileSink {
    /// The file's path.
    path: PathBuf,
    /// The open file; `None` until first use and after an error.
    file: Mutex<Option<tokio::fs::File>>,
}

impl FileSink {
    /// A sink appending to `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            file: Mutex::new(None),
        }
    }
}

#[async_trait]
impl AuditSink for FileSink {
    fn name(&self) -> &str {
        "file"
    }

    async fn write(&self, event: &AuditEvent) -> Result<(), AuditSinkError> {
        let line = json_line(event)?;
        self.append(&line).await
    }

    async fn write_many(&self, events: &[Arc<AuditEvent>]) -> Vec<Result<(), AuditSinkError>> {
        let (lines, mut outcomes) = json_lines(events);
        if !lines.is_empty()
            && let Err(AuditSinkError::Io(e)) = self.append(&lines).await
        {
            fail_encoded(&mut outcomes, &e);
        }
        outcomes
    }
}

impl FileSink {
    /// Appends `bytes` (whole lines), opening the file when it is not open
    /// and forgetting it after an error.
    async fn append(&self, bytes: &[u8]) -> Result<(), AuditSinkError> {
        let mut slot = self.file.lock().await;
        if slot.is_none() {
            let mut options = tokio::fs::OpenOptions::new();
            options.create(true).append(true);
            #[cfg(unix)]
            options.mode(0o600);
            *slot = Some(options.open(&self.path).await?);
        }
        let Some(file) = slot.as_mut() else {
            return Err(std::io::Error::other("audit file not open").into());
        };
        let written = match file.write_all(bytes).await {
            Ok(()) => file.flush().await,
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            *slot = None;
            return Err(e.into());
        }
        Ok(())
    }
}

/// One event as a JSON line.
fn json_line(event: &AuditEvent) -> Result<Vec<u8>, AuditSinkError> {
    let mut line = serde_json::to_vec(event)?;
    line.push(b'\n');
    Ok(line)
}

/// The JSON lines of `events`, one after the other, and an outcome per
/// event: `Ok` for those encoded (and so in the lines), the error for
/// those that were not.
fn json_lines(events: &[Arc<AuditEvent>]) -> (Vec<u8>, Vec<Result<(), AuditSinkError>>) {
    let mut lines = Vec::with_capacity(events.len() * 256);
    let outcomes = events
        .iter()
        .map(|event| {
            serde_json::to_writer(&mut lines, &**event)?;
            lines.push(b'\n');
            Ok(())
        })
        .collect();
    (lines, outcomes)
}

/// Marks every encoded event failed by `error`, the write that carried them all.
fn fail_encoded(outcomes: &mut [Result<(), AuditSinkError>], error: &std::io::Error) {
    for outcome in outcomes.iter_mut().filter(|o| o.is_ok()) {
        *outcome = Err(std::io::Error::new(error.kind(), error.to_string()).into());
    }
}

/// What a sink's queue carries.
enum Message {
    /// An event to write.
    Event(Arc<AuditEvent>),
    /// Answered once every earlier message has been handled.
    Flush(oneshot::Sender<()>),
}

/// Counters of one sink.
#[derive(Debug, Default)]
pub struct SinkCounters {
    /// Writes that returned an error or panicked.
    pub failures: AtomicU64,
    /// Events dropped because the queue was full.
    pub dropped: AtomicU64,
}

/// One sink with its queue.
#[derive(Debug)]
struct Lane {
    /// The sink's name.
    name: String,
    /// Whether this is the database sink (fed directly by transactional writes).
    database: bool,
    /// The queue into the sink's task.
    queue: mpsc::Sender<Message>,
    /// Events queued and not yet handled by the sink's task: a flush with
    /// nothing pending has nothing to wait for.
    pending: Arc<AtomicU64>,
    /// Its failures and drops.
    counters: Arc<SinkCounters>,
}

/// The audit log of the service.
#[derive(Debug)]
pub struct AuditLog {
    /// The database store, when `database` is among the sinks: change
    /// events are written by the store in their transaction, queries read it.
    store: Option<Arc<dyn AuditStore>>,
    /// Every sink, each with its queue and task.
    lanes: Vec<Lane>,
    /// Per bucket of user ids, how many events about those users were
    /// recorded (see [`AuditLog::user_mark`]).
    user_marks: Box<[AtomicU64]>,
}

impl AuditLog {
    /// A log over `store` (the database sink, when configured) and the
    /// `others` sinks. Starts one task per sink: call inside a Tokio runtime.
    pub fn new(store: Option<Arc<dyn AuditStore>>, others: Vec<Arc<dyn AuditSink>>) -> Self {
        let mut sinks: Vec<(Arc<dyn AuditSink>, bool)> = Vec::new();
        if let Some(store) = &store {
            sinks.push((Arc::new(DatabaseSink(store.clone())), true));
        }
        sinks.extend(others.into_iter().map(|s| (s, false)));
        let lanes = sinks
            .into_iter()
            .map(|(sink, database)| spawn_lane(sink, database))
            .collect();
        Self {
            store,
            lanes,
            user_marks: user_marks(),
        }
    }

    /// A log that records nothing (tools and tests of other parts).
    pub fn disabled() -> Self {
        Self {
            store: None,
            lanes: Vec::new(),
            user_marks: user_marks(),
        }
    }

    /// Queues `event` for every sink; never waits, never fails.
    pub fn record(&self, event: AuditEvent) {
        self.fan_out(Arc::new(event), true);
    }

    /// Queues an event whose database copy the store already wrote in the
    /// change's transaction: only the other sinks get it.
    pub fn record_written(&self, event: AuditEvent) {
        self.fan_out(Arc::new(event), false);
    }

    fn fan_out(&self, event: Arc<AuditEvent>, with_database: bool) {
        if let Some(user) = &event.user_id {
            self.user_marks[user_bucket(user)].fetch_add(1, Ordering::AcqRel);
        }
        for lane in self.lanes.iter().filter(|l| with_database || !l.database) {
            // Counted before it is queued, so a flush never misses it.
            lane.pending.fetch_add(1, Ordering::AcqRel);
            if lane.queue.try_send(Message::Event(event.clone())).is_err() {
                lane.pending.fetch_sub(1, Ordering::AcqRel);
                lane.counters.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(sink = %lane.name, kind = %event.kind, "audit queue full; event dropped for this sink");
            }
        }
    }

    /// The database store, when the database is a sink: transactional
    /// writers put change events there, `GET /admin/audit` reads it.
    pub fn store(&self) -> Option<&Arc<dyn AuditStore>> {
        self.store.as_ref()
    }

    /// Moves `user`'s mark for a change that has no event of its own (an
    /// enrolment begun): views of the user copied before it are stale.
    pub fn touch_user(&self, user: &Uuid) {
        self.user_marks[user_bucket(user)].fetch_add(1, Ordering::AcqRel);
    }

    /// A number that moves whenever an event about `user` (its `user_id`)
    /// is recorded on this instance, whether written by the store in the
    /// change's transaction or queued: a view of the user's sessions and
    /// events taken while the mark stood still is still this instance's
    /// latest. It moves for other users too (they share buckets), which
    /// only costs a refresh. Read it *before* reading the store.
    pub fn user_mark(&self, user: &Uuid) -> u64 {
        self.user_marks[user_bucket(user)].load(Ordering::Acquire)
    }

    /// Waits (up to 2 s) until the database sink has written every event
    /// queued before this call, so a query sees this instance's own events.
    /// Returns at once when nothing is queued.
    pub async fn flush_database(&self) {
        if let Some(lane) = self.lanes.iter().find(|l| l.database) {
            flush_lane(lane).await;
        }
    }

    /// Waits (up to 2 s per sink) until every sink has handled every event
    /// queued before this call.
    pub async fn flush(&self) {
        for lane in &self.lanes {
            flush_lane(lane).await;
        }
    }

    /// Failures and drops per sink name, for metrics.
    pub fn counters(&self) -> BTreeMap<String, Arc<SinkCounters>> {
        self.lanes
            .iter()
            .map(|l| (l.name.clone(), l.counters.clone()))
            .collect()
    }

    /// Events that could not be written, over all sinks.
    pub fn failures(&self) -> u64 {
        self.lanes
            .iter()
            .map(|l| l.counters.failures.load(Ordering::Relaxed))
            .sum()
    }
}

/// Waits until the lane has written what was queued before, for at most
/// [`FLUSH_TIMEOUT`] in all: a full queue behind a stuck sink must not hold
/// the caller either.
async fn flush_lane(lane: &Lane) {
    if lane.pending.load(Ordering::Acquire) == 0 {
        return;
    }
    let (done, wait) = oneshot::channel();
    let _ = tokio::time::timeout(FLUSH_TIMEOUT, async {
        if lane.queue.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    })
    .await;
}

/// Most messages a sink's task takes from its queue at once; the events
/// among them are written with one [`AuditSink::write_many`].
const LANE_BATCH: usize = 256;

/// Starts the task that drains one sink's queue.
fn spawn_lane(sink: Arc<dyn AuditSink>, database: bool) -> Lane {
    let (queue, mut rx) = mpsc::channel::<Message>(AUDIT_QUEUE_CAPACITY);
    let counters = Arc::new(SinkCounters::default());
    let pending = Arc::new(AtomicU64::new(0));
    let name = sink.name().to_owned();
    let lane = Drain {
        sink,
        counters: counters.clone(),
        pending: pending.clone(),
    };
    tokio::spawn(async move {
        let mut messages = Vec::with_capacity(LANE_BATCH);
        let mut events = Vec::with_capacity(LANE_BATCH);
        while rx.recv_many(&mut messages, LANE_BATCH).await > 0 {
            for message in messages.drain(..) {
                match message {
                    Message::Event(event) => events.push(event),
                    Message::Flush(done) => {
                        // Everything queued before the flush is written first.
                        lane.write(&mut events).await;
                        let _ = done.send(());
                    }
                }
            }
            lane.write(&mut events).await;
        }
    });
    Lane {
        name,
        database,
        queue,
        pending,
        counters,
    }
}

/// What a sink's task writes with.
struct Drain {
    sink: Arc<dyn AuditSink>,
    counters: Arc<SinkCounters>,
    pending: Arc<AtomicU64>,
}

impl Drain {
    /// Writes (and empties) `events`, counting and logging each failure.
    /// The write runs as its own task, so a panicking sink is caught, its
    /// events counted as failed, and the sink tried again with the next.
    async fn write(&self, events: &mut Vec<Arc<AuditEvent>>) {
        if events.is_empty() {
            return;
        }
        let batch = std::mem::take(events);
        let count = batch.len();
        let writer = self.sink.clone();
        let outcome = tokio::spawn(async move {
            let outcomes = writer.write_many(&batch).await;
            (batch, outcomes)
        })
        .await;
        match outcome {
            Ok((batch, outcomes)) => {
                for (event, outcome) in batch.iter().zip(outcomes) {
                    if let Err(error) = outcome {
                        self.counters.failures.fetch_add(1, Ordering::Relaxed);
                        tracing::error!(sink = %self.sink.name(), kind = %event.kind, error = %error, "audit event not written");
                    }
                }
            }
            Err(e) => {
                let error = if e.is_panic() {
                    "the sink panicked".to_owned()
                } else {
                    e.to_string()
                };
                self.counters
                    .failures
                    .fetch_add(count as u64, Ordering::Relaxed);
                tracing::error!(sink = %self.sink.name(), events = count, error = %error, "audit events not written");
            }
        }
        self.pending.fetch_sub(count as u64, Ordering::AcqRel);
    }
}

/// Fresh marks, all zero.
fn user_marks() -> Box<[AtomicU64]> {
    (0..USER_MARK_BUCKETS).map(|_| AtomicU64::new(0)).collect()
}

/// The bucket of `user`'s mark. Ids are UUIDs (v7: time then random), so
/// their last byte is random enough to spread users over the buckets.
fn user_bucket(user: &Uuid) -> usize {
    usize::from(user.as_bytes()[15]) % USER_MARK_BUCKETS
}

/// A new event of `kind` at `at` from `origin`, about nobody yet: the
/// flows fill in the ids that apply.
pub fn event(kind: AuditKind, at: OffsetDateTime, origin: &Origin) -> AuditEvent {
    AuditEvent {
        id: Uuid::now_v7(),
        at,
        kind,
        user_id: None,
        actor_id: None,
        client_id: None,
        session_id: None,
        ip: origin.ip,
        user_agent: origin.user_agent.clone(),
        details: Map::new(),
    }
}

/// Adds one detail to an event (never a secret: callers pass names and counts).
pub(crate) fn detail(event: &mut AuditEvent, key: &str, value: impl Into<Value>) {
    event.details.insert(key.to_owned(), value.into());
}

/// Which refused logins reach the audit trail: the first per address or
/// account in each minute, and the next one after it with how many were
/// left out in between (`suppressed`).
///
/// A refusal costs its sender almost nothing, while an audit record is a
/// database write; recording every one would let a flood of refused
/// attempts turn into a flood of writes (and an audit table that grows
/// without bound). The metrics still count every refusal.
///
/// Nothing left out goes unreported: a key whose minute has ended is
/// forgotten (swept, at most once a second) with its count of refusals
/// left out, and so is the overflow key's; those counts add up in
/// [`RefusalThrottle::take_unreported`] until a summary record reports them.
#[derive(Debug, Default)]
pub(crate) struct RefusalThrottle {
    seen: std::sync::Mutex<Refusals>,
}

#[derive(Debug, Default)]
struct Refusals {
    /// Key → (start of its minute, refusals left out since).
    keys: std::collections::HashMap<String, (i64, u64)>,
    /// The same for every key that found the map full: a flood from more
    /// addresses or accounts than are tracked still gets one record a minute.
    overflow: Option<(i64, u64)>,
    /// When keys were last swept for ended minutes (at most once a second).
    swept_ms: i64,
    /// Refusals left out under keys since swept, not yet reported.
    unreported: Unreported,
}

/// Refusals left out under keys that were forgotten before another refusal
/// of theirs could report them: for one summary record.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unreported {
    /// How many keys (the overflow key counts as one).
    pub(crate) keys: u64,
    /// How many refusals were left out under them.
    pub(crate) suppressed: u64,
}

/// How long one refusal per key stands for the others (ms).
const REFUSAL_WINDOW_MS: i64 = 60_000;

/// Keys tracked at most; beyond, refusals share one overflow key.
const MAX_REFUSAL_KEYS: usize = 10_000;

/// `Some(left out since the last record)` when the window of `slot` has
/// ended (or never began), restarting it at `now_ms`; else counts one more.
fn admit_in(slot: &mut (i64, u64), now_ms: i64) -> Option<u64> {
    if now_ms.saturating_sub(slot.0) < REFUSAL_WINDOW_MS {
        slot.1 += 1;
        return None;
    }
    let left_out = slot.1;
    *slot = (now_ms, 0);
    Some(left_out)
}

impl Refusals {
    /// Forgets the keys (and the overflow key) whose minute has ended, at
    /// most once a second, keeping what they left out for the summary.
    fn sweep(&mut self, now_ms: i64) {
        if now_ms.saturating_sub(self.swept_ms) < 1_000 {
            return;
        }
        self.swept_ms = now_ms;
        let ended = |start: i64| now_ms.saturating_sub(start) >= REFUSAL_WINDOW_MS;
        let unreported = &mut self.unreported;
        let mut forget = |left_out: u64| {
            if left_out > 0 {
                unreported.keys += 1;
                unreported.suppressed += left_out;
            }
        };
        self.keys.retain(|_, &mut (start, left_out)| {
            let keep = !ended(start);
            if !keep {
                forget(left_out);
            }
            keep
        });
        if let Some((start, left_out)) = self.overflow
            && ended(start)
        {
            forget(left_out);
            self.overflow = None;
        }
    }
}

impl RefusalThrottle {
    /// `Some(refusals left out since the last record)` when the refusal for
    /// `key` at `now_ms` is to be recorded, `None` when it is left out.
    pub(crate) fn admit(&self, key: &str, now_ms: i64) -> Option<u64> {
        let mut seen = self.lock();
        let seen = &mut *seen;
        let known = seen.keys.get_mut(key).map(|slot| admit_in(slot, now_ms));
        seen.sweep(now_ms);
        if let Some(admitted) = known {
            return admitted;
        }
        if seen.keys.len() >= MAX_REFUSAL_KEYS {
            let slot = seen.overflow.get_or_insert((i64::MIN, 0));
            return admit_in(slot, now_ms);
        }
        seen.keys.insert(key.to_owned(), (now_ms, 0));
        Some(0)
    }

    /// What was left out under keys forgotten since the last call, if
    /// anything: the caller records it in one summary record.
    pub(crate) fn take_unreported(&self) -> Option<Unreported> {
        let taken = std::mem::take(&mut self.lock().unreported);
        (taken.suppressed > 0).then_some(taken)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Refusals> {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;

    #[derive(Debug, Default)]
    struct Collect(StdMutex<Vec<AuditKind>>);

    #[async_trait]
    impl AuditSink for Collect {
        fn name(&self) -> &str {
            "collect"
        }
        async fn write(&self, event: &AuditEvent) -> Result<(), AuditSinkError> {
            self.0.lock().unwrap().push(event.kind.clone());
            Ok(())
        }
    }

    #[derive(Debug)]
    struct Failing;

    #[async_trait]
    impl AuditSink for Failing {
        fn name(&self) -> &str {
            "failing"
        }
        async fn write(&self, _: &AuditEvent) -> Result<(), AuditSinkError> {
            Err(std::io::Error::other("disk full").into())
        }
    }

    #[derive(Debug)]
    struct Panicking;

    #[async_trait]
    impl AuditSink for Panicking {
        fn name(&self) -> &str {
            "panicking"
        }
        async fn write(&self, _: &AuditEvent) -> Result<(), AuditSinkError> {
            panic!("a bug in a sink")
        }
    }

    fn an_event(kind: AuditKind) -> AuditEvent {
        event(kind, OffsetDateTime::UNIX_EPOCH, &Origin::default())
    }

    #[tokio::test]
    async fn failing_and_panicking_sinks_are_counted_and_do_not_stop_the_others() {
        let good = Arc::new(Collect::default());
        let log = AuditLog::new(
            None,
            vec![Arc::new(Failing), Arc::new(Panicking), good.clone()],
        );
        for kind in [
            AuditKind::LOGIN_FAILED,
            AuditKind::LOGIN_SUCCEEDED,
            AuditKind::LOGOUT,
        ] {
            log.record(an_event(kind));
        }
        log.flush().await;
        assert_eq!(
            *good.0.lock().unwrap(),
            [
                AuditKind::LOGIN_FAILED,
                AuditKind::LOGIN_SUCCEEDED,
                AuditKind::LOGOUT
            ]
        );
        let counters = log.counters();
        assert_eq!(counters["failing"].failures.load(Ordering::Relaxed), 3);
        assert_eq!(counters["panicking"].failures.load(Ordering::Relaxed), 3);
        assert_eq!(counters["collect"].failures.load(Ordering::Relaxed), 0);
        assert_eq!(log.failures(), 6);
        // The panicking sink's task survives: it is still tried with the next event.
        log.record(an_event(AuditKind::KEY_ROTATED));
        log.flush().await;
        assert_eq!(counters["panicking"].failures.load(Ordering::Relaxed), 4);
        assert_eq!(good.0.lock().unwrap().len(), 4);
    }

    #[tokio::test]
    async fn a_sink_that_never_answers_fills_its_queue_without_blocking_the_caller() {
        #[derive(Debug)]
        struct Stuck;
        #[async_trait]
        impl AuditSink for Stuck {
            fn name(&self) -> &str {
                "stuck"
            }
            async fn write(&self, _: &AuditEvent) -> Result<(), AuditSinkError> {
                std::future::pending().await
            }
        }
        let good = Arc::new(Collect::default());
        let log = AuditLog::new(None, vec![Arc::new(Stuck), good.clone()]);
        // More than the queue holds: record() must return each time at once.
        for _ in 0..AUDIT_QUEUE_CAPACITY + 5 {
            log.record(an_event(AuditKind::LOGIN_FAILED));
        }
        let counters = log.counters();
        assert_eq!(counters["stuck"].dropped.load(Ordering::Relaxed), 5);
        // The healthy sink gets every event its own queue took.
        let taken =
            AUDIT_QUEUE_CAPACITY + 5 - counters["collect"].dropped.load(Ordering::Relaxed) as usize;
        tokio::time::timeout(Duration::from_secs(10), async {
            while good.0.lock().unwrap().len() < taken {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the healthy sink is not held up by the stuck one");
        assert_eq!(counters["stuck"].failures.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn the_file_sink_appends_queued_events_as_lines_in_order() {
        let path = std::env::temp_dir().join(format!("authgate-audit-{}.jsonl", Uuid::now_v7()));
        let log = AuditLog::new(None, vec![Arc::new(FileSink::new(&path))]);
        let kinds = [
            AuditKind::LOGIN_FAILED,
            AuditKind::LOGIN_SUCCEEDED,
            AuditKind::TOKEN_REFRESHED,
            AuditKind::LOGOUT,
        ];
        // Queued faster than the sink's task drains them: written together.
        for kind in &kinds {
            log.record(an_event(kind.clone()));
        }
        log.flush().await;
        log.record(an_event(AuditKind::KEY_ROTATED));
        log.flush().await;
        let text = std::fs::read_to_string(&path).unwrap();
        #[cfg(unix)]
        let mode = {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777
        };
        std::fs::remove_file(&path).unwrap();
        let written: Vec<String> = text
            .lines()
            .map(|line| {
                let event: AuditEvent = serde_json::from_str(line).unwrap();
                event.kind.as_str().to_owned()
            })
            .collect();
        let mut expected: Vec<String> = kinds.iter().map(|k| k.as_str().to_owned()).collect();
        expected.push(AuditKind::KEY_ROTATED.as_str().to_owned());
        assert_eq!(written, expected);
        assert_eq!(log.failures(), 0);
        #[cfg(unix)]
        assert_eq!(mode, 0o600);
    }

    #[tokio::test]
    async fn record_written_skips_the_database_sink() {
        #[derive(Debug, Default)]
        struct Store(StdMutex<usize>);
        #[async_trait]
        impl AuditStore for Store {
            async fn append_event(&self, _: &AuditEvent) -> crate::StoreResult<()> {
                *self.0.lock().unwrap() += 1;
                Ok(())
            }
            async fn events(&self, _: &crate::AuditFilter) -> crate::StoreResult<Vec<AuditEvent>> {
                Ok(Vec::new())
            }
            async fn count_events(&self, _: &str, _: OffsetDateTime) -> crate::StoreResult<u64> {
                Ok(0)
            }
        }
        let store = Arc::new(Store::default());
        let other = Arc::new(Collect::default());
        let log = AuditLog::new(Some(store.clone()), vec![other.clone()]);
        log.record(an_event(AuditKind::LOGIN_FAILED));
        log.record_written(an_event(AuditKind::USER_REGISTERED));
        log.flush().await;
        assert_eq!(
            *store.0.lock().unwrap(),
            1,
            "the store wrote the change event itself"
        );
        assert_eq!(other.0.lock().unwrap().len(), 2);
    }

    #[test]
    fn one_refusal_per_key_and_minute_is_recorded_with_the_count_left_out() {
        let throttle = RefusalThrottle::default();
        assert_eq!(throttle.admit("address:203.0.113.1", 0), Some(0));
        for at in [1, 1_000, 59_999] {
            assert_eq!(throttle.admit("address:203.0.113.1", at), None);
        }
        assert_eq!(
            throttle.admit("account:alice", 500),
            Some(0),
            "keys are separate"
        );
        assert_eq!(throttle.admit("address:203.0.113.1", 60_000), Some(3));
        assert_eq!(throttle.admit("address:203.0.113.1", 60_001), None);
        assert_eq!(throttle.admit("address:203.0.113.1", 200_000), Some(1));
    }

    #[test]
    fn a_full_throttle_folds_new_keys_into_one_record_a_minute() {
        let throttle = RefusalThrottle::default();
        for i in 0..MAX_REFUSAL_KEYS {
            assert_eq!(throttle.admit(&format!("k{i}"), 0), Some(0));
        }
        assert_eq!(
            throttle.admit("one more", 1),
            Some(0),
            "the overflow's first"
        );
        assert_eq!(throttle.admit("and another", 2), None);
        assert_eq!(throttle.admit("one more", 3), None);
        // A minute on, the old keys make room again.
        assert_eq!(throttle.admit("one more", REFUSAL_WINDOW_MS), Some(0));
        assert_eq!(throttle.admit("one more", REFUSAL_WINDOW_MS + 1), None);
    }

    #[test]
    fn a_swept_key_keeps_its_suppressed_count_for_the_summary() {
        let throttle = RefusalThrottle::default();
        assert_eq!(throttle.admit("address:203.0.113.1", 0), Some(0));
        for at in [1, 2, 3] {
            assert_eq!(throttle.admit("address:203.0.113.1", at), None);
        }
        assert_eq!(throttle.take_unreported(), None, "its minute has not ended");
        // That address never comes back; another refusal a minute later
        // sweeps it, and its three left out are not lost.
        assert_eq!(throttle.admit("account:alice", 70_000), Some(0));
        assert_eq!(
            throttle.take_unreported(),
            Some(Unreported {
                keys: 1,
                suppressed: 3
            })
        );
        assert_eq!(throttle.take_unreported(), None, "reported once");
    }

    #[test]
    fn every_refusal_left_out_is_reported_even_past_the_overflow() {
        let throttle = RefusalThrottle::default();
        let (mut left_out, mut reported) = (0u64, 0u64);
        let mut refuse = |key: String, at: i64| {
            match throttle.admit(&key, at) {
                Some(n) => reported += n,
                None => left_out += 1,
            }
            if let Some(u) = throttle.take_unreported() {
                reported += u.suppressed;
            }
        };
        // More keys than are tracked, each refused three times in its
        // minute, then never again; the overflow key collects the rest.
        for round in 0..3 {
            for i in 0..MAX_REFUSAL_KEYS + 500 {
                refuse(format!("k{i}"), 1_000 + round);
            }
        }
        // Later refusals of other keys sweep the ended minutes.
        refuse("late".to_owned(), 200_000);
        refuse("later".to_owned(), 300_000);
        assert!(left_out > 0);
        assert_eq!(reported, left_out, "each refusal left out is reported");
    }

    #[tokio::test]
    async fn a_users_mark_moves_with_every_event_about_them_queued_or_written() {
        let log = AuditLog::new(None, vec![Arc::new(Collect::default())]);
        let (ann, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let about = |user: Option<Uuid>| {
            let mut e = event(
                AuditKind::LOGIN_FAILED,
                OffsetDateTime::UNIX_EPOCH,
                &Origin::default(),
            );
            e.user_id = user;
            e
        };
        let start = log.user_mark(&ann);
        log.record(about(Some(ann)));
        let queued = log.user_mark(&ann);
        assert_ne!(queued, start, "a queued event moves it");
        log.record_written(about(Some(ann)));
        assert_ne!(
            log.user_mark(&ann),
            queued,
            "an event the store wrote moves it"
        );
        let settled = log.user_mark(&ann);
        log.record(about(None));
        assert_eq!(
            log.user_mark(&ann),
            settled,
            "an event about nobody does not"
        );
        if user_bucket(&bob) != user_bucket(&ann) {
            log.record(about(Some(bob)));
            assert_eq!(log.user_mark(&ann), settled, "nor one about another bucket");
        }
        // Flushing waits for what is queued, and returns at once after.
        log.flush().await;
        log.flush().await;
    }
}
