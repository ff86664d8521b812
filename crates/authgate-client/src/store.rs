//! [`AuthStore`]: the observable, thread-safe home of the tokens and the user.

use std::collections::VecDeque;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use authgate_proto::{LoginResponse, PublicUser, RefreshResponse};

/// An access token and, when the client holds one, its refresh token.
///
/// `Debug` never shows either token.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    /// The access token (a JWT), sent as `Authorization: Bearer`.
    pub access: String,
    /// The opaque refresh token; rotated on every refresh, so the newest
    /// one must always replace the old.
    pub refresh: Option<String>,
}

impl Tokens {
    /// An access token with its refresh token.
    pub fn new(access: impl Into<String>, refresh: impl Into<String>) -> Self {
        Self {
            access: access.into(),
            refresh: Some(refresh.into()),
        }
    }
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("access", &"[redacted]")
            .field("refresh", &self.refresh.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl From<String> for Tokens {
    fn from(access: String) -> Self {
        Self {
            access,
            refresh: None,
        }
    }
}

impl From<&str> for Tokens {
    fn from(access: &str) -> Self {
        access.to_owned().into()
    }
}

impl From<&LoginResponse> for Tokens {
    fn from(response: &LoginResponse) -> Self {
        Self::new(&response.access_token, &response.refresh_token)
    }
}

impl From<RefreshResponse> for Tokens {
    fn from(response: RefreshResponse) -> Self {
        Self::new(response.access_token, response.refresh_token)
    }
}

/// What changed in an [`AuthStore`]; every listener receives each change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthChange {
    /// A user logged in (or another user replaced the previous one).
    LoggedIn(PublicUser),
    /// The tokens were replaced after a refresh; the user is the same.
    TokenRefreshed,
    /// The store was emptied: logout, or a refresh token the server refused.
    LoggedOut,
}

/// A function told about every change of a store.
type Listener = Arc<dyn Fn(&AuthChange) + Send + Sync>;

/// The tokens and user of the signed-in session, observable and shareable
/// between threads (clones share one store).
///
/// `is_authenticated` means "holds an access token": whether that token
/// is still good is the server's call, and the refresh logic of
/// [`Client`](crate::Client) keeps it fresh.
///
/// Listeners receive every change in the order the changes happened, one
/// change at a time, each change to every listener before the next: the
/// store queues a change together with the change itself, and one caller
/// at a time delivers the queue. Normally that caller is the one that made
/// the change, so listeners have run when [`AuthStore::login`] and
/// [`AuthStore::logout`] return; but a change made while another thread
/// (or a listener) is delivering is only queued, and delivered by that
/// deliverer after the changes before it. Listeners run outside the
/// store's locks, so they may read or change the store; a panicking
/// listener is contained and the others still run.
#[derive(Clone, Default)]
pub struct AuthStore {
    /// Shared by every clone and (weakly) by every [`Subscription`].
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The session, if any.
    state: Mutex<State>,
    /// Who to tell about changes.
    listeners: Mutex<Listeners>,
    /// Runs once, right after the next read of the tokens: lets tests put
    /// another thread's logout and login between two reads.
    #[cfg(test)]
    after_read: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

#[derive(Default)]
struct State {
    /// The tokens of the current session; `None` when logged out.
    tokens: Option<Tokens>,
    /// The user of the current session.
    user: Option<PublicUser>,
    /// Counts logins and logouts, so a refresh that started in one
    /// session cannot write its result into the next one.
    epoch: u64,
    /// Changes made but not yet delivered to the listeners, oldest first;
    /// queued under this lock so the queue order is the order of the changes.
    pending: VecDeque<AuthChange>,
    /// Whether a caller is delivering `pending`: the others leave their
    /// change to it, so no change can overtake an earlier one.
    delivering: bool,
}

/// The session as one consistent read: tokens, user and session counter
/// from the same moment, so that a logout and login on another thread
/// cannot pair one session's refresh token with the next one's counter.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The session counter ([`AuthStore::epoch`]) the tokens belong to.
    pub(crate) epoch: u64,
    /// The session's tokens.
    pub(crate) tokens: Tokens,
    /// The session's user.
    pub(crate) user: Option<PublicUser>,
}

impl State {
    /// Queues `change` for the listeners; `true` when the caller must
    /// deliver the queue (nobody else is delivering it).
    fn enqueue(&mut self, change: AuthChange) -> bool {
        self.pending.push_back(change);
        !std::mem::replace(&mut self.delivering, true)
    }
}

#[derive(Default)]
struct Listeners {
    /// The id the next subscription gets.
    next_id: u64,
    /// Current subscribers, by subscription id.
    list: Vec<(u64, Listener)>,
}

/// Recovers the data of a poisoned lock: every update here is a single
/// assignment, so a panic elsewhere cannot leave it half-written.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AuthStore {
    /// An empty (logged-out) store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current access token, if logged in.
    pub fn token(&self) -> Option<String> {
        lock(&self.inner.state)
            .tokens
            .as_ref()
            .map(|t| t.access.clone())
    }

    /// The current refresh token, if the session has one.
    pub fn refresh_token(&self) -> Option<String> {
        lock(&self.inner.state)
            .tokens
            .as_ref()
            .and_then(|t| t.refresh.clone())
    }

    /// Both tokens of the current session, if logged in.
    pub fn tokens(&self) -> Option<Tokens> {
        let tokens = lock(&self.inner.state).tokens.clone();
        self.after_read();
        tokens
    }

    /// The logged-in user, if any.
    pub fn user(&self) -> Option<PublicUser> {
        lock(&self.inner.state).user.clone()
    }

    /// Whether the store holds an access token.
    pub fn is_authenticated(&self) -> bool {
        lock(&self.inner.state).tokens.is_some()
    }

    /// Starts a session: stores the tokens and the user, then tells the
    /// listeners [`AuthChange::LoggedIn`].
    pub fn login(&self, tokens: impl Into<Tokens>, user: PublicUser) {
        let deliver = {
            let mut state = lock(&self.inner.state);
            state.tokens = Some(tokens.into());
            state.user = Some(user.clone());
            state.epoch += 1;
            state.enqueue(AuthChange::LoggedIn(user))
        };
        if deliver {
            self.deliver();
        }
    }

    /// Replaces the tokens after a refresh and tells the listeners
    /// [`AuthChange::TokenRefreshed`]. A refresh token in `tokens` replaces
    /// the stored one (rotation); without one the stored one is kept.
    ///
    /// Returns `false`, changing nothing, when logged out: a refresh that
    /// finishes after a logout must not log the user back in.
    pub fn set_token(&self, tokens: impl Into<Tokens>) -> bool {
        let epoch = self.epoch();
        self.set_token_in(epoch, tokens.into())
    }

    /// Ends the session and tells the listeners [`AuthChange::LoggedOut`]
    /// (only if there was a session).
    pub fn logout(&self) {
        let epoch = self.epoch();
        self.logout_in(epoch);
    }

    /// Calls `listener` with every later change until the returned
    /// [`Subscription`] is dropped or [`Subscription::unsubscribe`]d.
    #[must_use = "dropping the subscription unsubscribes at once"]
    pub fn subscribe<F>(&self, listener: F) -> Subscription
    where
        F: Fn(&AuthChange) + Send + Sync + 'static,
    {
        let mut listeners = lock(&self.inner.listeners);
        let id = listeners.next_id;
        listeners.next_id += 1;
        listeners.list.push((id, Arc::new(listener)));
        Subscription {
            store: Arc::downgrade(&self.inner),
            id,
        }
    }

    /// The session counter: changes on every login and logout.
    pub(crate) fn epoch(&self) -> u64 {
        lock(&self.inner.state).epoch
    }

    /// The current session (tokens, user and counter read under one lock),
    /// if logged in. Use it wherever two of them must belong together.
    pub(crate) fn session(&self) -> Option<Session> {
        let session = {
            let state = lock(&self.inner.state);
            state.tokens.clone().map(|tokens| Session {
                epoch: state.epoch,
                tokens,
                user: state.user.clone(),
            })
        };
        self.after_read();
        session
    }

    /// [`AuthStore::set_token`], only if the session is still the one of `epoch`.
    pub(crate) fn set_token_in(&self, epoch: u64, tokens: Tokens) -> bool {
        let deliver = {
            let mut state = lock(&self.inner.state);
            if state.epoch != epoch {
                return false;
            }
            let Some(current) = state.tokens.as_mut() else {
                return false;
            };
            current.access = tokens.access;
            if tokens.refresh.is_some() {
                current.refresh = tokens.refresh;
            }
            state.enqueue(AuthChange::TokenRefreshed)
        };
        if deliver {
            self.deliver();
        }
        true
    }

    /// [`AuthStore::logout`], only if the session is still the one of `epoch`.
    pub(crate) fn logout_in(&self, epoch: u64) -> bool {
        let deliver = {
            let mut state = lock(&self.inner.state);
            if state.epoch != epoch || state.tokens.is_none() {
                return false;
            }
            state.tokens = None;
            state.user = None;
            state.epoch += 1;
            state.enqueue(AuthChange::LoggedOut)
        };
        if deliver {
            self.deliver();
        }
        true
    }

    /// Delivers the queued changes, oldest first, each to every listener,
    /// until the queue is empty; called by the one caller that set
    /// `delivering`. Listeners run outside the locks; one that panics is
    /// skipped, the others still run.
    fn deliver(&self) {
        loop {
            let change = {
                let mut state = lock(&self.inner.state);
                match state.pending.pop_front() {
                    Some(change) => change,
                    None => {
                        // Under the lock that queues changes: one queued
                        // after this finds `delivering` false and delivers.
                        state.delivering = false;
                        return;
                    }
                }
            };
            let listeners: Vec<Listener> = lock(&self.inner.listeners)
                .list
                .iter()
                .map(|(_, listener)| Arc::clone(listener))
                .collect();
            for listener in listeners {
                if catch_unwind(AssertUnwindSafe(|| listener(&change))).is_err() {
                    tracing::warn!(target: "authgate_client", "an AuthStore listener panicked");
                }
            }
        }
    }

    /// Runs the test hook set with [`AuthStore::set_after_read`], once.
    fn after_read(&self) {
        #[cfg(test)]
        {
            let hook = lock(&self.inner.after_read).take();
            if let Some(hook) = hook {
                hook();
            }
        }
    }

    /// Runs `hook` right after the next read of the tokens ([`AuthStore::tokens`]
    /// or [`AuthStore::session`]), as if another thread acted just then.
    #[cfg(test)]
    pub(crate) fn set_after_read(&self, hook: impl FnOnce() + Send + 'static) {
        *lock(&self.inner.after_read) = Some(Box::new(hook));
    }
}

impl fmt::Debug for AuthStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.inner.state);
        f.debug_struct("AuthStore")
            .field("authenticated", &state.tokens.is_some())
            .field("user", &state.user.as_ref().map(|u| u.id))
            .field("listeners", &lock(&self.inner.listeners).list.len())
            .finish()
    }
}

/// A listener's registration with an [`AuthStore`]; dropping it (or
/// calling [`Subscription::unsubscribe`]) removes the listener.
#[derive(Debug)]
pub struct Subscription {
    /// The store; weak, so a subscription does not keep a store alive.
    store: Weak<Inner>,
    /// Which listener to remove.
    id: u64,
}

impl Subscription {
    /// Removes the listener now.
    pub fn unsubscribe(self) {
        drop(self);
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(inner) = self.store.upgrade() {
            lock(&inner.listeners).list.retain(|(id, _)| *id != self.id);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use time::macros::datetime;
    use uuid::Uuid;

    /// A user for tests, with the given roles.
    pub(crate) fn user(roles: &[&str]) -> PublicUser {
        PublicUser {
            id: Uuid::from_u128(7),
            email: "alice@example.com".into(),
            username: Some("alice".into()),
            name: None,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            is_active: true,
            email_verified: true,
            created_at: datetime!(2026-11-22 10:00:00 UTC),
        }
    }

    /// Records every change a listener receives.
    fn recorder(store: &AuthStore) -> (Arc<Mutex<Vec<AuthChange>>>, Subscription) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let sub = store.subscribe(move |change| sink.lock().unwrap().push(change.clone()));
        (seen, sub)
    }

    #[test]
    fn a_new_store_is_logged_out() {
        let store = AuthStore::new();
        assert!(!store.is_authenticated());
        assert_eq!(store.token(), None);
        assert_eq!(store.user(), None);
    }

    #[test]
    fn login_stores_token_and_user_and_logout_clears_them() {
        let store = AuthStore::new();
        store.login(Tokens::new("access-1", "refresh-1"), user(&["user"]));
        assert!(store.is_authenticated());
        assert_eq!(store.token().as_deref(), Some("access-1"));
        assert_eq!(store.refresh_token().as_deref(), Some("refresh-1"));
        assert_eq!(store.user(), Some(user(&["user"])));
        store.logout();
        assert!(!store.is_authenticated());
        assert_eq!(store.refresh_token(), None);
        assert_eq!(store.user(), None);
    }

    #[test]
    fn set_token_replaces_both_tokens_and_keeps_the_user() {
        let store = AuthStore::new();
        store.login(Tokens::new("access-1", "refresh-1"), user(&[]));
        assert!(store.set_token(Tokens::new("access-2", "refresh-2")));
        assert_eq!(store.token().as_deref(), Some("access-2"));
        assert_eq!(store.refresh_token().as_deref(), Some("refresh-2"));
        assert!(store.set_token("access-3"));
        assert_eq!(store.refresh_token().as_deref(), Some("refresh-2"));
        assert_eq!(store.user(), Some(user(&[])));
    }

    #[test]
    fn set_token_after_logout_does_not_log_back_in() {
        let store = AuthStore::new();
        store.login("access-1", user(&[]));
        store.logout();
        assert!(!store.set_token("access-2"));
        assert!(!store.is_authenticated());
    }

    #[test]
    fn a_refresh_from_an_earlier_session_cannot_overwrite_the_next_one() {
        let store = AuthStore::new();
        store.login("old", user(&[]));
        let epoch = store.epoch();
        store.logout();
        store.login("new", user(&[]));
        assert!(!store.set_token_in(epoch, "stale".into()));
        assert!(!store.logout_in(epoch));
        assert_eq!(store.token().as_deref(), Some("new"));
    }

    #[test]
    fn listeners_receive_every_change_in_order() {
        let store = AuthStore::new();
        let (seen, _sub) = recorder(&store);
        store.login("a", user(&["user"]));
        store.set_token("b");
        store.logout();
        store.logout();
        assert_eq!(
            *seen.lock().unwrap(),
            [
                AuthChange::LoggedIn(user(&["user"])),
                AuthChange::TokenRefreshed,
                AuthChange::LoggedOut
            ]
        );
    }

    #[test]
    fn dropping_or_calling_the_handle_unsubscribes() {
        let store = AuthStore::new();
        let (dropped, sub) = recorder(&store);
        let (called, handle) = recorder(&store);
        let (kept, _keep) = recorder(&store);
        drop(sub);
        handle.unsubscribe();
        store.login("a", user(&[]));
        assert!(dropped.lock().unwrap().is_empty());
        assert!(called.lock().unwrap().is_empty());
        assert_eq!(kept.lock().unwrap().len(), 1);
    }

    #[test]
    fn a_panicking_listener_breaks_neither_the_store_nor_the_others() {
        let store = AuthStore::new();
        let _bad = store.subscribe(|_| panic!("listener bug"));
        let (seen, _sub) = recorder(&store);
        store.login("a", user(&[]));
        store.logout();
        store.login("b", user(&[]));
        assert_eq!(seen.lock().unwrap().len(), 3);
        assert_eq!(store.token().as_deref(), Some("b"));
    }

    #[test]
    fn a_listener_may_read_the_store_it_listens_to() {
        let store = AuthStore::new();
        let reader = store.clone();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let _sub = store.subscribe(move |_| sink.lock().unwrap().push(reader.token()));
        store.login("a", user(&[]));
        assert_eq!(*seen.lock().unwrap(), [Some("a".to_owned())]);
    }

    #[test]
    fn a_change_made_by_a_listener_reaches_everyone_after_the_change_it_handles() {
        let store = AuthStore::new();
        let changer = store.clone();
        // Subscribed first, so it acts before the recorder hears of the login.
        let _logs_out = store.subscribe(move |change| {
            if matches!(change, AuthChange::LoggedIn(_)) {
                changer.logout();
            }
        });
        let (seen, _sub) = recorder(&store);
        store.login("a", user(&[]));
        assert!(!store.is_authenticated());
        assert_eq!(
            *seen.lock().unwrap(),
            [AuthChange::LoggedIn(user(&[])), AuthChange::LoggedOut]
        );
    }

    #[test]
    fn changes_from_two_threads_reach_the_listeners_in_the_order_they_happened() {
        let store = AuthStore::new();
        let (entered_tx, entered) = std::sync::mpsc::channel();
        let (resume, resume_rx) = std::sync::mpsc::channel::<()>();
        let resume_rx = Mutex::new(resume_rx);
        // Holds the login's delivery until the main thread has logged out.
        let _slow = store.subscribe(move |change| {
            if matches!(change, AuthChange::LoggedIn(_)) {
                entered_tx.send(()).unwrap();
                resume_rx.lock().unwrap().recv().unwrap();
            }
        });
        let (seen, _sub) = recorder(&store);
        std::thread::scope(|scope| {
            let logging_in = store.clone();
            let login = scope.spawn(move || logging_in.login("a", user(&[])));
            entered.recv().unwrap();
            store.logout();
            resume.send(()).unwrap();
            login.join().unwrap();
        });
        assert!(!store.is_authenticated());
        assert_eq!(
            *seen.lock().unwrap(),
            [AuthChange::LoggedIn(user(&[])), AuthChange::LoggedOut]
        );
    }

    #[test]
    fn the_store_is_shared_safely_between_threads() {
        let store = AuthStore::new();
        let count = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&count);
        let _sub = store.subscribe(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        store.login("start", user(&[]));
        std::thread::scope(|scope| {
            for i in 0..8 {
                let store = store.clone();
                scope.spawn(move || {
                    for j in 0..50 {
                        store.set_token(format!("t-{i}-{j}"));
                    }
                });
            }
        });
        assert_eq!(count.load(Ordering::SeqCst), 1 + 8 * 50);
        assert!(store.token().unwrap().starts_with("t-"));
    }

    #[test]
    fn debug_output_never_shows_a_token() {
        let store = AuthStore::new();
        store.login(Tokens::new("secret-access", "secret-refresh"), user(&[]));
        let debug = format!("{store:?} {:?}", store.tokens());
        assert!(!debug.contains("secret"), "{debug}");
    }
}
