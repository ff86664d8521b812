//! Refreshing the access token: ahead of expiry, after a 401, and only
//! once however many callers need it at the same time (single flight).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use authgate_proto::{RefreshRequest, RefreshResponse};
use futures_util::FutureExt;

use crate::audit::{AuditKind, AuditLog, AuditRecord};
use crate::client::{Client, Inner, json_body, lock, parse};
use crate::error::Error;
use crate::flight::Flight;
use crate::skew::ServerOffset;
use crate::store::{AuthStore, Tokens};
use crate::transport::{HttpRequest, Method, Transport};
use authgate_proto::clock::Clock;

/// Seconds between proactive refresh attempts that fail for a reason that
/// may pass: with the default 60 s margin, a dozen tries before expiry.
const PROACTIVE_RETRY_SECS: i64 = 5;

/// How long one `POST /auth/refresh` may take: 5 s, half the server's
/// default 10 s refresh-reuse grace (docs/http-api.md). A refresh whose response is
/// lost (timeout, dropped connection) is sent again at once with the same
/// refresh token, which the server then still answers with the same
/// successor; the same token sent after the grace would count as theft
/// and revoke the session. The transport's usual 30 s would leave no
/// time for that second try.
pub const REFRESH_TIMEOUT: Duration = Duration::from_secs(5);

/// Ids of flights, unique within the process.
static NEXT_FLIGHT: AtomicU64 = AtomicU64::new(0);

impl Client {
    /// An access token good for at least the refresh margin: the stored one,
    /// or a new one after a refresh when less than the margin is left.
    ///
    /// Without a refresh token the stored token is returned as it is. If a
    /// proactive refresh fails for a reason that may pass (network, 5xx)
    /// while the old token has not yet expired, the old token is returned,
    /// and returned without another try for the next 5 s.
    ///
    /// # Errors
    /// [`Error::NotAuthenticated`] when logged out; the refresh's error
    /// when one was needed and failed (one that
    /// [ends the session](Error::is_session_over) also logs the store out).
    pub async fn access_token(&self) -> Result<String, Error> {
        Ok(self.session_token().await?.1)
    }

    /// [`Client::access_token`], with the session ([`AuthStore`] epoch) the
    /// token belongs to, so a caller can tell whether the session changed.
    pub(crate) async fn session_token(&self) -> Result<(u64, String), Error> {
        let session = self.inner.store.session().ok_or(Error::NotAuthenticated)?;
        let (epoch, token) = (session.epoch, session.tokens.access);
        // `exp` is the server's time: judged by it, not by the local clock.
        let now = self.server_now();
        let left = match authgate_jwt::expires_in(&token, now) {
            Ok(Some(left)) => left,
            Ok(None) => return Ok((epoch, token)),
            Err(_) => 0,
        };
        if left >= self.inner.refresh_margin || session.tokens.refresh.is_none() {
            return Ok((epoch, token));
        }
        // After a failed proactive refresh the still-valid token is used for
        // a few seconds without asking again: a busy client would otherwise
        // send a refresh with every request to a server that is struggling.
        let retry_at = &self.inner.proactive_retry_at;
        if left > 0 && now < retry_at.load(Ordering::Relaxed) {
            return Ok((epoch, token));
        }
        match self.refresh_after(Some((epoch, &token))).await {
            Err(e) if left > 0 && !e.is_session_over() && e != Error::NotAuthenticated => {
                tracing::debug!(target: "authgate_client", error = %e, "proactive refresh failed; the current token still works");
                // From when the attempt ended (it may have taken two 5 s
                // timeouts), and never earlier than another waiter set it.
                let next = self.server_now().saturating_add(PROACTIVE_RETRY_SECS);
                retry_at.fetch_max(next, Ordering::Relaxed);
                Ok((epoch, token))
            }
            other => other,
        }
    }

    /// Refreshes now (joining a refresh already in flight) and returns the
    /// new access token. The rotated refresh token replaces the old one in
    /// the store.
    ///
    /// # Errors
    /// [`Error::NotAuthenticated`] without a refresh token; the server's
    /// error otherwise. One that [ends the session](Error::is_session_over)
    /// logs the store out.
    pub async fn refresh(&self) -> Result<String, Error> {
        Ok(self.refresh_after(None).await?.1)
    }

    /// Joins the refresh in flight for the current session, or starts one,
    /// unless the session or its access token is no longer the `seen` one
    /// (epoch, token): then the current token is returned without a
    /// request. Returns the token with the session it belongs to, which
    /// may differ from `seen`'s: callers check.
    pub(crate) async fn refresh_after(
        &self,
        seen: Option<(u64, &str)>,
    ) -> Result<(u64, String), Error> {
        let (epoch, future) = {
            let mut slot = lock(&self.inner.flight);
            let store = &self.inner.store;
            // One read: a logout and login between reading the tokens and
            // the epoch would pair this session's token with the next one.
            let session = store.session().ok_or(Error::NotAuthenticated)?;
            let epoch = session.epoch;
            match slot.as_ref().filter(|flight| flight.epoch == epoch) {
                Some(flight) => (epoch, flight.future.clone()),
                None => {
                    if seen.is_some_and(|seen| seen != (epoch, session.tokens.access.as_str())) {
                        return Ok((epoch, session.tokens.access));
                    }
                    let refresh_token = session.tokens.refresh.ok_or(Error::NotAuthenticated)?;
                    let id = NEXT_FLIGHT.fetch_add(1, Ordering::Relaxed);
                    // Weak: the slot holds this future, which must not keep
                    // the client alive if every waiter gives up on it.
                    let inner = Arc::downgrade(&self.inner);
                    let refresher = Refresher {
                        transport: Arc::clone(&self.inner.transport),
                        store: store.clone(),
                        clock: Arc::clone(&self.inner.clock),
                        audit: self.inner.audit.clone(),
                        server_offset: Arc::clone(&self.inner.server_offset),
                    };
                    let user = session.user.map(|u| u.email);
                    let future = async move {
                        let result = refresher.refresh_once(epoch, user, refresh_token).await;
                        // The store is updated before the slot is cleared, so a
                        // caller that finds the slot empty sees the new token.
                        if let Some(inner) = inner.upgrade() {
                            clear(&inner, id);
                        }
                        result
                    }
                    .boxed()
                    .shared();
                    // A flight of an earlier session is replaced, not joined:
                    // its waiters still hold it, and its end clears nothing.
                    *slot = Some(Flight {
                        id,
                        epoch,
                        future: future.clone(),
                    });
                    (epoch, future)
                }
            }
        };
        Ok((epoch, future.await?))
    }
}

/// What one refresh needs, owned, so the shared future holds no client.
struct Refresher {
    /// Sends the `POST /auth/refresh`.
    transport: Arc<dyn Transport>,
    /// Receives the rotated tokens, or the logout after a refusal.
    store: AuthStore,
    /// Stamps the audit record.
    clock: Arc<dyn Clock>,
    /// Receives the audit record.
    audit: AuditLog,
    /// Learns the server's clock from the new access token.
    server_offset: Arc<ServerOffset>,
}

impl Refresher {
    /// One refresh with the refresh token of session `epoch` (whose user's
    /// email is `user`), and its effect on that session. A request that got
    /// no response is sent once more at once: see [`REFRESH_TIMEOUT`].
    async fn refresh_once(
        &self,
        epoch: u64,
        user: Option<String>,
        refresh_token: String,
    ) -> Result<String, Error> {
        let outcome = async {
            let body = json_body(&RefreshRequest { refresh_token })?;
            let request = HttpRequest {
                method: Method::Post,
                path: "/auth/refresh".to_owned(),
                bearer: None,
                body: Some(body),
                timeout: Some(REFRESH_TIMEOUT),
            };
            // Only a request without any response is sent again: an error
            // status is the server's answer.
            let response = match self.transport.send(request.clone()).await {
                Err(Error::Transport(e)) => {
                    tracing::debug!(target: "authgate_client", error = %e, "refresh got no response; sending it again");
                    self.transport.send(request).await?
                }
                other => other?,
            };
            parse::<RefreshResponse>(&response, 200).map_err(Error::into_refresh_error)
        }
        .await;
        let (kind, result) = match outcome {
            Ok(response) => {
                let tokens = Tokens::from(response);
                let access = tokens.access.clone();
                self.server_offset.learn(&access, self.clock.unix());
                if !self.store.set_token_in(epoch, tokens) {
                    // Logged out (or in as someone else) meanwhile.
                    return Err(Error::NotAuthenticated);
                }
                (AuditKind::Refreshed, Ok(access))
            }
            Err(e) if e.is_session_over() => {
                self.store.logout_in(epoch);
                (AuditKind::SessionExpired, Err(e))
            }
            Err(e) => (AuditKind::RefreshFailed, Err(e)),
        };
        self.audit.record(AuditRecord {
            at: self.clock.unix(),
            kind,
            user,
            detail: result.as_ref().err().map(failure),
        });
        result
    }
}

/// Empties the flight slot if it still holds flight `id`.
fn clear(inner: &Inner, id: u64) {
    let mut slot = lock(&inner.flight);
    if slot.as_ref().is_some_and(|flight| flight.id == id) {
        *slot = None;
    }
}

/// A short reason for an audit record: the docs/http-api.md code, or the error kind.
pub(crate) fn failure(error: &Error) -> String {
    match error {
        Error::Api { code, .. } => code.as_str().to_owned(),
        Error::RefreshRefused { status, code, .. } => {
            code.map_or_else(|| format!("refused_{status}"), |c| c.as_str().to_owned())
        }
        Error::NotAuthenticated => "not_authenticated".to_owned(),
        Error::MfaRequired => "mfa_required".to_owned(),
        Error::Transport(_) => "unreachable".to_owned(),
        _ => "unexpected_response".to_owned(),
    }
}
