//! [`RedisBus`]: announces [`Change`]s on the channel `<prefix>changes` and
//! keeps each revocation under `<prefix>revoked:session:<sid>` or
//! `<prefix>revoked:token:<jti>` until its last token expires (the key's
//! TTL), and the latest key change under `<prefix>keys:changed` for
//! [`KEY_CHANGE_KEPT`], so that an instance whose subscription was cut (or
//! had not started yet) catches up on what it missed as soon as it
//! subscribes. [`ChangeBus::listening`] says when that is done.

use std::sync::Arc;
use std::time::Duration;

use ::redis::aio::ConnectionManager;
use async_trait::async_trait;
use authgate_core::{Change, ChangeBus, Clock};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

use super::link::RedisStore;

/// Announcements waiting to be sent; beyond this they are dropped (the
/// database poll still finds the changes).
const QUEUE: usize = 4096;

/// How long to wait before subscribing again after the link was lost.
const RESUBSCRIBE_AFTER: Duration = Duration::from_millis(250);

/// How long [`ChangeBus::flush`] waits at most.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a key change is kept for late subscribers: longer than the
/// database poll that would otherwise find it (every 10 s at most).
const KEY_CHANGE_KEPT: i64 = 60;

/// What the fallback is, for the log line of an outage.
const FALLBACK: &str = "other instances see changes by polling the database meanwhile";

/// The [`ChangeBus`] on Redis pub/sub.
#[derive(Debug, Clone)]
pub struct RedisBus {
    /// The connection and key prefix.
    redis: RedisStore,
    /// This process: its own announcements come back on the channel and
    /// are skipped.
    origin: Uuid,
    /// To the task that sends announcements in order, off the request path.
    queue: mpsc::Sender<Op>,
    /// Whether the subscription is listening and caught up.
    listening: Arc<watch::Sender<bool>>,
}

/// Work for the sending task.
#[derive(Debug)]
enum Op {
    /// Store (revocations) and publish a change.
    Publish(Change),
    /// Answer once everything queued before has been sent.
    Flush(oneshot::Sender<()>),
}

/// A change as it travels on the channel (JSON).
#[derive(Debug, Serialize, Deserialize)]
struct Wire {
    /// The announcing process.
    from: Uuid,
    /// What changed.
    #[serde(flatten)]
    change: WireChange,
}

/// [`Change`] in its wire form.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum WireChange {
    /// [`Change::SessionRevoked`].
    SessionRevoked { sid: Uuid, until: i64 },
    /// [`Change::TokenRevoked`].
    TokenRevoked { jti: String, until: i64 },
    /// [`Change::UserChanged`].
    UserChanged { id: Uuid },
    /// [`Change::KeysChanged`].
    KeysChanged,
}

impl WireChange {
    fn from_change(change: &Change) -> Option<Self> {
        Some(match change {
            Change::SessionRevoked { sid, until } => Self::SessionRevoked {
                sid: *sid,
                until: *until,
            },
            Change::TokenRevoked { jti, until } => Self::TokenRevoked {
                jti: jti.clone(),
                until: *until,
            },
            Change::UserChanged { id } => Self::UserChanged { id: *id },
            Change::KeysChanged => Self::KeysChanged,
            _ => return None,
        })
    }

    fn into_change(self) -> Change {
        match self {
            Self::SessionRevoked { sid, until } => Change::SessionRevoked { sid, until },
            Self::TokenRevoked { jti, until } => Change::TokenRevoked { jti, until },
            Self::UserChanged { id } => Change::UserChanged { id },
            Self::KeysChanged => Change::KeysChanged,
        }
    }
}

impl RedisBus {
    /// A bus on `redis`, with `clock` giving the revocation keys their
    /// remaining lifetime. Starts the sending task: call it inside a Tokio
    /// runtime.
    pub fn new(redis: RedisStore, clock: Arc<dyn Clock>) -> Self {
        let (queue, ops) = mpsc::channel(QUEUE);
        let origin = Uuid::new_v4();
        tokio::spawn(send_loop(redis.clone(), origin, clock, ops));
        Self {
            redis,
            origin,
            queue,
            listening: Arc::new(watch::channel(false).0),
        }
    }
}

#[async_trait]
impl ChangeBus for RedisBus {
    fn publish(&self, change: Change) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.queue.try_send(Op::Publish(change)) {
            tracing::warn!("too many announcements queued for Redis; dropping one ({FALLBACK})");
        }
    }

    fn subscribe(&self, sink: mpsc::Sender<Change>) {
        let listening = self.listening.clone();
        tokio::spawn(follow(self.redis.clone(), self.origin, sink, listening));
    }

    fn listening(&self) -> watch::Receiver<bool> {
        self.listening.subscribe()
    }

    async fn flush(&self) {
        // One bound for both waits: the queue may be full behind a stuck send.
        let (done, finished) = oneshot::channel();
        let _ = tokio::time::timeout(FLUSH_TIMEOUT, async {
            if self.queue.send(Op::Flush(done)).await.is_ok() {
                let _ = finished.await;
            }
        })
        .await;
    }
}

/// Sends the queued announcements in order until the bus is dropped.
async fn send_loop(
    redis: RedisStore,
    origin: Uuid,
    clock: Arc<dyn Clock>,
    mut ops: mpsc::Receiver<Op>,
) {
    while let Some(op) = ops.recv().await {
        match op {
            Op::Publish(change) => announce(&redis, origin, clock.as_ref(), &change).await,
            Op::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}

/// Keeps a revocation until it no longer matters, and publishes the change.
async fn announce(redis: &RedisStore, origin: Uuid, clock: &dyn Clock, change: &Change) {
    let Some(wire) = WireChange::from_change(change) else {
        return;
    };
    let kept = match change {
        Change::SessionRevoked { sid, until } => Some((format!("revoked:session:{sid}"), *until)),
        Change::TokenRevoked { jti, until } => Some((format!("revoked:token:{jti}"), *until)),
        Change::KeysChanged => Some(("keys:changed".to_owned(), clock.unix() + KEY_CHANGE_KEPT)),
        _ => None,
    };
    let Ok(payload) = serde_json::to_string(&Wire {
        from: origin,
        change: wire,
    }) else {
        return;
    };
    let mut pipe = ::redis::pipe();
    if let Some((name, until)) = kept {
        let ttl = until - clock.unix();
        if ttl > 0 {
            pipe.cmd("SET")
                .arg(redis.key(&name))
                .arg(until)
                .arg("EX")
                .arg(ttl)
                .ignore();
        }
    }
    pipe.cmd("PUBLISH")
        .arg(redis.key("changes"))
        .arg(payload)
        .ignore();
    redis
        .run(FALLBACK, |mut conn: ConnectionManager| async move {
            pipe.query_async::<()>(&mut conn).await
        })
        .await;
}

/// Delivers other processes' announcements to `sink` until it closes,
/// subscribing again whenever the link is lost; `listening` is `true` while
/// a subscription is up and caught up.
async fn follow(
    redis: RedisStore,
    origin: Uuid,
    sink: mpsc::Sender<Change>,
    listening: Arc<watch::Sender<bool>>,
) {
    loop {
        tokio::select! {
            () = sink.closed() => return,
            () = listen(&redis, origin, &sink, &listening) => {}
        }
        listening.send_replace(false);
        tokio::select! {
            () = sink.closed() => return,
            () = tokio::time::sleep(RESUBSCRIBE_AFTER) => {}
        }
    }
}

/// One subscription: subscribes, catches up on the revocations and key
/// change kept in Redis (those announced while this one was not
/// listening), says it is listening, then relays announcements until the
/// connection ends.
async fn listen(
    redis: &RedisStore,
    origin: Uuid,
    sink: &mpsc::Sender<Change>,
    listening: &watch::Sender<bool>,
) {
    let channel = redis.key("changes");
    let subscribed = tokio::time::timeout(Duration::from_secs(2), async {
        let mut pubsub = redis.client().get_async_pubsub().await?;
        pubsub.subscribe(&channel).await?;
        Ok::<_, ::redis::RedisError>(pubsub)
    })
    .await;
    let mut pubsub = match subscribed {
        Ok(Ok(pubsub)) => pubsub,
        Ok(Err(e)) => return redis.failed(FALLBACK, &e.to_string()),
        Err(_) => return redis.failed(FALLBACK, "timed out"),
    };
    // Subscribed first, then read: nothing announced in between is missed.
    // Read at once, back-off or not: this follows an outage more often than
    // not, and the subscription just proved Redis reachable. Without the
    // read the subscription is no use (what was announced while we were
    // away would wait for the database poll), so a failed read starts over.
    let Some(kept) = kept_changes(redis).await else {
        return;
    };
    for change in kept {
        if sink.send(change).await.is_err() {
            return;
        }
    }
    listening.send_replace(true);
    let mut messages = pubsub.on_message();
    while let Some(message) = messages.next().await {
        let Ok(wire) = serde_json::from_slice::<Wire>(message.get_payload_bytes()) else {
            tracing::warn!("ignoring an unreadable announcement on the Redis channel");
            continue;
        };
        if wire.from != origin && sink.send(wire.change.into_change()).await.is_err() {
            return;
        }
    }
    redis.failed(FALLBACK, "the subscription was closed");
}

/// The revocations kept in Redis, then the key change if one is kept, as
/// changes to apply; `None` when Redis could not be read (the failure is
/// noted).
async fn kept_changes(redis: &RedisStore) -> Option<Vec<Change>> {
    let keys_changed = redis.key("keys:changed");
    let pattern = format!("{}*", escape_glob(&redis.key("revoked:")));
    let session_prefix = redis.key("revoked:session:");
    let token_prefix = redis.key("revoked:token:");
    let found = redis
        .run_now(FALLBACK, |mut conn: ConnectionManager| async move {
            let mut found = Vec::new();
            let mut cursor: u64 = 0;
            loop {
                let (next, keys): (u64, Vec<String>) = ::redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(1000)
                    .query_async(&mut conn)
                    .await?;
                if !keys.is_empty() {
                    let values: Vec<Option<i64>> = ::redis::cmd("MGET")
                        .arg(&keys)
                        .query_async(&mut conn)
                        .await?;
                    found.extend(keys.into_iter().zip(values));
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
            let keys_changed: bool = ::redis::cmd("EXISTS")
                .arg(&keys_changed)
                .query_async(&mut conn)
                .await?;
            Ok((found, keys_changed))
        })
        .await?;
    let (found, keys_changed) = found;
    let mut changes: Vec<Change> = found
        .into_iter()
        .filter_map(|(key, until)| {
            let until = until?;
            if let Some(sid) = key.strip_prefix(&session_prefix) {
                let sid = sid.parse().ok()?;
                Some(Change::SessionRevoked { sid, until })
            } else {
                let jti = key.strip_prefix(&token_prefix)?.to_owned();
                Some(Change::TokenRevoked { jti, until })
            }
        })
        .collect();
    if keys_changed {
        changes.push(Change::KeysChanged);
    }
    Some(changes)
}

/// `text` with Redis glob characters escaped, for a MATCH pattern.
fn escape_glob(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_travel_as_json_and_come_back_the_same() {
        let sid = Uuid::now_v7();
        let change = Change::SessionRevoked { sid, until: 42 };
        let wire = Wire {
            from: Uuid::nil(),
            change: WireChange::from_change(&change).unwrap(),
        };
        let json = serde_json::to_value(&wire).unwrap();
        assert_eq!(json["kind"], "session_revoked");
        let back: Wire = serde_json::from_value(json).unwrap();
        assert_eq!(back.change.into_change(), change);
    }

    #[test]
    fn glob_characters_in_the_prefix_match_only_themselves() {
        assert_eq!(escape_glob("a*b?[c]\\:"), "a\\*b\\?\\[c\\]\\\\:");
    }
}
