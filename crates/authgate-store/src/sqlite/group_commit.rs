//! Group commit of the hot writes on SQLite: refresh-token rotations, new
//! sessions (logins, code exchanges) and authorization-code uses that
//! arrive together share one write transaction, so one `BEGIN IMMEDIATE`,
//! one commit (one fsync of the write-ahead log) and one turn of the writer
//! connection serve them all.
//!
//! These are the writes every client makes, and SQLite admits one writer
//! at a time: committed one by one, each waited for its own fsync while the
//! rest queued, and the server spent most of a refresh's CPU putting
//! threads to sleep and waking them (docs/architecture.md, "The cost of a
//! refresh on SQLite"). Durability is unchanged: a caller hears that its
//! write happened only after the commit that holds it has returned.
//!
//! A group whose transaction fails is rolled back whole and its writes are
//! then retried each in a transaction of its own, so one write the
//! database refuses fails alone, not with the others of its group.

use authgate_core::oidc::code::CodeUse;
use authgate_core::{RefreshToken, Session, StoreError, StoreResult, TokenHash};
use authgate_proto::AuditEvent;
use sqlx::{Sqlite, SqlitePool, Transaction};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::BEGIN_WRITE;
use super::error::map_err;
use super::oidc::use_code_in;
use super::session_tx::create_session_in;
use crate::common::WriteTx;
use crate::common::sessions::SessionTx;

/// Writes handed in and not yet taken by the committer; past this, callers
/// wait to hand in theirs (a full queue drains at the commit rate).
const QUEUE: usize = 1024;

/// Most writes committed together: it bounds how long one group holds the
/// writer connection that every other write transaction waits for.
const MAX_GROUP: usize = 64;

/// One write waiting for its group's commit, with where its outcome goes.
/// (No `Debug`: it holds a sealed successor token and audit records, and
/// nothing should print them.)
enum Write {
    /// `SessionStore::rotate_audited`'s arguments.
    Rotate {
        parent: TokenHash,
        successor: RefreshToken,
        sealed: Vec<u8>,
        now: OffsetDateTime,
        audit: Option<AuditEvent>,
        done: oneshot::Sender<StoreResult<bool>>,
    },
    /// `SessionStore::create_session_audited`'s arguments.
    CreateSession {
        session: Session,
        first: RefreshToken,
        audit: Option<AuditEvent>,
        done: oneshot::Sender<StoreResult<bool>>,
    },
    /// `OidcStore::use_code`'s arguments.
    UseCode {
        hash: TokenHash,
        session_id: Uuid,
        now: OffsetDateTime,
        done: oneshot::Sender<StoreResult<CodeUse>>,
    },
}

/// What a write did, before its group's commit makes it so.
enum Applied {
    /// A rotation's or a new session's "it happened".
    Done(bool),
    /// A code use's outcome (boxed: a code record is large).
    Code(Box<CodeUse>),
}

impl Write {
    /// Makes this write inside `tx`.
    async fn apply(&self, tx: &mut Transaction<'static, Sqlite>) -> StoreResult<Applied> {
        match self {
            Self::Rotate {
                parent,
                successor,
                sealed,
                now,
                audit,
                ..
            } => SessionTx::rotate(tx, parent, successor, sealed, *now, audit.as_ref())
                .await
                .map(Applied::Done),
            Self::CreateSession {
                session,
                first,
                audit,
                ..
            } => create_session_in(tx, session, first, audit.as_ref())
                .await
                .map(Applied::Done),
            Self::UseCode {
                hash,
                session_id,
                now,
                ..
            } => use_code_in(tx, hash, *session_id, *now)
                .await
                .map(|used| Applied::Code(Box::new(used))),
        }
    }

    /// Tells the caller its outcome (a caller that stopped waiting is not
    /// told; its write stands).
    fn answer(self, outcome: StoreResult<Applied>) {
        let mismatch = || StoreError::Other("a group-committed write got another's outcome".into());
        match self {
            Self::Rotate { done, .. } | Self::CreateSession { done, .. } => {
                let _ = done.send(match outcome {
                    Ok(Applied::Done(done)) => Ok(done),
                    Ok(Applied::Code(_)) => Err(mismatch()),
                    Err(e) => Err(e),
                });
            }
            Self::UseCode { done, .. } => {
                let _ = done.send(match outcome {
                    Ok(Applied::Code(used)) => Ok(*used),
                    Ok(Applied::Done(_)) => Err(mismatch()),
                    Err(e) => Err(e),
                });
            }
        }
    }
}

/// Hands writes to the task that commits them in groups on the writer
/// connection. Cheap to clone; the task ends when the last clone is gone.
#[derive(Debug, Clone)]
pub(super) struct Committer {
    queue: mpsc::Sender<Write>,
}

impl Committer {
    /// Starts the committing task on the current runtime, writing through
    /// `writer` (the store's one write-transaction connection, so these
    /// groups take their turn with every other write transaction).
    pub(super) fn start(writer: SqlitePool) -> Self {
        let (queue, writes) = mpsc::channel(QUEUE);
        tokio::spawn(run(writer, writes));
        Self { queue }
    }

    /// `SessionStore::rotate_audited`, committed with whatever other writes
    /// arrived meanwhile. Once handed in, a write is committed or rolled
    /// back whether or not its caller is still waiting (a client that
    /// disconnects changes nothing about a refresh under way).
    ///
    /// # Errors
    /// The write's failure; [`StoreError::Unavailable`] once the store is
    /// closed.
    pub(super) async fn rotate(
        &self,
        parent: &TokenHash,
        successor: &RefreshToken,
        sealed: &[u8],
        now: OffsetDateTime,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool> {
        let (done, outcome) = oneshot::channel();
        self.hand_in(Write::Rotate {
            parent: *parent,
            successor: successor.clone(),
            sealed: sealed.to_vec(),
            now,
            audit: audit.cloned(),
            done,
        })
        .await?;
        Self::wait(outcome).await
    }

    /// `SessionStore::create_session_audited`, group-committed as
    /// [`Committer::rotate`].
    ///
    /// # Errors
    /// As [`Committer::rotate`]; [`StoreError::Other`] when `first` belongs
    /// to another session (nothing is handed in).
    pub(super) async fn create_session(
        &self,
        session: &Session,
        first: &RefreshToken,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<bool> {
        if first.session_id != session.id {
            return Err(StoreError::Other(
                "the first refresh token belongs to another session".into(),
            ));
        }
        let (done, outcome) = oneshot::channel();
        self.hand_in(Write::CreateSession {
            session: session.clone(),
            first: first.clone(),
            audit: audit.cloned(),
            done,
        })
        .await?;
        Self::wait(outcome).await
    }

    /// `OidcStore::use_code`, group-committed as [`Committer::rotate`]:
    /// within a group each use sees the ones before it, so of two uses of
    /// one code exactly one is the first.
    ///
    /// # Errors
    /// As [`Committer::rotate`].
    pub(super) async fn use_code(
        &self,
        hash: &TokenHash,
        session_id: Uuid,
        now: OffsetDateTime,
    ) -> StoreResult<CodeUse> {
        let (done, outcome) = oneshot::channel();
        self.hand_in(Write::UseCode {
            hash: *hash,
            session_id,
            now,
            done,
        })
        .await?;
        Self::wait(outcome).await
    }

    async fn hand_in(&self, write: Write) -> StoreResult<()> {
        self.queue
            .send(write)
            .await
            .map_err(|_| StoreError::Unavailable("the store is closed".into()))
    }

    async fn wait<T>(outcome: oneshot::Receiver<StoreResult<T>>) -> StoreResult<T> {
        outcome
            .await
            .map_err(|_| StoreError::Other("the group committer stopped".into()))?
    }
}

/// Takes whatever writes are waiting (at least one, at most
/// [`MAX_GROUP`]), commits them together and answers each; when the group
/// fails, retries each alone.
async fn run(writer: SqlitePool, mut writes: mpsc::Receiver<Write>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while writes.recv_many(&mut group, MAX_GROUP).await > 0 {
        match commit(&writer, &group).await {
            Ok(applied) => {
                for (write, applied) in group.drain(..).zip(applied) {
                    write.answer(Ok(applied));
                }
            }
            Err(e) if group.len() == 1 => {
                for write in group.drain(..) {
                    write.answer(Err(e.clone()));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, writes = group.len(), "a group commit failed; retrying its writes one by one");
                for write in group.drain(..) {
                    let alone = commit(&writer, std::slice::from_ref(&write)).await;
                    write.answer(alone.map(|mut applied| applied.remove(0)));
                }
            }
        }
    }
}

/// One transaction for the whole group: each write sees the ones before it
/// (two refreshes racing with one token: the second finds it used), and
/// nothing of the group is kept if any step fails.
async fn commit(writer: &SqlitePool, group: &[Write]) -> StoreResult<Vec<Applied>> {
    let mut tx = writer.begin_with(BEGIN_WRITE).await.map_err(map_err)?;
    let mut applied = Vec::with_capacity(group.len());
    for write in group {
        applied.push(write.apply(&mut tx).await?);
    }
    WriteTx::commit(tx).await?;
    Ok(applied)
}
