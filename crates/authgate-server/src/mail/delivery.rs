//! [`Delivery`]: the worker that empties the outbox. It claims the messages
//! due, opens each, hands it to the [`Transport`], and records the outcome:
//! delivered (the text wiped), retried with back-off, or given up after
//! `email.max_attempts` (logged, wiped). A message claimed by an instance
//! that dies is retried once its claim lapses.

use std::sync::Arc;
use std::time::Duration;

use authgate_core::{Clock, MasterKey, OutboxStore, Purpose, QueuedMail};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::transport::Transport;

/// Messages claimed at a time.
const BATCH: u32 = 16;

/// The first retry's delay; each later one doubles it, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(30);

/// The longest delay between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// How often the worker looks for due messages without being woken (retries
/// and other instances' messages).
const POLL: Duration = Duration::from_secs(5);

/// How long delivered and abandoned messages (without their text) are kept
/// for the hourly limits, and how often they are purged.
const KEEP: time::Duration = time::Duration::days(1);

/// The outbox's delivery worker.
pub(crate) struct Delivery {
    /// The outbox.
    outbox: Arc<dyn OutboxStore>,
    /// Opens the sealed messages.
    master: Arc<MasterKey>,
    /// Where they go.
    transport: Transport,
    /// The time of attempts and back-offs.
    clock: Arc<dyn Clock>,
    /// Rung when a message is queued.
    wake: Arc<Notify>,
    /// `email.max_attempts`.
    max_attempts: u32,
    /// `email.timeout`: one delivery's limit (the claim lasts longer).
    timeout: Duration,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    /// A worker delivering the outbox's messages through `transport`.
    pub(crate) fn new(
        outbox: Arc<dyn OutboxStore>,
        master: Arc<MasterKey>,
        transport: Transport,
        clock: Arc<dyn Clock>,
        wake: Arc<Notify>,
        max_attempts: u32,
        timeout: Duration,
    ) -> Self {
        Self {
            outbox,
            master,
            transport,
            clock,
            wake,
            max_attempts: max_attempts.max(1),
            timeout,
        }
    }

    /// Where messages go, for the start-up log.
    pub(crate) fn describe(&self) -> String {
        self.transport.describe()
    }

    /// Runs until aborted: a round whenever a message is queued, and every
    /// few seconds for retries; old rows are purged now and then.
    pub(crate) fn spawn(self: Arc<Self>) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut last_purge: Option<time::OffsetDateTime> = None;
            loop {
                while self.run_once().await > 0 {}
                let now = self.clock.now();
                if last_purge.is_none_or(|at| now - at > time::Duration::hours(1)) {
                    last_purge = Some(now);
                    if let Err(e) = self.outbox.purge_mail(now - KEEP).await {
                        tracing::warn!(error = %e, "purging the mail outbox failed");
                    }
                }
                tokio::select! {
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(POLL) => {}
                }
            }
        })
    }

    /// Delivers the messages due now (one batch); returns how many it tried.
    pub(crate) async fn run_once(&self) -> usize {
        let now = self.clock.now();
        // Longer than one delivery can take, so a message is never sent
        // twice at once; short enough that a crash delays it little.
        let lease = time::Duration::try_from(self.timeout * 3).unwrap_or(time::Duration::MINUTE);
        let due = match self.outbox.claim_mail(now, now + lease, BATCH).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "reading the mail outbox failed");
                return 0;
            }
        };
        let tried = due.len();
        for mail in due {
            self.deliver(mail).await;
        }
        tried
    }

    /// One attempt at `mail` (its `attempts` already counts it).
    async fn deliver(&self, mail: QueuedMail) {
        let outcome =
            match self
                .master
                .open(Purpose::OutboxMessage, &mail.sealed, mail.id.as_bytes())
            {
                Ok(message) => tokio::time::timeout(
                    self.timeout,
                    self.transport
                        .deliver(mail.id, &mail.sender, &mail.recipient, &message),
                )
                .await
                .unwrap_or_else(|_| Err("timed out".to_owned())),
                // Another master key sealed it: no attempt will ever open it.
                Err(_) => {
                    self.record_failure(
                        &mail,
                        None,
                        "the message does not open with this master key",
                    )
                    .await;
                    return;
                }
            };
        match outcome {
            Ok(()) => {
                metrics::counter!("authgate_mail_total", "outcome" => "sent").increment(1);
                tracing::info!(id = %mail.id, kind = %mail.kind, attempts = mail.attempts, "email delivered");
                if let Err(e) = self.outbox.mail_sent(mail.id, self.clock.now()).await {
                    tracing::warn!(error = %e, id = %mail.id, "recording a delivery failed");
                }
            }
            Err(why) => {
                let retry_at = (mail.attempts < self.max_attempts)
                    .then(|| self.clock.now() + backoff(mail.attempts));
                self.record_failure(&mail, retry_at, &why).await;
            }
        }
    }

    /// Records a failed attempt, retried at `retry_at` or given up.
    async fn record_failure(
        &self,
        mail: &QueuedMail,
        retry_at: Option<time::OffsetDateTime>,
        why: &str,
    ) {
        if retry_at.is_some() {
            metrics::counter!("authgate_mail_total", "outcome" => "retried").increment(1);
            tracing::warn!(id = %mail.id, kind = %mail.kind, attempts = mail.attempts, error = why, "email delivery failed; will retry");
        } else {
            metrics::counter!("authgate_mail_total", "outcome" => "given_up").increment(1);
            tracing::error!(id = %mail.id, kind = %mail.kind, attempts = mail.attempts, error = why, "email delivery failed; giving up");
        }
        if let Err(e) = self.outbox.mail_failed(mail.id, retry_at, why).await {
            tracing::warn!(error = %e, id = %mail.id, "recording a failed delivery failed");
        }
    }
}

/// The wait after the `attempts`-th failed attempt: 30 s, doubling, at most an hour.
fn backoff(attempts: u32) -> time::Duration {
    let factor = 1u32 << attempts.saturating_sub(1).min(16);
    let wait = FIRST_BACKOFF.saturating_mul(factor).min(MAX_BACKOFF);
    time::Duration::try_from(wait).unwrap_or(time::Duration::HOUR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_thirty_seconds_to_an_hour() {
        assert_eq!(backoff(1), time::Duration::seconds(30));
        assert_eq!(backoff(2), time::Duration::seconds(60));
        assert_eq!(backoff(3), time::Duration::seconds(120));
        assert_eq!(backoff(8), time::Duration::hours(1));
        assert_eq!(backoff(40), time::Duration::hours(1));
    }
}
