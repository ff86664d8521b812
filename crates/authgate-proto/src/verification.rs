//! Email verification (`/auth/email/verify`, `/auth/email/verify/resend`)
//! and email change (`/auth/email/change`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::redact::REDACTED;

/// Body of `POST /auth/email/verify`. `Debug` hides the token.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyEmailRequest {
    /// The token of the verification link (its `token` query parameter).
    pub token: String,
}

impl fmt::Debug for VerifyEmailRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyEmailRequest")
            .field("token", &REDACTED)
            .finish()
    }
}

/// Body of `POST /auth/email/verify/resend`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResendVerificationRequest {
    /// The account's email address (or its username). The answer is the
    /// same whether or not an account has it, and whether or not it is
    /// verified already.
    pub email: String,
}

/// Body of `POST /auth/email/change`. `Debug` hides the password.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEmailRequest {
    /// The password now in force.
    pub current_password: String,
    /// The address to change to; it replaces the current one once the
    /// link mailed to it is used.
    pub new_email: String,
}

impl fmt::Debug for ChangeEmailRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChangeEmailRequest")
            .field("current_password", &REDACTED)
            .field("new_email", &self.new_email)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verification_token_is_never_printed() {
        let request = VerifyEmailRequest {
            token: "s3cret-token".into(),
        };
        let debug = format!("{request:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        let change = ChangeEmailRequest {
            current_password: "s3cret-password".into(),
            new_email: "new@example.com".into(),
        };
        let debug = format!("{change:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("new@example.com"), "{debug}");
    }
}
