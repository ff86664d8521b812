//! The wire types of authgate's HTTP API (`docs/http-api.md`): every request and
//! response body, the error body, audit events and access-token claims.
//!
//! This crate owns the JSON shapes only: field names, which fields are
//! optional, how timestamps and identifiers are written. It does no
//! validation beyond what the types themselves enforce (an `exp` must be an
//! integer, a date must be RFC 3339) and depends on nothing else of
//! authgate, so the server, the client and the guard can all share it.
//!
//! Input is read tolerantly: unknown fields are ignored, because docs/http-api.md
//! allows adding fields. Secrets (passwords, tokens, client secrets) never
//! appear in `Debug` output.
//!
//! What lives where (every public type is re-exported here):
//!
//! - error: [`ErrorBody`], the one error shape, and its [`ErrorCode`]s.
//! - user: [`PublicUser`], a user as the API shows it.
//! - auth: register, login, refresh and logout bodies.
//! - recovery: password reset by email.
//! - verification: email verification.
//! - session: `GET /me` and `GET /auth/sessions`.
//! - admin: dashboard, users, signing keys, service clients.
//! - oauth: `/oauth/token`, `/oauth/introspect`, `/oauth/revoke`.
//! - oidc: OpenID Connect relying parties (`/admin/oidc-clients*`).
//! - discovery: `/.well-known/openid-configuration`.
//! - audit: [`AuditEvent`] and the audit query.
//! - claims: [`AccessClaims`] of access tokens and their [`Audience`].
//! - ops: `/healthz` and `/readyz`.
//! - token_type: the `"Bearer"` [`TokenType`] of token responses.
//! - clock (public module): the one [`clock::Clock`] every authgate crate
//!   reads "now" from, with `SystemClock` and the tests' `ManualClock`.
//! - permissions (public module): the role → permission map
//!   ([`permissions::Permissions`]) that core and guard both apply.
//! - schema (feature `openapi`): OpenAPI schemas for the types with
//!   hand-written serde; every body type derives `utoipa::ToSchema` (and the
//!   query types `utoipa::IntoParams`) under that feature.

mod admin;
mod audit;
mod auth;
mod claims;
pub mod clock;
mod discovery;
mod error;
mod mfa;
mod oauth;
mod oidc;
mod ops;
pub mod permissions;
mod recovery;
mod redact;
#[cfg(feature = "openapi")]
mod schema;
mod session;
mod token_type;
mod user;
mod verification;

pub use admin::{
    CreateClientRequest, CreateClientResponse, DashboardResponse, KeyInfo, KeyLane, KeyState,
    KeysResponse, RotateKeysResponse, ServiceClientInfo, SetRolesRequest, UsersPage, UsersQuery,
};
pub use audit::{AuditEvent, AuditKind, AuditQuery, AuditResponse};
pub use auth::{ChangePasswordRequest, PasswordChangedResponse};
pub use auth::{
    LoginRequest, LoginResponse, LogoutRequest, MessageResponse, RefreshRequest, RefreshResponse,
    RegisterRequest, RegisterResponse,
};
pub use claims::{AccessClaims, Audience};
pub use discovery::{OidcProviderMetadata, OpenIdConfiguration};
pub use error::{ErrorBody, ErrorCode};
pub use mfa::{
    DisableMfaRequest, MfaLoginRequest, MfaRequiredResponse, MfaResetResponse, MfaStateResponse,
    RecoveryCodesResponse, TotpConfirmRequest, TotpEnrolmentResponse,
};
pub use oauth::{
    GrantType, IntrospectRequest, IntrospectionResponse, IntrospectionTokenType,
    OAuthTokenResponse, RevokeRequest, TokenRequest, TokenTypeHint,
};
pub use oidc::{
    CreateOidcClientRequest, CreateOidcClientResponse, IdTokenClaims, OidcClientInfo,
    OidcClientsResponse, UserInfo,
};
pub use ops::{HealthResponse, ProbeStatus, ReadyResponse};
pub use recovery::{ForgotPasswordRequest, ResetPasswordRequest};
pub use session::{CurrentSession, MeResponse, SessionInfo, SessionsQuery, SessionsResponse};
pub use token_type::TokenType;
pub use user::PublicUser;
pub use verification::{ChangeEmailRequest, ResendVerificationRequest, VerifyEmailRequest};
