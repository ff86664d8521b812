//! Password hashing (argon2id, PHC strings) on a bounded pool, and the password policy.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use aws_lc_rs::constant_time;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use tokio::sync::oneshot;
use zeroize::Zeroize;

use crate::error::AuthError;
use crate::identity::Password;
use crate::limits::ATTEMPT_RESERVATION_SECS;

mod costs;

pub use costs::{parameters_cost, phc_cost};

/// Longest a hash or verify may take, queue included, before the caller is
/// answered [`AuthError::Overloaded`] (503) and the queued job is skipped.
/// Half a login attempt's reservation: a guess checked after its reservation
/// lapsed could otherwise run beside another one granted meanwhile,
/// outrunning the per-account delay under a flood of logins.
pub(crate) const MAX_WAIT: std::time::Duration =
    std::time::Duration::from_secs(ATTEMPT_RESERVATION_SECS / 2);

/// Argon2id cost parameters. Defaults are OWASP's: m=19456 KiB, t=2, p=1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Settings {
    /// Memory in KiB. Defaults to 19456.
    pub memory_kib: u32,
    /// Passes. Defaults to 2.
    pub iterations: u32,
    /// Lanes. Defaults to 1.
    pub parallelism: u32,
}

impl Default for Argon2Settings {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// The password policy of docs/http-api.md. Defaults: at least 8 characters, zxcvbn score 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Fewest characters accepted. Defaults to 8.
    pub min_length: usize,
    /// Lowest zxcvbn score (0-4) accepted; 0 turns the estimator off. Defaults to 2.
    pub min_strength: u8,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 8,
            min_strength: 2,
        }
    }
}

impl PasswordPolicy {
    /// Checks a new password; `related` are the user's email, username and
    /// name, which the password may not equal and which make it weaker.
    ///
    /// # Errors
    /// [`AuthError::InvalidInput`] naming `password`, saying why.
    pub fn check(&self, password: &Password, related: &[&str]) -> Result<(), AuthError> {
        let text = password.expose();
        let chars = text.chars().count();
        if chars < self.min_length {
            return Err(AuthError::invalid(
                "password",
                format!("password must be at least {} characters", self.min_length),
            ));
        }
        if related
            .iter()
            .any(|r| !r.is_empty() && r.eq_ignore_ascii_case(text))
        {
            return Err(AuthError::invalid(
                "password",
                "password must not equal the email or username",
            ));
        }
        if self.min_strength > 0 {
            let score = u8::from(zxcvbn::zxcvbn(text, related).score());
            if score < self.min_strength {
                return Err(AuthError::invalid(
                    "password",
                    format!(
                        "password is too weak (strength {score} of 4, {} required)",
                        self.min_strength
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The outcome of checking a password against a stored hash.
#[derive(Clone, PartialEq, Eq)]
pub struct Verified {
    /// Whether the password matched.
    pub ok: bool,
    /// When it matched a hash made with other parameters than the configured
    /// ones: a new hash of the same password to store in its place.
    pub rehash: Option<String>,
}

impl std::fmt::Debug for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verified")
            .field("ok", &self.ok)
            .field("rehash", &self.rehash.is_some())
            .finish()
    }
}

/// Hashes and verifies passwords with argon2id, a bounded number at a time.
///
/// Each hash takes tens of milliseconds and ~19 MiB, so hashing runs on its
/// own `concurrency` threads, never on the async runtime: a flood of logins
/// queues here instead of stalling token checks or exhausting memory.
///
/// The threads take the next request from a queue themselves as soon as a
/// hash is done. Handing each hash to the async runtime and back (a
/// semaphore and a blocking task) left a core idle between hashes, waiting
/// for the wake-ups to go round: about 7% of login throughput on two cores.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    /// Shared by clones; the hashing threads stop when the last one is dropped.
    handle: Arc<Handle>,
}

/// Owned by the hashers; closes the queue when dropped, so the threads end.
#[derive(Debug)]
struct Handle {
    inner: Arc<Inner>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        lock(&self.inner.queue).closed = true;
        self.inner.work.notify_all();
    }
}

/// A request for a hashing thread.
type Job = Box<dyn FnOnce(&Inner) + Send>;

/// Requests waiting for a hashing thread, first come first served.
struct Queue {
    jobs: VecDeque<Job>,
    /// Set when the last [`PasswordHasher`] is dropped: threads finish what
    /// is queued and end.
    closed: bool,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("jobs", &self.jobs.len())
            .field("closed", &self.closed)
            .finish()
    }
}

#[derive(Debug)]
struct Inner {
    argon2: Argon2<'static>,
    params: Params,
    queue: Mutex<Queue>,
    /// Signalled when a job is queued or the queue closes.
    work: Condvar,
    /// Argon2 working memory, one buffer per running hash, reused: allocating and
    /// faulting in ~19 MiB of fresh pages per hash cost ~15% of a login's
    /// CPU. What a hash leaves behind is wiped only when it is a cheap
    /// oracle for guessing the password (see [`wipe_if_cheap_oracle`]).
    buffers: Mutex<Vec<Vec<Block>>>,
    /// The parameter sets of stored hashes, each with a dummy hash: every
    /// check verifies once with each, so unknown users cost the same time
    /// as known ones whatever parameters their hashes were made with.
    costs: costs::Costs,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A hashing thread: takes jobs until the queue is closed and empty.
fn hashing_thread(inner: &Inner) {
    loop {
        let job = {
            let mut queue = lock(&inner.queue);
            loop {
                if let Some(job) = queue.jobs.pop_front() {
                    break job;
                }
                if queue.closed {
                    return;
                }
                queue = inner
                    .work
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        // A job that panics loses its answer (the caller gets an error), not the thread.
        let _ = catch_unwind(AssertUnwindSafe(|| job(inner)));
    }
}

impl PasswordHasher {
    /// A hasher with `settings`, running at most `concurrency` (≥ 1) hashes at
    /// once, each on its own thread.
    ///
    /// # Errors
    /// [`AuthError::InvalidInput`] naming `argon2` for parameters argon2
    /// refuses; [`AuthError::Internal`] if a thread cannot be started.
    pub fn new(settings: Argon2Settings, concurrency: usize) -> Result<Self, AuthError> {
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            None,
        )
        .map_err(|e| AuthError::invalid("argon2", format!("invalid argon2 parameters: {e}")))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut blocks = Vec::new();
        let current = hash_with(
            &argon2,
            &params,
            &crate::secrets::random_token()?,
            &mut blocks,
        )?;
        let current = costs::phc_cost(&current)
            .ok_or_else(|| AuthError::Internal("password hashing failed".into()))?;
        let threads = concurrency.max(1);
        let inner = Arc::new(Inner {
            argon2,
            params,
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                closed: false,
            }),
            work: Condvar::new(),
            buffers: Mutex::new(Vec::with_capacity(threads)),
            costs: costs::Costs::new(current),
        });
        // Built before the threads: if one fails to start, dropping it
        // stops those already running.
        let handle = Arc::new(Handle {
            inner: Arc::clone(&inner),
        });
        for i in 0..threads {
            let inner = Arc::clone(&inner);
            std::thread::Builder::new()
                .name(format!("authgate-hash-{i}"))
                .spawn(move || hashing_thread(&inner))
                .map_err(|e| AuthError::Internal(format!("cannot start a hashing thread: {e}")))?;
        }
        Ok(Self { handle })
    }

    /// How many hash requests are waiting for a free slot.
    pub fn queue_depth(&self) -> usize {
        lock(&self.handle.inner.queue).jobs.len()
    }

    /// Hashes a new password into a PHC string.
    ///
    /// # Errors
    /// [`AuthError::Internal`] if hashing fails.
    pub async fn hash(&self, password: Password) -> Result<String, AuthError> {
        self.run(move |inner, blocks| {
            hash_with(&inner.argon2, &inner.params, password.expose(), blocks)
        })
        .await
    }

    /// Checks `password` against a stored PHC string; `None` (unknown user)
    /// checks against a dummy hash. Either way the check then verifies once
    /// against a dummy of every other parameter set stored hashes are known
    /// to use ([`include_costs`](Self::include_costs)), so the time taken
    /// tells neither whether the user exists nor how old their hash is.
    ///
    /// # Errors
    /// [`AuthError::Internal`] if the pool fails.
    pub async fn verify(
        &self,
        password: Password,
        stored: Option<String>,
    ) -> Result<Verified, AuthError> {
        self.run(move |inner, blocks| {
            verify_paying_every_cost(inner, password.expose(), stored.as_deref(), blocks)
                .map(|(verified, _)| verified)
        })
        .await
    }

    /// Adds the costs ([`phc_cost`]) of hashes in the store, which every
    /// check pays from now on; the store lists them at startup
    /// ([`UserStore::password_hash_costs`](crate::UserStore::password_hash_costs)).
    /// A cost met in a check but not listed is learnt then (that one check
    /// took less time than an unknown user's).
    pub fn include_costs(&self, costs: &[String]) {
        for cost in costs {
            self.handle.inner.costs.learn(cost);
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Inner, &mut Vec<Block>) -> Result<T, AuthError> + Send + 'static,
    ) -> Result<T, AuthError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |inner| {
            // Whoever asked is gone (a dropped request): no hash for nobody.
            if tx.is_closed() {
                return;
            }
            let mut blocks = lock(&inner.buffers).pop().unwrap_or_default();
            let result = job(inner, &mut blocks);
            // Back before the answer goes out: at most one buffer per thread.
            lock(&inner.buffers).push(blocks);
            let _ = tx.send(result);
        });
        let inner = &self.handle.inner;
        lock(&inner.queue).jobs.push_back(job);
        inner.work.notify_one();
        // Dropping `rx` on timeout closes the channel: the job, if still
        // queued, is skipped.
        tokio::time::timeout(MAX_WAIT, rx)
            .await
            .map_err(|_| AuthError::Overloaded("password hashing"))?
            .map_err(|_| AuthError::Internal("hashing task failed".into()))?
    }
}

/// [`PasswordHasher::verify`] on a hashing thread, with the costs paid:
/// one verification with `stored` (or the configured parameters' dummy),
/// then one with the dummy of every other known cost.
fn verify_paying_every_cost(
    inner: &Inner,
    password: &str,
    stored: Option<&str>,
    blocks: &mut Vec<Block>,
) -> Result<(Verified, Vec<String>), AuthError> {
    let dummy;
    let phc = match stored {
        Some(phc) => phc,
        None => {
            dummy = inner.costs.current_dummy();
            dummy.as_str()
        }
    };
    let mut paid = Vec::new();
    let hash = PasswordHash::new(phc).ok();
    let cost = hash.as_ref().and_then(costs::cost_of);
    let ok = match &hash {
        Some(hash) => {
            paid.push(cost.clone().unwrap_or_default());
            verify_with(hash, password, blocks) && stored.is_some()
        }
        None => {
            // A corrupt stored hash must not let anyone in, nor crash.
            tracing::error!("stored password hash is not a PHC string");
            false
        }
    };
    let learnt = cost.as_deref().filter(|cost| inner.costs.learn(cost));
    for dummy in inner.costs.others(learnt) {
        if let Ok(dummy) = PasswordHash::new(&dummy) {
            paid.push(costs::cost_of(&dummy).unwrap_or_default());
            verify_with(&dummy, password, blocks);
        }
    }
    let rehash = match &hash {
        Some(hash) if ok && !is_current(hash, &inner.params) => {
            Some(hash_with(&inner.argon2, &inner.params, password, blocks)?)
        }
        _ => None,
    };
    Ok((Verified { ok, rehash }, paid))
}

/// Whether `hash` is at least as costly as `params` asks (memory and
/// passes; argon2id, version 0x13, a full-length output). Upgraded, never
/// downgraded: lowering the parameters, by mistake or to save CPU, never
/// weakens stored hashes.
fn is_current(hash: &PasswordHash, params: &Params) -> bool {
    hash.algorithm.as_str() == "argon2id"
        && hash.version == Some(argon2::Version::V0x13.into())
        && hash
            .hash
            .is_some_and(|output| output.len() >= argon2::Params::DEFAULT_OUTPUT_LEN)
        && Params::try_from(hash)
            .is_ok_and(|p| p.m_cost() >= params.m_cost() && p.t_cost() >= params.t_cost())
}

/// `blocks` grown to what `params` need (never shrunk: the pool is per slot).
fn working_memory<'b>(blocks: &'b mut Vec<Block>, params: &Params) -> &'b mut [Block] {
    let needed = params.block_count();
    if blocks.len() < needed {
        blocks.resize(needed, Block::new());
    }
    &mut blocks[..needed]
}

/// Wipes the working memory a hash with `params` left, if it could test
/// password guesses more cheaply than the stored hash can.
///
/// Every block left over was last written by the final pass, and argon2
/// (v1.3) computes a pass's blocks from the whole previous pass. So with
/// `t >= 2` checking a guess against any leftover block costs at least
/// `(t-1)/t` of a full hash: no better an oracle than the stored hash, and
/// the next hash overwrites it all. With `t = 1` the first blocks cost a
/// few Blake2b calls each, so that buffer is zeroized. (Wiping 19 MiB after
/// every login was 3-4% of its CPU.)
fn wipe_if_cheap_oracle(blocks: &mut [Block], params: &Params) {
    if params.t_cost() < 2 {
        blocks.iter_mut().for_each(Zeroize::zeroize);
    }
}

/// Hashes `password` with a fresh salt into a PHC string, in `blocks`.
fn hash_with(
    argon2: &Argon2<'static>,
    params: &Params,
    password: &str,
    blocks: &mut Vec<Block>,
) -> Result<String, AuthError> {
    const FAILED: &str = "password hashing failed";
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| AuthError::Internal("random source failed".into()))?;
    let mut out = [0u8; 32];
    let hashed = argon2
        .hash_password_into_with_memory(
            password.as_bytes(),
            &salt,
            &mut out,
            working_memory(blocks, params),
        )
        .map_err(|_| AuthError::Internal(FAILED.into()));
    wipe_if_cheap_oracle(blocks, params);
    hashed?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|_| AuthError::Internal(FAILED.into()))?,
        salt: Some(Salt::new(&salt).map_err(|_| AuthError::Internal(FAILED.into()))?),
        hash: Some(Output::new(&out).map_err(|_| AuthError::Internal(FAILED.into()))?),
    };
    out.zeroize();
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC `hash` (any argon2 variant and
/// parameters it names), computed in `blocks` and compared in constant time.
fn verify_with(hash: &PasswordHash, password: &str, blocks: &mut Vec<Block>) -> bool {
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::new(hash.algorithm.as_str()),
        Params::try_from(hash),
    ) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    let computed = argon2
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt.as_ref(),
            &mut out,
            working_memory(blocks, &params),
        )
        .is_ok();
    wipe_if_cheap_oracle(blocks, &params);
    let ok = computed && constant_time::verify_slices_are_equal(&out, expected.as_bytes()).is_ok();
    out.zeroize();
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Argon2Settings {
        Argon2Settings {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        }
    }

    fn pw(s: &str) -> Password {
        Password::new(s.to_owned()).unwrap()
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let hasher = PasswordHasher::new(small(), 2).unwrap();
        let phc = hasher.hash(pw("correct horse battery")).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        let good = hasher
            .verify(pw("correct horse battery"), Some(phc.clone()))
            .await
            .unwrap();
        assert_eq!(
            good,
            Verified {
                ok: true,
                rehash: None
            }
        );
        let bad = hasher.verify(pw("wrong"), Some(phc)).await.unwrap();
        assert!(!bad.ok);
    }

    #[tokio::test(start_paused = true)]
    async fn a_check_that_cannot_finish_within_the_wait_is_refused_as_overload() {
        let hasher = PasswordHasher::new(small(), 1).unwrap();
        // The one hashing thread is held by a job until the test lets it go.
        let (started_tx, started) = std::sync::mpsc::channel();
        let (release, held) = std::sync::mpsc::channel::<()>();
        let busy = tokio::spawn({
            let hasher = hasher.clone();
            async move {
                hasher
                    .run(move |_, _| {
                        let _ = started_tx.send(());
                        let _ = held.recv();
                        Ok(())
                    })
                    .await
            }
        });
        while started.try_recv().is_err() {
            tokio::task::yield_now().await;
        }
        let asked = tokio::time::Instant::now();
        let refused = hasher.verify(pw("correct horse battery"), None).await;
        assert!(
            matches!(refused, Err(AuthError::Overloaded(_))),
            "{refused:?}"
        );
        assert!(asked.elapsed() >= MAX_WAIT);
        release.send(()).unwrap();
        let _ = busy.await;
        // Real time again (a paused clock jumps to the timeout whenever the
        // test waits on a hashing thread); once the thread is free, checks
        // go through again.
        tokio::time::resume();
        let hash = hasher.hash(pw("correct horse battery")).await.unwrap();
        let again = hasher.verify(pw("correct horse battery"), Some(hash)).await;
        assert!(again.unwrap().ok);
    }

    #[tokio::test]
    async fn hashes_are_standard_phc_both_ways() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let hasher = PasswordHasher::new(small(), 1).unwrap();
        let ours = hasher.hash(pw("correct horse battery")).await.unwrap();
        let reference = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(64, 1, 1, None).unwrap(),
        );
        assert!(
            reference
                .verify_password(b"correct horse battery", ours.as_str())
                .is_ok()
        );
        assert!(reference.verify_password(b"wrong", ours.as_str()).is_err());
        let theirs = reference
            .hash_password_with_salt(b"correct horse battery", b"sixteen byte salt")
            .unwrap()
            .to_string();
        assert!(
            hasher
                .verify(pw("correct horse battery"), Some(theirs.clone()))
                .await
                .unwrap()
                .ok
        );
        assert!(!hasher.verify(pw("wrong"), Some(theirs)).await.unwrap().ok);
    }

    #[tokio::test]
    async fn working_memory_is_kept_per_slot_and_wiped_after_a_single_pass() {
        let hasher = PasswordHasher::new(small(), 2).unwrap();
        let (a, b, c) = tokio::join!(
            hasher.hash(pw("correct horse battery")),
            hasher.hash(pw("correct horse battery")),
            hasher.hash(pw("correct horse battery")),
        );
        assert!(a.is_ok() && b.is_ok() && c.is_ok());
        let pool = hasher.handle.inner.buffers.lock().unwrap();
        assert!(!pool.is_empty() && pool.len() <= 2, "{}", pool.len());
        let zero = Block::new();
        assert!(
            pool.iter()
                .flatten()
                .all(|blk| blk.as_ref() == zero.as_ref())
        );
    }

    #[tokio::test]
    async fn working_memory_of_two_passes_is_left_for_the_next_hash() {
        let two_passes = Argon2Settings {
            iterations: 2,
            ..small()
        };
        let hasher = PasswordHasher::new(two_passes, 1).unwrap();
        let phc = hasher.hash(pw("correct horse battery")).await.unwrap();
        let after_hash: Vec<Block> = hasher.handle.inner.buffers.lock().unwrap()[0].clone();
        let zero = Block::new();
        assert!(after_hash.iter().any(|blk| blk.as_ref() != zero.as_ref()));
        // The next use overwrites every block: nothing of the first hash
        // reaches another password's computation.
        assert!(
            !hasher
                .verify(pw("another password"), Some(phc))
                .await
                .unwrap()
                .ok
        );
        let after_verify = &hasher.handle.inner.buffers.lock().unwrap()[0];
        assert!(
            after_hash
                .iter()
                .zip(after_verify.iter())
                .all(|(a, b)| a.as_ref() != b.as_ref())
        );
    }

    #[tokio::test]
    async fn queued_requests_all_get_answers_in_turn() {
        let hasher = PasswordHasher::new(small(), 1).unwrap();
        let phc = hasher.hash(pw("correct horse battery")).await.unwrap();
        let checks: Vec<_> = (0..8)
            .map(|i| {
                let guess = if i % 2 == 0 {
                    "correct horse battery"
                } else {
                    "wrong"
                };
                let (hasher, phc) = (hasher.clone(), phc.clone());
                tokio::spawn(async move { hasher.verify(pw(guess), Some(phc)).await })
            })
            .collect();
        let mut answers = Vec::new();
        for check in checks {
            answers.push(check.await.unwrap().unwrap().ok);
        }
        assert_eq!(
            answers,
            [true, false, true, false, true, false, true, false]
        );
        assert_eq!(hasher.queue_depth(), 0);
    }

    #[tokio::test]
    async fn hashing_threads_end_with_the_last_hasher() {
        let hasher = PasswordHasher::new(small(), 2).unwrap();
        let clone = hasher.clone();
        assert!(clone.hash(pw("correct horse battery")).await.is_ok());
        let threads_hold = Arc::downgrade(&hasher.handle.inner);
        drop(hasher);
        // A clone still hashes.
        assert!(clone.hash(pw("correct horse battery")).await.is_ok());
        drop(clone);
        // The threads hold the pool's state until they end; they end once
        // woken, which takes no time to speak of.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while threads_hold.upgrade().is_some() {
            assert!(
                std::time::Instant::now() < deadline,
                "hashing threads still running"
            );
            std::thread::yield_now();
        }
    }

    /// The costs a check of a wrong password against `stored` paid, sorted.
    async fn costs_paid(hasher: &PasswordHasher, stored: Option<String>) -> Vec<String> {
        let mut paid = hasher
            .run(move |inner, blocks| {
                verify_paying_every_cost(inner, "not the password", stored.as_deref(), blocks)
            })
            .await
            .unwrap()
            .1;
        paid.sort();
        paid
    }

    #[tokio::test]
    async fn unknown_users_cost_what_known_ones_do_whatever_their_hashes_parameters() {
        // Hashes made before the parameters were raised (t=1 → t=2).
        let old = PasswordHasher::new(small(), 1).unwrap();
        let weak = old.hash(pw("correct horse battery")).await.unwrap();
        let hasher = PasswordHasher::new(
            Argon2Settings {
                iterations: 2,
                ..small()
            },
            1,
        )
        .unwrap();
        let strong = hasher.hash(pw("correct horse battery")).await.unwrap();
        // What the store lists at startup.
        hasher.include_costs(&[phc_cost(&weak).unwrap(), phc_cost(&strong).unwrap()]);
        let unknown = costs_paid(&hasher, None).await;
        assert_eq!(
            unknown,
            ["$argon2id$v=19$m=64,t=1,p=1", "$argon2id$v=19$m=64,t=2,p=1"]
        );
        assert_eq!(costs_paid(&hasher, Some(weak)).await, unknown);
        assert_eq!(costs_paid(&hasher, Some(strong)).await, unknown);
        assert_eq!(
            costs_paid(&hasher, Some("not a hash".into())).await,
            unknown
        );
    }

    #[tokio::test]
    async fn a_cost_met_in_a_check_is_paid_by_every_check_after() {
        let other = PasswordHasher::new(
            Argon2Settings {
                memory_kib: 128,
                ..small()
            },
            1,
        )
        .unwrap();
        let elsewhere = other.hash(pw("correct horse battery")).await.unwrap();
        let hasher = PasswordHasher::new(small(), 1).unwrap();
        assert_eq!(
            costs_paid(&hasher, None).await,
            ["$argon2id$v=19$m=64,t=1,p=1"]
        );
        let known = costs_paid(&hasher, Some(elsewhere)).await;
        assert_eq!(
            known,
            [
                "$argon2id$v=19$m=128,t=1,p=1",
                "$argon2id$v=19$m=64,t=1,p=1"
            ]
        );
        assert_eq!(costs_paid(&hasher, None).await, known, "learnt");
    }

    #[test]
    fn a_cost_is_the_parameters_whatever_the_salt() {
        let phc = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
                   AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert_eq!(
            phc_cost(phc).as_deref(),
            Some("$argon2id$v=19$m=19456,t=2,p=1")
        );
        assert_eq!(
            parameters_cost("$argon2id$v=19$m=19456,t=2,p=1"),
            phc_cost(phc)
        );
        assert_eq!(phc_cost("not a hash"), None);
        assert_eq!(phc_cost("$scrypt$ln=15,r=8,p=1$c2FsdA$aGFzaA"), None);
    }

    #[tokio::test]
    async fn unknown_users_never_verify_even_against_the_dummy() {
        let hasher = PasswordHasher::new(small(), 1).unwrap();
        assert!(!hasher.verify(pw("anything"), None).await.unwrap().ok);
    }

    #[tokio::test]
    async fn hashes_with_old_parameters_ask_for_a_rehash() {
        let old = PasswordHasher::new(small(), 1).unwrap();
        let phc = old.hash(pw("correct horse battery")).await.unwrap();
        let new = PasswordHasher::new(
            Argon2Settings {
                memory_kib: 128,
                ..small()
            },
            1,
        )
        .unwrap();
        let v = new
            .verify(pw("correct horse battery"), Some(phc))
            .await
            .unwrap();
        assert!(v.ok);
        let upgraded = v.rehash.unwrap();
        assert!(upgraded.starts_with("$argon2id$v=19$m=128,t=1,p=1$"));
        let again = new
            .verify(pw("correct horse battery"), Some(upgraded))
            .await
            .unwrap();
        assert_eq!(
            again,
            Verified {
                ok: true,
                rehash: None
            }
        );
    }

    #[tokio::test]
    async fn hashes_stronger_than_the_parameters_are_never_downgraded() {
        let strong = PasswordHasher::new(
            Argon2Settings {
                memory_kib: 128,
                iterations: 2,
                ..small()
            },
            1,
        )
        .unwrap();
        let phc = strong.hash(pw("correct horse battery")).await.unwrap();
        let weaker = PasswordHasher::new(small(), 1).unwrap();
        let v = weaker
            .verify(pw("correct horse battery"), Some(phc))
            .await
            .unwrap();
        assert_eq!(
            v,
            Verified {
                ok: true,
                rehash: None
            }
        );
    }

    #[tokio::test]
    async fn corrupt_stored_hashes_fail_closed() {
        let hasher = PasswordHasher::new(small(), 1).unwrap();
        let v = hasher
            .verify(pw("x"), Some("not-a-phc".into()))
            .await
            .unwrap();
        assert!(!v.ok);
    }

    #[test]
    fn policy_explains_each_refusal() {
        let policy = PasswordPolicy::default();
        let err = |p: &str| {
            policy
                .check(&pw(p), &["alice@example.com", "alice"])
                .unwrap_err()
                .to_string()
        };
        assert!(err("short").contains("at least 8"));
        assert!(err("alice@example.com").contains("must not equal"));
        assert!(err("password").contains("too weak"));
        assert!(
            policy
                .check(&pw("correct horse battery staple"), &["alice"])
                .is_ok()
        );
        let off = PasswordPolicy {
            min_strength: 0,
            ..PasswordPolicy::default()
        };
        assert!(off.check(&pw("password"), &[]).is_ok());
    }
}
