//! Second factors: TOTP enrolment and state (`/auth/mfa/*`), the second
//! step of a login (`/auth/login/mfa`) and an administrator's reset.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::redact::REDACTED;

/// Response of `POST /auth/login` (200) for an account with a second
/// factor: the password was right, a code must follow on
/// `POST /auth/login/mfa`. `Debug` hides the token.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaRequiredResponse {
    /// Always `true`: what tells this answer from the tokens of a login.
    pub mfa_required: bool,
    /// The opaque token of this login's second step: single use, bound to
    /// the user and this attempt, useless anywhere else (no JWT).
    pub mfa_token: String,
    /// Seconds until the token expires (300).
    pub expires_in: u64,
}

impl fmt::Debug for MfaRequiredResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MfaRequiredResponse")
            .field("mfa_required", &self.mfa_required)
            .field("mfa_token", &REDACTED)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Body of `POST /auth/login/mfa`. `Debug` hides both fields.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaLoginRequest {
    /// The `mfa_token` of the login's first step.
    pub mfa_token: String,
    /// A current six-digit TOTP code, or an unused recovery code
    /// (four groups of four base32 characters, as `CZLG-5AGS-ETAV-ZRE6`; spaces, hyphens and case do not matter).
    pub code: String,
}

impl fmt::Debug for MfaLoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MfaLoginRequest")
            .field("mfa_token", &REDACTED)
            .field("code", &REDACTED)
            .finish()
    }
}

/// Response of `POST /auth/mfa/totp` (200): a new secret, shown once,
/// inactive until confirmed. `Debug` hides the secret.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpEnrolmentResponse {
    /// The secret in base32 (RFC 4648, no padding), to type into an app.
    pub secret: String,
    /// The `otpauth://totp/…` URI the QR code holds.
    pub otpauth_uri: String,
    /// The QR code of `otpauth_uri` as an SVG document (no script, no style).
    pub qr_svg: String,
}

impl fmt::Debug for TotpEnrolmentResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpEnrolmentResponse")
            .field("secret", &REDACTED)
            .field("otpauth_uri", &REDACTED)
            .field("qr_svg", &REDACTED)
            .finish()
    }
}

/// Body of `POST /auth/mfa/totp/confirm`. `Debug` hides the code.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpConfirmRequest {
    /// A current six-digit code from the app.
    pub code: String,
}

impl fmt::Debug for TotpConfirmRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpConfirmRequest")
            .field("code", &REDACTED)
            .finish()
    }
}

/// Response of `POST /auth/mfa/totp/confirm` (200): the factor is on;
/// the recovery codes are shown this once. `Debug` hides them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodesResponse {
    /// Ten single-use codes (four groups of four base32 characters, as `CZLG-5AGS-ETAV-ZRE6`), each good for one
    /// login in place of a TOTP code. Stored only as hashes.
    pub recovery_codes: Vec<String>,
}

impl fmt::Debug for RecoveryCodesResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecoveryCodesResponse")
            .field("recovery_codes", &REDACTED)
            .finish()
    }
}

/// Response of `GET /auth/mfa` and `POST /auth/mfa/totp/disable`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaStateResponse {
    /// A confirmed TOTP factor: logins ask for a code.
    pub totp_enabled: bool,
    /// An enrolment waits for its confirming code.
    pub totp_pending: bool,
    /// Recovery codes not used yet (0 when the factor is off).
    pub recovery_codes_left: u64,
}

/// Body of `POST /auth/mfa/totp/disable`: exactly one of the two proofs.
/// `Debug` hides both.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisableMfaRequest {
    /// A current TOTP code or an unused recovery code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The account's password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

impl fmt::Debug for DisableMfaRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DisableMfaRequest")
            .field("code", &self.code.as_ref().map(|_| REDACTED))
            .field("password", &self.password.as_ref().map(|_| REDACTED))
            .finish()
    }
}

/// Response of `POST /admin/users/{id}/mfa/reset` (200).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaResetResponse {
    /// Sessions of the user that the reset ended.
    pub sessions_ended: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_forms_hide_tokens_codes_and_secrets() {
        let shown = format!(
            "{:?} {:?} {:?} {:?}",
            MfaLoginRequest {
                mfa_token: "tok-123".into(),
                code: "654321".into()
            },
            MfaRequiredResponse {
                mfa_required: true,
                mfa_token: "tok-123".into(),
                expires_in: 300
            },
            RecoveryCodesResponse {
                recovery_codes: vec!["AAAA-BBBB-CCCC-DDDD".into()]
            },
            DisableMfaRequest {
                code: Some("654321".into()),
                password: None
            },
        );
        for secret in ["tok-123", "654321", "AAAA-BBBB"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
