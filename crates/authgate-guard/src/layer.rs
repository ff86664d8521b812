//! [`GuardLayer`]: a tower layer that authenticates every request (bar
//! those its [`Policy`] makes public), optionally requires a role or a
//! permission, and hands the [`Principal`] to the service in the request's
//! extensions. Any tower service over the `http` crate's types fits (axum,
//! tonic, hyper), as long as its response body can be built from a `String`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tower::{Layer, Service};

use crate::{AuthenticateAll, Guard, GuardError, Policy, Principal, authorization_header};

/// What the layer demands beyond a valid token.
#[derive(Debug, Clone)]
enum Requirement {
    /// This role, literally.
    Role(Arc<str>),
    /// This permission, by the guard's map.
    Permission(Arc<str>),
}

/// Authenticates requests before they reach the wrapped service.
///
/// A refused request never reaches it: it gets 401 `invalid_token` or 403
/// `insufficient_scope` with the RFC 6750 challenge and docs/http-api.md's body (503
/// `unavailable` if the authorization server had to be asked and could not
/// be). An accepted one carries its [`Principal`] in its extensions
/// (`request.extensions().get::<Principal>()`; axum's extractors find it
/// there). A request the policy makes public passes untouched, with no
/// principal.
///
/// ```
/// # fn demo(guard: authgate_guard::Guard) {
/// use authgate_guard::{GuardLayer, PublicRoutes};
/// let layer = GuardLayer::new(guard)
///     .policy(PublicRoutes::new().exact("GET", "/healthz"))
///     .require_permission("reports:read");
/// # let _ = layer; }
/// ```
#[derive(Clone)]
pub struct GuardLayer {
    /// Verifies.
    guard: Guard,
    /// Decides which requests are public.
    policy: Arc<dyn Policy>,
    /// The role or permission demanded, if any.
    requirement: Option<Requirement>,
}

impl GuardLayer {
    /// Authenticates every request with `guard`.
    pub fn new(guard: Guard) -> Self {
        Self {
            guard,
            policy: Arc::new(AuthenticateAll),
            requirement: None,
        }
    }

    /// Lets requests that `policy` makes public through without a token.
    #[must_use]
    pub fn policy(mut self, policy: impl Policy + 'static) -> Self {
        self.policy = Arc::new(policy);
        self
    }

    /// Also requires `role` (literally; see [`Guard::require_role`]).
    /// Replaces any earlier requirement.
    #[must_use]
    pub fn require_role(mut self, role: &str) -> Self {
        self.requirement = Some(Requirement::Role(role.into()));
        self
    }

    /// Also requires `permission` by the guard's [`Permissions`](crate::Permissions).
    /// Replaces any earlier requirement.
    #[must_use]
    pub fn require_permission(mut self, permission: &str) -> Self {
        self.requirement = Some(Requirement::Permission(permission.into()));
        self
    }

    /// Authenticates (and authorises) `request`, leaving its principal in
    /// its extensions; `Ok(())` untouched when the policy makes it public.
    async fn check<B>(&self, request: &mut http::Request<B>) -> Result<(), GuardError> {
        if self
            .policy
            .should_skip_authentication(request.method().as_str(), request.uri().path())
        {
            return Ok(());
        }
        let principal = self
            .guard
            .authenticate(authorization_header(request.headers())?)
            .await?;
        match &self.requirement {
            None => {}
            Some(Requirement::Role(role)) => self.guard.require_role(&principal, role)?,
            Some(Requirement::Permission(permission)) => {
                self.guard.require_permission(&principal, permission)?;
            }
        }
        request.extensions_mut().insert(principal);
        Ok(())
    }
}

impl fmt::Debug for GuardLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardLayer")
            .field("guard", &self.guard)
            .field("requirement", &self.requirement)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for GuardLayer {
    type Service = GuardService<S>;

    fn layer(&self, inner: S) -> GuardService<S> {
        GuardService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`GuardLayer`] wraps around another.
#[derive(Clone, Debug)]
pub struct GuardService<S> {
    /// The protected service.
    inner: S,
    /// The checks.
    layer: GuardLayer,
}

impl<S, B, ResBody> Service<http::Request<B>> for GuardService<S>
where
    S: Service<http::Request<B>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
    ResBody: From<String> + 'static,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The clone that was driven to readiness serves this request; a
        // fresh clone stays behind for the next (tower's usual dance).
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let layer = self.layer.clone();
        Box::pin(async move {
            match layer.check(&mut request).await {
                Ok(()) => inner.call(request).await,
                Err(error) => Ok(error.to_response()),
            }
        })
    }
}

/// The principal the layer left in a request's extensions, if any.
pub fn principal_of<B>(request: &http::Request<B>) -> Option<&Principal> {
    request.extensions().get::<Principal>()
}
