//! [`Flights`]: at most one introspection request per token at a time, and
//! at most `max_in_flight` in all.
//!
//! A token the prefilter lets through costs the authorization server an
//! authenticated request (and an audit row). Without this, a burst of N
//! requests carrying one uncached token made N requests, and a flood of
//! tokens made as many at once as it liked. Tokens are keyed by their
//! SHA-256 so that no bearer token is held here.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use authgate_proto::IntrospectionResponse;
use aws_lc_rs::digest::{SHA256, digest};
use tokio::sync::{OnceCell, Semaphore, SemaphorePermit};

use crate::GuardError;

/// The SHA-256 of a token: how the caches of this module name it.
pub(super) type TokenDigest = [u8; 32];

/// The SHA-256 of `token`.
pub(super) fn token_digest(token: &str) -> TokenDigest {
    let mut out = [0; 32];
    out.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
    out
}

/// What an introspection comes to: the answer, or why there is none.
pub(super) type Outcome = Result<Arc<IntrospectionResponse>, GuardError>;

/// One request under way: every caller asking about the same token waits on
/// it and gets its outcome, an error included (the server being down is
/// news for all of them).
type Flight = OnceCell<Outcome>;

/// The requests under way and the slots they take.
#[derive(Debug)]
pub(super) struct Flights {
    /// Requests under way, by token digest. An entry leaves when its
    /// request ends, answered or cancelled, so the map holds at most one
    /// entry per running request.
    pending: Mutex<HashMap<TokenDigest, Arc<Flight>>>,
    /// One permit per request in flight: `max_in_flight` in all.
    slots: Semaphore,
    /// How long a request waits for a slot before it is answered 503.
    wait: Duration,
}

impl Flights {
    /// At most `max_in_flight` requests at once, each waiting at most
    /// `wait` for its slot. `max_in_flight` was validated (1 to 10 000, far
    /// below the semaphore's limit).
    pub(super) fn new(max_in_flight: usize, wait: Duration) -> Self {
        Self {
            pending: Mutex::new(HashMap::new()),
            slots: Semaphore::new(max_in_flight),
            wait,
        }
    }

    /// The outcome of `ask` for the token of `key`: joins the request under
    /// way for it if there is one, else runs `ask` once a slot is free.
    /// `ask` should cache what it learns before returning, so that a caller
    /// arriving just after the request ends finds the answer in a cache.
    ///
    /// # Errors
    /// [`GuardError::Unavailable`] when no slot frees up within the wait,
    /// and whatever `ask` fails with.
    pub(super) async fn run<F, Fut>(&self, key: TokenDigest, ask: F) -> Outcome
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Outcome>,
    {
        let flight = self.pending().entry(key).or_default().clone();
        flight
            .get_or_init(|| async {
                // Leaves the map when this attempt ends, even cancelled:
                // otherwise callers that give up (clients disconnecting)
                // would leave entries behind, one per forged token.
                let _landing = Landing {
                    flights: self,
                    key,
                    flight: &flight,
                };
                let _slot = self.slot().await?;
                ask().await
            })
            .await
            .clone()
    }

    /// Requests under way now.
    pub(super) fn pending_len(&self) -> usize {
        self.pending().len()
    }

    /// A slot for one request, waiting at most `wait`.
    async fn slot(&self) -> Result<SemaphorePermit<'_>, GuardError> {
        let busy = || {
            tracing::warn!("every introspection slot is busy; answering 503");
            GuardError::Unavailable("too many introspection requests in flight")
        };
        if let Ok(slot) = self.slots.try_acquire() {
            return Ok(slot);
        }
        match tokio::time::timeout(self.wait, self.slots.acquire()).await {
            Ok(Ok(slot)) => Ok(slot),
            // Elapsed, or closed (never: nothing closes it).
            Ok(Err(_)) | Err(_) => Err(busy()),
        }
    }

    fn pending(&self) -> MutexGuard<'_, HashMap<TokenDigest, Arc<Flight>>> {
        // The map is consistent between statements; a panic elsewhere
        // while holding the lock leaves nothing half-done.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Removes a flight from the map when the attempt running it ends.
struct Landing<'a> {
    /// Whose map.
    flights: &'a Flights,
    /// The flight's token digest.
    key: TokenDigest,
    /// The flight itself: a newer flight for the same token stays.
    flight: &'a Arc<Flight>,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        let mut pending = self.flights.pending();
        if pending
            .get(&self.key)
            .is_some_and(|current| Arc::ptr_eq(current, self.flight))
        {
            pending.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::sync::Notify;

    use super::*;

    fn inactive() -> Outcome {
        Ok(Arc::new(IntrospectionResponse::inactive()))
    }

    #[test]
    fn tokens_are_named_by_their_sha256() {
        let hex: String = token_digest("abc")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[tokio::test]
    async fn callers_asking_about_one_token_at_once_share_one_request() {
        let flights = Flights::new(32, Duration::from_secs(5));
        let (asked, release) = (AtomicUsize::new(0), Notify::new());
        let (counter, gate) = (&asked, &release);
        let ask = move || async move {
            counter.fetch_add(1, Ordering::SeqCst);
            gate.notified().await;
            inactive()
        };
        let key = token_digest("t");
        let all = async {
            tokio::join!(
                flights.run(key, ask),
                flights.run(key, ask),
                flights.run(key, ask)
            )
        };
        let open = async {
            while asked.load(Ordering::SeqCst) == 0 {
                tokio::task::yield_now().await;
            }
            release.notify_waiters();
        };
        let ((a, b, c), ()) = tokio::join!(all, open);
        assert!(
            [a, b, c]
                .iter()
                .all(|o| o.as_ref().is_ok_and(|r| !r.active))
        );
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        assert_eq!(flights.pending_len(), 0);
    }

    #[tokio::test]
    async fn a_request_given_up_on_leaves_nothing_behind() {
        let flights = Flights::new(32, Duration::from_secs(5));
        let never = Notify::new();
        let stuck = flights.run(token_digest("t"), || async {
            never.notified().await;
            inactive()
        });
        tokio::select! {
            biased;
            _ = stuck => unreachable!("the request is never answered"),
            () = async {} => {}
        }
        assert_eq!(flights.pending_len(), 0);
    }

    #[tokio::test]
    async fn with_every_slot_busy_a_request_is_refused_after_the_wait() {
        let flights = Flights::new(1, Duration::ZERO);
        let release = Notify::new();
        let held = flights.run(token_digest("a"), || async {
            release.notified().await;
            inactive()
        });
        tokio::pin!(held);
        // Let the first request take the only slot.
        tokio::select! {
            biased;
            _ = &mut held => unreachable!("not released yet"),
            () = async {} => {}
        }
        let refused = flights
            .run(token_digest("b"), || async { inactive() })
            .await;
        assert_eq!(
            refused.map(|_| ()),
            Err(GuardError::Unavailable(
                "too many introspection requests in flight"
            ))
        );
        release.notify_one();
        assert!(held.await.is_ok());
        assert!(
            flights
                .run(token_digest("b"), || async { inactive() })
                .await
                .is_ok()
        );
    }
}
