//! Authorization codes (RFC 6749 §4.1.2, RFC 7636): what a code is bound
//! to, and the PKCE check.

use std::fmt;

use aws_lc_rs::{constant_time, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::secrets::TokenHash;

/// How long a code may be exchanged (OIDC and RFC 6749 advise short-lived).
pub const CODE_TTL: Duration = Duration::seconds(60);

/// An issued authorization code, stored by its hash only.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    /// SHA-256 of the code (256 random bits, base64url).
    pub hash: TokenHash,
    /// The client it was issued to; no other may exchange it.
    pub client_id: String,
    /// The redirect URI of the request; the exchange must repeat it.
    pub redirect_uri: String,
    /// Who signed in.
    pub user_id: Uuid,
    /// The browser session that approved it (the ID token's `sid`).
    pub browser_session_id: Uuid,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// The PKCE `code_challenge` (S256), which the `code_verifier` must hash to.
    pub code_challenge: String,
    /// The request's `nonce`, echoed in the ID token.
    pub nonce: Option<String>,
    /// When the user authenticated (the browser session's login).
    pub auth_time: OffsetDateTime,
    /// When it was issued.
    pub created_at: OffsetDateTime,
    /// When it stops being exchangeable.
    pub expires_at: OffsetDateTime,
    /// When it was exchanged; a second exchange is reuse.
    pub used_at: Option<OffsetDateTime>,
    /// The session its exchange created: revoked if the code comes back.
    pub issued_session_id: Option<Uuid>,
}

impl fmt::Debug for AuthorizationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationCode")
            .field("client_id", &self.client_id)
            .field("user_id", &self.user_id)
            .field("scopes", &self.scopes)
            .field("expires_at", &self.expires_at)
            .field("used_at", &self.used_at)
            .finish_non_exhaustive()
    }
}

/// What marking a code used found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeUse {
    /// The code was unused: it is now used, recording the session it creates.
    First(AuthorizationCode),
    /// The code had been used already (its record, with the session its
    /// first exchange created).
    Again(AuthorizationCode),
    /// No such code.
    Unknown,
}

/// Whether `challenge` is a well-formed S256 challenge: 43 base64url
/// characters (a SHA-256 digest).
pub fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `verifier` (RFC 7636 §4.1: 43 to 128 unreserved characters)
/// hashes to `challenge`, compared in constant time.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !well_formed {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
    constant_time::verify_slices_are_equal(computed.as_bytes(), challenge.as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_example_verifier_matches_its_challenge() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(is_s256_challenge(challenge));
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl",
            challenge
        ));
        // The plain method (verifier == challenge) never matches.
        assert!(!pkce_matches(challenge, challenge));
    }

    #[test]
    fn malformed_verifiers_and_challenges_are_refused() {
        assert!(!is_s256_challenge("short"));
        assert!(!is_s256_challenge(&"+".repeat(43)));
        assert!(!pkce_matches(
            "short",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            &"a".repeat(129),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
    }
}
