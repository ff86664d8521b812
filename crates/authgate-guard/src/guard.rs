//! [`Guard`]: a [`Verifier`] together with where its keys come from, the
//! clock, the permission map and an optional revocation check: what a
//! resource server builds once and hands to every request.

mod builder;
mod introspected;

use std::sync::Arc;

use authgate_jwt::Error as JwtError;

pub use builder::GuardBuilder;

use crate::jwks::{JwksHandle, JwksSource};
use crate::{
    Clock, GuardError, Introspector, Permissions, Policy, Principal, RevocationCheck, Verifier,
    VerifierConfig, parse_bearer,
};

/// Verifies authgate access tokens for a service: the issue's "verifier
/// built with issuer, audience and one key source".
///
/// Built with [`Guard::builder`] from a [`VerifierConfig`] (issuer,
/// audiences, leeway) and one key source:
/// - a JWKS URL ([`GuardBuilder::jwks_url`]): fetched, cached per its
///   `Cache-Control`, refreshed in the background before it goes stale;
///   a token naming an unknown `kid` triggers at most one refetch per 30 s;
/// - a static JWKS or key set ([`GuardBuilder::jwks`], [`GuardBuilder::keys`]);
/// - introspection ([`GuardBuilder::introspection`], RFC 7662), with short
///   caches of its answers and a bound on the requests in flight.
///
/// With keys (the first two), verification is the pure [`Verifier`]'s, the
/// same path authgate's own server uses, and never waits on the network
/// when the token's key is held. A [`RevocationCheck`] can be added for
/// services that must see logouts at once.
///
/// Cheap to clone (one `Arc`); clones share keys, caches and counters.
/// Dropping the last clone stops the background refresh.
#[derive(Debug, Clone)]
pub struct Guard {
    /// Everything, shared by the clones.
    inner: Arc<Inner>,
}

/// What a guard holds.
#[derive(Debug)]
struct Inner {
    /// Where the keys (or the answers) come from.
    source: Source,
    /// The time: token expiry, the JWKS schedule, the refetch budget.
    clock: Arc<dyn Clock>,
    /// Role → permissions, for [`Guard::require_permission`] and the extractors.
    permissions: Permissions,
    /// Checked after every successful verification, when set.
    revocation: Option<Arc<dyn RevocationCheck>>,
    /// The background JWKS refresh, stopped when the guard goes.
    _refresher: Option<AbortOnDrop>,
}

/// How tokens are decided.
#[derive(Debug)]
enum Source {
    /// Locally, with keys that are static or kept fresh from a JWKS URL.
    Local {
        /// The verification path.
        verifier: Arc<Verifier>,
        /// The JWKS fetcher feeding `verifier`; `None` for static keys.
        jwks: Option<Arc<JwksSource>>,
    },
    /// By the authorization server, per token.
    Introspection {
        /// Who asks.
        introspector: Arc<Introspector>,
        /// What an answer must say to be accepted here.
        expect: introspected::Expectations,
    },
}

/// Aborts a task when dropped.
#[derive(Debug)]
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Guard {
    /// Starts building a guard accepting what `config` describes; a key
    /// source must be chosen before [`GuardBuilder::build`].
    pub fn builder(config: VerifierConfig) -> GuardBuilder {
        GuardBuilder::new(config)
    }

    /// Verifies the value of an `Authorization` header (`None`: the request
    /// had none) and, when configured, checks revocation.
    ///
    /// # Errors
    /// [`GuardError::MissingCredentials`] for `None`, the errors of
    /// [`parse_bearer`], and those of [`Guard::verify_token`].
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, GuardError> {
        let header = authorization.ok_or(GuardError::MissingCredentials)?;
        self.verify_token(parse_bearer(header)?).await
    }

    /// The framework-agnostic entry point: `Ok(None)` when `policy` says
    /// `method` on `path` is public (the header is not even read), the
    /// verified principal otherwise.
    ///
    /// ```
    /// # async fn demo(guard: authgate_guard::Guard) {
    /// use authgate_guard::PublicRoutes;
    /// let public = PublicRoutes::new().exact("GET", "/healthz");
    /// let answer = guard.authenticate_request(&public, "GET", "/healthz", None).await;
    /// assert!(matches!(answer, Ok(None)));
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`Guard::authenticate`].
    pub async fn authenticate_request(
        &self,
        policy: &(impl Policy + ?Sized),
        method: &str,
        path: &str,
        authorization: Option<&str>,
    ) -> Result<Option<Principal>, GuardError> {
        if policy.should_skip_authentication(method, path) {
            return Ok(None);
        }
        self.authenticate(authorization).await.map(Some)
    }

    /// [`Guard::authenticate_request`] when it can be answered at once,
    /// without a signature check and without waiting: a public route, a
    /// missing or malformed `Authorization` header, stale JWKS keys, or a
    /// token the verifier's cache holds (time claims re-checked). `None`
    /// when the full path is needed: a token not verified before,
    /// introspection, or a revocation check (which may wait). The answer,
    /// when there is one, is the one `authenticate_request` would give.
    ///
    /// For bindings to languages with a global lock (Python's GIL): these
    /// answers take well under a microsecond, less than releasing the lock
    /// and taking it back, so they are given with the lock held.
    pub fn authenticate_request_cached(
        &self,
        policy: &(impl Policy + ?Sized),
        method: &str,
        path: &str,
        authorization: Option<&str>,
    ) -> Option<Result<Option<Principal>, GuardError>> {
        if policy.should_skip_authentication(method, path) {
            return Some(Ok(None));
        }
        let token = match authorization
            .ok_or(GuardError::MissingCredentials)
            .and_then(parse_bearer)
        {
            Ok(token) => token,
            Err(error) => return Some(Err(error)),
        };
        let Source::Local { verifier, jwks } = &self.inner.source else {
            return None;
        };
        if self.inner.revocation.is_some() {
            return None;
        }
        if let Some(Err(error)) = jwks.as_ref().map(|jwks| jwks.check_fresh()) {
            return Some(Err(error));
        }
        verifier
            .verify_cached(token, self.inner.clock.unix())
            .map(|answer| answer.map(Some))
    }

    /// Verifies a bare access token at the guard's current time.
    ///
    /// With keys: the [`Verifier`]'s checks, from its cache when the token
    /// verified before; a token naming a key id we do not hold may wait for
    /// one JWKS fetch (see [`GuardBuilder::jwks_url`]). With introspection:
    /// the server's answer, checked for issuer, audience, type and time.
    /// Then the revocation check, if any.
    ///
    /// # Errors
    /// [`GuardError::InvalidToken`] naming the first failed check,
    /// [`GuardError::Inactive`] when the server says the token is revoked,
    /// [`GuardError::Unavailable`] when it could not be asked, or when no
    /// JWKS fetch has succeeded yet and the token names a key we lack;
    /// [`GuardError::StaleKeys`] when no JWKS fetch has succeeded for
    /// longer than the maximum staleness (see [`JwksSettings`](crate::JwksSettings)).
    pub async fn verify_token(&self, token: &str) -> Result<Principal, GuardError> {
        let now = self.inner.clock.unix();
        if let Source::Local {
            jwks: Some(jwks), ..
        } = &self.inner.source
        {
            jwks.check_fresh()?;
        }
        let principal = match &self.inner.source {
            Source::Local { verifier, jwks } => match (verifier.verify_token(token, now), jwks) {
                (Err(GuardError::InvalidToken(JwtError::UnknownKey)), Some(jwks)) => {
                    // Verified again even when this call's refetch loaded
                    // nothing: a fetch that finished between the first
                    // attempt and the refetch (the guard's first one, say)
                    // may have brought the key, and then our refetch gets a
                    // 304 and reports no new keys. A second miss is a kid
                    // lookup, no signature check.
                    jwks.unknown_kid().await;
                    let retried = verifier.verify_token(token, self.inner.clock.unix());
                    match retried {
                        // No keys were ever loaded: 503, not a 401 that
                        // would make clients drop good sessions.
                        Err(GuardError::InvalidToken(JwtError::UnknownKey))
                            if !jwks.has_fetched() =>
                        {
                            return Err(GuardError::Unavailable("no signing keys loaded yet"));
                        }
                        other => other?,
                    }
                }
                (other, _) => other?,
            },
            Source::Introspection {
                introspector,
                expect,
            } => {
                expect.prefilter(token, now)?;
                let answer = introspector.introspect(token, now).await?;
                expect.principal(&answer, now)?
            }
        };
        if let Some(revocation) = &self.inner.revocation {
            revocation.check(&principal, token, now).await?;
        }
        Ok(principal)
    }

    /// The role → permission map this guard was built with (by default
    /// empty: only [`ADMIN_ROLE`](crate::ADMIN_ROLE) holds permissions).
    pub fn permissions(&self) -> &Permissions {
        &self.inner.permissions
    }

    /// Succeeds when `principal`'s roles grant `permission` by this guard's map.
    ///
    /// # Errors
    /// [`GuardError::InsufficientScope`] otherwise.
    pub fn require_permission(
        &self,
        principal: &Principal,
        permission: &str,
    ) -> Result<(), GuardError> {
        if self.inner.permissions.allows(principal.roles(), permission) {
            Ok(())
        } else {
            Err(GuardError::InsufficientScope)
        }
    }

    /// Succeeds when `principal` holds `role` literally (no admin shortcut:
    /// check a permission for that).
    ///
    /// # Errors
    /// [`GuardError::InsufficientScope`] otherwise.
    pub fn require_role(&self, principal: &Principal, role: &str) -> Result<(), GuardError> {
        if principal.has_role(role) {
            Ok(())
        } else {
            Err(GuardError::InsufficientScope)
        }
    }

    /// The JWKS fetcher, when the keys come from a JWKS URL: to fetch on
    /// demand, step the schedule, or read its status.
    pub fn jwks(&self) -> Option<JwksHandle> {
        match &self.inner.source {
            Source::Local {
                jwks: Some(source), ..
            } => Some(JwksHandle {
                source: source.clone(),
            }),
            _ => None,
        }
    }

    /// The verifier, when tokens are verified locally (its cache counters,
    /// its key ids).
    pub fn verifier(&self) -> Option<&Arc<Verifier>> {
        match &self.inner.source {
            Source::Local { verifier, .. } => Some(verifier),
            Source::Introspection { .. } => None,
        }
    }

    /// The introspector, when tokens are decided by introspection.
    pub fn introspector(&self) -> Option<&Arc<Introspector>> {
        match &self.inner.source {
            Source::Introspection { introspector, .. } => Some(introspector),
            Source::Local { .. } => None,
        }
    }

    /// The guard's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }
}
