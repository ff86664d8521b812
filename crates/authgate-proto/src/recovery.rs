//! Password reset by email (`/auth/password/forgot`, `/auth/password/reset`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::redact::REDACTED;

/// Body of `POST /auth/password/forgot`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgotPasswordRequest {
    /// The account's email address. The answer is the same whether or not
    /// an account has it.
    pub email: String,
}

/// Body of `POST /auth/password/reset`. `Debug` hides both fields.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetPasswordRequest {
    /// The token of the reset link (its `token` query parameter).
    pub token: String,
    /// The new password, in clear: only ever sent over TLS, never stored.
    pub new_password: String,
}

impl fmt::Debug for ResetPasswordRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResetPasswordRequest")
            .field("token", &REDACTED)
            .field("new_password", &REDACTED)
            .finish()
    }
}
