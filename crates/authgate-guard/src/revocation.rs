//! [`RevocationCheck`]: for services that must see a logout at once, a
//! check after local verification; [`IntrospectionRevocation`] asks the
//! authorization server.
//!
//! The trade-off, in short (the crate README has it at length): local
//! verification answers in well under a microsecond from a cached token and
//! never waits on the network, but a token revoked at the authorization
//! server (logout, a disabled user) keeps working here until it expires,
//! 15 minutes by default. A revocation check closes that window at the cost
//! of a round trip for every token not seen within the check's cache
//! lifetime, and of a dependency on the server being up (see
//! [`IntrospectionRevocation::fail_open`]). A check against authgate's
//! shared Redis revocation set, once authgate supports Redis, will fit the
//! same trait without a round trip to authgate itself.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::{GuardError, Introspector, Principal};

/// Decides whether a token that verified locally has since been revoked.
///
/// Runs after every successful verification, cached or not, so it sees a
/// revocation as soon as its own source does.
#[async_trait]
pub trait RevocationCheck: Send + Sync + fmt::Debug {
    /// `Ok(())` when `principal` (verified from `token`) still stands at
    /// `now` (Unix seconds).
    ///
    /// # Errors
    /// [`GuardError::Inactive`] when it has been revoked;
    /// [`GuardError::Unavailable`] when the check could not be made and
    /// should not be waived.
    async fn check(&self, principal: &Principal, token: &str, now: i64) -> Result<(), GuardError>;
}

/// A [`RevocationCheck`] that introspects the token (RFC 7662): revoked
/// sessions, logged-out tokens and disabled users are seen within the
/// introspector's cache lifetime (10 s by default).
#[derive(Debug, Clone)]
pub struct IntrospectionRevocation {
    /// Who asks.
    introspector: Arc<Introspector>,
    /// Let requests through when the server cannot be asked.
    fail_open: bool,
}

impl IntrospectionRevocation {
    /// Checks through `introspector`, failing closed.
    pub fn new(introspector: Arc<Introspector>) -> Self {
        Self {
            introspector,
            fail_open: false,
        }
    }

    /// When the authorization server cannot be asked: `false` (the default)
    /// answers 503, so a revoked token is never accepted; `true` accepts the
    /// locally verified token, logging a warning, so an outage of the
    /// authorization server does not become an outage of this service.
    #[must_use]
    pub fn fail_open(mut self, fail_open: bool) -> Self {
        self.fail_open = fail_open;
        self
    }
}

#[async_trait]
impl RevocationCheck for IntrospectionRevocation {
    async fn check(&self, principal: &Principal, token: &str, now: i64) -> Result<(), GuardError> {
        match self.introspector.introspect(token, now).await {
            // The answer must be about this very token: a server that mixed
            // answers up must not vouch for another one.
            Ok(answer) if answer.active && answer.jti.as_deref() == Some(principal.token_id()) => {
                Ok(())
            }
            Ok(_) => Err(GuardError::Inactive),
            Err(error) if self.fail_open => {
                tracing::warn!(
                    reason = error.reason(),
                    "revocation check unavailable; accepting the locally verified token"
                );
                Ok(())
            }
            Err(error) => Err(error),
        }
    }
}
