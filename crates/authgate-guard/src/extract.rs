//! axum extractors: [`Principal`], [`Claims`], [`RequireRole`] and
//! [`RequirePermission`], each rejecting with a [`GuardError`] response
//! (401/403, RFC 6750 challenge, docs/http-api.md's body).
//!
//! They find the [`Guard`] in the router's state (`Guard: FromRef<S>`, so
//! `.with_state(guard)` or a field of your state with `#[derive(FromRef)]`).
//! A principal already verified for the request, by the
//! [`GuardLayer`](crate::GuardLayer) or an earlier extractor, is reused from
//! the request's extensions rather than verified again.

use std::any::{Any, TypeId};
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use authgate_proto::AccessClaims;
use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::{Guard, GuardError, Principal, authorization_header, parse_bearer};

impl<S> FromRequestParts<S> for Principal
where
    Guard: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = GuardError;

    /// The verified caller; 401 without valid Bearer credentials.
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, GuardError> {
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(principal.clone());
        }
        let guard = Guard::from_ref(state);
        let principal = guard
            .authenticate(authorization_header(&parts.headers)?)
            .await?;
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}

impl<S> OptionalFromRequestParts<S> for Principal
where
    Guard: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = GuardError;

    /// `None` when the request has no `Authorization` header at all; a
    /// header that is there must be valid (401 otherwise), so a broken
    /// token is never silently treated as anonymous.
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, GuardError> {
        if parts.extensions.get::<Principal>().is_none()
            && authorization_header(&parts.headers)?.is_none()
        {
            return Ok(None);
        }
        <Principal as FromRequestParts<S>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

/// The verified claims of the request's access token, as `T`.
///
/// `Claims` (that is, `Claims<AccessClaims>`) hands out authgate's claims
/// from the verified token, without decoding anything again. Any other `T`
/// is deserialised from the token's payload after the token has been
/// verified, for claims of your own beside authgate's; a token whose
/// payload does not fit `T` is refused with 401.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims<T = AccessClaims>(pub T);

impl<S, T> FromRequestParts<S> for Claims<T>
where
    Guard: FromRef<S>,
    S: Send + Sync,
    T: DeserializeOwned + Send + 'static,
{
    type Rejection = GuardError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, GuardError> {
        let principal =
            <Principal as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        claims_of(&principal, parts).map(Claims)
    }
}

impl<S, T> OptionalFromRequestParts<S> for Claims<T>
where
    Guard: FromRef<S>,
    S: Send + Sync,
    T: DeserializeOwned + Send + 'static,
{
    type Rejection = GuardError;

    /// `None` without an `Authorization` header, as for [`Principal`].
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, GuardError> {
        let principal =
            <Principal as OptionalFromRequestParts<S>>::from_request_parts(parts, state).await?;
        principal
            .map(|principal| claims_of(&principal, parts).map(Claims))
            .transpose()
    }
}

/// The claims of a verified principal as `T`.
fn claims_of<T: DeserializeOwned + 'static>(
    principal: &Principal,
    parts: &Parts,
) -> Result<T, GuardError> {
    if TypeId::of::<T>() == TypeId::of::<AccessClaims>() {
        let claims: Box<dyn Any> = Box::new(principal.claims().clone());
        if let Ok(claims) = claims.downcast::<T>() {
            return Ok(*claims);
        }
    }
    // The principal was verified from this request's header, so reading the
    // payload without a second verification is sound.
    let header = authorization_header(&parts.headers)?.ok_or(GuardError::MissingCredentials)?;
    let token = parse_bearer(header)?;
    Ok(authgate_jwt::decode_unverified::<T>(token)?.claims)
}

/// A role name, for [`RequireRole`]: `role!(pub Admin = "admin")` or a
/// one-line impl.
pub trait RoleName: Send + Sync + 'static {
    /// The role, as it appears in the token's `roles`.
    const NAME: &'static str;
}

/// A permission name, for [`RequirePermission`]: `permission!(pub ReadUsers
/// = "users:read")` or a one-line impl.
pub trait PermissionName: Send + Sync + 'static {
    /// The permission, as the guard's [`Permissions`](crate::Permissions) map names it.
    const NAME: &'static str;
}

/// Declares a unit type naming a role, for [`RequireRole`].
///
/// ```
/// authgate_guard::role!(
///     /// Operators of this service.
///     pub Operator = "operator"
/// );
/// use authgate_guard::RoleName;
/// assert_eq!(Operator::NAME, "operator");
/// ```
#[macro_export]
macro_rules! role {
    ($(#[$meta:meta])* $vis:vis $name:ident = $role:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis struct $name;
        impl $crate::RoleName for $name {
            const NAME: &'static str = $role;
        }
    };
}

/// Declares a unit type naming a permission, for [`RequirePermission`].
///
/// ```
/// authgate_guard::permission!(
///     /// May read reports.
///     pub ReadReports = "reports:read"
/// );
/// use authgate_guard::PermissionName;
/// assert_eq!(ReadReports::NAME, "reports:read");
/// ```
#[macro_export]
macro_rules! permission {
    ($(#[$meta:meta])* $vis:vis $name:ident = $permission:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis struct $name;
        impl $crate::PermissionName for $name {
            const NAME: &'static str = $permission;
        }
    };
}

/// The verified caller, who holds role `R` literally; 401 without valid
/// credentials, 403 `insufficient_scope` without the role. Derefs to the
/// [`Principal`].
///
/// `admin` is no shortcut here: a route for admins and others should ask
/// for a permission ([`RequirePermission`]), which `admin` always holds.
pub struct RequireRole<R> {
    /// The caller.
    principal: Principal,
    /// The role checked.
    _role: PhantomData<fn() -> R>,
}

impl<R> RequireRole<R> {
    /// The caller.
    pub fn into_principal(self) -> Principal {
        self.principal
    }
}

impl<R> Deref for RequireRole<R> {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.principal
    }
}

impl<R: RoleName> fmt::Debug for RequireRole<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireRole")
            .field("role", &R::NAME)
            .field("principal", &self.principal)
            .finish()
    }
}

impl<S, R> FromRequestParts<S> for RequireRole<R>
where
    Guard: FromRef<S>,
    S: Send + Sync,
    R: RoleName,
{
    type Rejection = GuardError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, GuardError> {
        let principal =
            <Principal as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        Guard::from_ref(state).require_role(&principal, R::NAME)?;
        Ok(Self {
            principal,
            _role: PhantomData,
        })
    }
}

/// The verified caller, whose roles grant permission `P` by the guard's
/// [`Permissions`](crate::Permissions) (`admin` holds every permission); 401
/// without valid credentials, 403 `insufficient_scope` without the
/// permission. Derefs to the [`Principal`].
pub struct RequirePermission<P> {
    /// The caller.
    principal: Principal,
    /// The permission checked.
    _permission: PhantomData<fn() -> P>,
}

impl<P> RequirePermission<P> {
    /// The caller.
    pub fn into_principal(self) -> Principal {
        self.principal
    }
}

impl<P> Deref for RequirePermission<P> {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.principal
    }
}

impl<P: PermissionName> fmt::Debug for RequirePermission<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequirePermission")
            .field("permission", &P::NAME)
            .field("principal", &self.principal)
            .finish()
    }
}

impl<S, P> FromRequestParts<S> for RequirePermission<P>
where
    Guard: FromRef<S>,
    S: Send + Sync,
    P: PermissionName,
{
    type Rejection = GuardError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, GuardError> {
        let principal =
            <Principal as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        Guard::from_ref(state).require_permission(&principal, P::NAME)?;
        Ok(Self {
            principal,
            _permission: PhantomData,
        })
    }
}
