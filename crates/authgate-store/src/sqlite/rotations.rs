//! Group commit of refresh-token rotations on SQLite: rotations that arrive
//! together share one write transaction, so one `BEGIN IMMEDIATE`, one
//! commit (one fsync of the write-ahead log) and one turn of the writer
//! connection serve them all.
//!
//! A refresh is the hot path of every client, and SQLite admits one writer
//! at a time: committing rotations one by one, each waited for its own
//! fsync while the rest queued, and the server spent most of a refresh's
//! CPU putting threads to sleep and waking them (bench/RESULTS.md,
//! "OpenID Connect"). Durability is unchanged: a caller hears that its
//! rotation happened only after the commit that holds it has returned.

use authgate_core::{RefreshToken, StoreError, StoreResult, TokenHash};
use authgate_proto::AuditEvent;
use sqlx::SqlitePool;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use super::BEGIN_WRITE;
use super::error::map_err;
use crate::common::WriteTx;
use crate::common::sessions::SessionTx;

/// Rotations handed in and not yet taken by the committer; past this,
/// callers wait to hand in theirs (each has the pool's acquire timeout on
/// its writer turn, not here: a full queue drains at the commit rate).
const QUEUE: usize = 1024;

/// Most rotations committed together: it bounds how long one group holds
/// the writer connection that every other write transaction waits for.
const MAX_GROUP: usize = 64;

/// One rotation waiting for its group's commit (the arguments of
/// `SessionStore::rotate_audited`).
#[derive(Debug)]
struct Rotation {
    parent: TokenHash,
    successor: RefreshToken,
    sealed: Vec<u8>,
    now: OffsetDateTime,
    audit: Option<AuditEvent>,
    /// Whether it happened, once its group has committed (or failed).
    done: oneshot::Sender<StoreResult<bool>>,
}

/// Hands rotations to the task that commits them in groups on the writer
/// connection. Cheap to clone; the task ends when the last clone is gone.
#[derive(Debug, Clone)]
pub(super) struct Committer {
    queue: mpsc::Sender<Rotation>,
}

impl Committer {
    /// Starts the committing task on the current runtime, writing through
    /// `writer` (the store's one write-transaction connection, so these
    /// groups take their turn with every other write transaction).
    pub(super) fn start(writer: SqlitePool) -> Self {
        let (queue, rotations) = mpsc::channel(QUEUE);
        tokio::spawn(run(writer, rotations));
        Self { queue }
    }

    /// `SessionStore::rotate_audited`: the rotation committed with whatever
    /// others arrived meanwhile. Once handed in, it is committed or rolled
    /// back whether or not the caller is still waiting (a client that
    /// disconnects changes nothing about a refresh under way).
    ///
    /// # Errors
    /// The group's failure, which every rotation of the group shares (none
    /// of them happened); [`StoreError::Unavailable`] once the store is closed.
    pub(super) async fn rotate(
        &self,
        parent: &TokenHash,
        successor: &RefreshToken,
        sealed: &[u8],
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool> {
        let (done, outcome) = oneshot::channel();
        let rotation = Rotation {
            parent: *parent,
            successor: successor.clone(),
            sealed: sealed.to_vec(),
            now,
            audit: audit.cloned(),
            done,
        };
        self.queue
            .send(rotation)
            .await
            .map_err(|_| StoreError::Unavailable("the store is closed".into()))?;
        outcome
            .await
            .map_err(|_| StoreError::Other("the rotation committer stopped".into()))?
    }
}

/// Takes whatever rotations are waiting (at least one, at most
/// [`MAX_GROUP`]), commits them together and answers each.
async fn run(writer: SqlitePool, mut rotations: mpsc::Receiver<Rotation>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while rotations.recv_many(&mut group, MAX_GROUP).await > 0 {
        match commit(&writer, &group).await {
            Ok(won) => {
                for (rotation, won) in group.drain(..).zip(won) {
                    let _ = rotation.done.send(Ok(won));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, rotations = group.len(), "a group of refresh-token rotations failed; none happened");
                for rotation in group.drain(..) {
                    let _ = rotation.done.send(Err(e.clone()));
                }
            }
        }
    }
}

/// One transaction for the whole group: each rotation's claim sees the ones
/// before it (two refreshes racing with one token: the second finds it
/// used), and nothing of the group is kept if any step fails.
async fn commit(writer: &SqlitePool, group: &[Rotation]) -> StoreResult<Vec<bool>> {
    let mut tx = writer.begin_with(BEGIN_WRITE).await.map_err(map_err)?;
    let mut won = Vec::with_capacity(group.len());
    for r in group {
        won.push(
            SessionTx::rotate(
                &mut tx,
                &r.parent,
                &r.successor,
                &r.sealed,
                r.now,
                r.audit.as_ref(),
            )
            .await?,
        );
    }
    WriteTx::commit(tx).await?;
    Ok(won)
}
