//! TOTP (RFC 6238) as authenticator apps compute it: HMAC-SHA-1 of the
//! 30-second time step, dynamically truncated to six digits (RFC 4226 §5.3),
//! and the `otpauth://` URI that enrols a secret in such an app.
//!
//! SHA-1 is what every authenticator app implements by default; its
//! collision weakness does not touch HMAC's use here (RFC 6238 §5, NIST SP
//! 800-107 on HMAC-SHA-1).

use aws_lc_rs::constant_time;
use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::error::AuthError;

/// Bytes of a TOTP secret: 160 bits, the HMAC-SHA-1 block RFC 4226 §4 recommends.
pub const TOTP_SECRET_BYTES: usize = 20;

/// Seconds of one time step (RFC 6238's default, which apps assume).
pub const TOTP_PERIOD: i64 = 30;

/// Digits of a code.
pub const TOTP_DIGITS: usize = 6;

/// Steps accepted either side of the current one: a code typed just as it
/// rolled over, or a phone clock a little off (RFC 6238 §5.2 suggests one).
pub const TOTP_SKEW_STEPS: i64 = 1;

/// A TOTP secret: the raw key bytes, wiped when dropped, never printed.
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret([redacted])")
    }
}

impl TotpSecret {
    /// A new random secret of [`TOTP_SECRET_BYTES`].
    ///
    /// # Errors
    /// [`AuthError::Internal`] if the system random source fails.
    pub fn generate() -> Result<Self, AuthError> {
        let mut bytes = Zeroizing::new(vec![0u8; TOTP_SECRET_BYTES]);
        SystemRandom::new()
            .fill(bytes.as_mut_slice())
            .map_err(|_| AuthError::Internal("random source failed".into()))?;
        Ok(Self(bytes))
    }

    /// A secret from its bytes (as unsealed from the store).
    pub fn from_bytes(bytes: Zeroizing<Vec<u8>>) -> Self {
        Self(bytes)
    }

    /// The key bytes (to seal them).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret in base32 without padding (RFC 4648 §6), as apps take it
    /// typed by hand or in an `otpauth://` URI.
    pub fn to_base32(&self) -> Zeroizing<String> {
        Zeroizing::new(data_encoding::BASE32_NOPAD.encode(&self.0))
    }

    /// The code of time step `step` (`unix_time / 30`): RFC 4226's HOTP of
    /// the step counter, six digits with leading zeros.
    pub fn code_at_step(&self, step: i64) -> Zeroizing<String> {
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &self.0);
        let counter = step.to_be_bytes();
        let tag = hmac::sign(&key, &counter);
        let mac = tag.as_ref();
        // Dynamic truncation (RFC 4226 §5.3): four bytes at the offset the
        // last nibble names, the top bit masked off.
        let offset = usize::from(mac[mac.len() - 1] & 0x0f);
        let word = u32::from_be_bytes([
            mac[offset] & 0x7f,
            mac[offset + 1],
            mac[offset + 2],
            mac[offset + 3],
        ]);
        Zeroizing::new(format!("{:06}", word % 1_000_000))
    }

    /// The step among those within [`TOTP_SKEW_STEPS`] of `now`'s (unix
    /// seconds) whose code is `code`, later than `after` (the last step
    /// used: a code is never accepted twice). Every candidate is compared
    /// in constant time, whichever matches.
    pub fn matching_step(&self, code: &str, now: i64, after: Option<i64>) -> Option<i64> {
        let current = now.div_euclid(TOTP_PERIOD);
        let mut found = None;
        for step in (current - TOTP_SKEW_STEPS)..=(current + TOTP_SKEW_STEPS) {
            let expected = self.code_at_step(step);
            let equal =
                constant_time::verify_slices_are_equal(expected.as_bytes(), code.as_bytes())
                    .is_ok();
            if equal && after.is_none_or(|last| step > last) && found.is_none() {
                found = Some(step);
            }
        }
        found
    }

    /// The `otpauth://totp/` URI (Google Authenticator's Key Uri Format)
    /// naming `issuer` and `account`, which apps scan from the QR code.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> Zeroizing<String> {
        let label = format!("{}:{}", encode(issuer), encode(account));
        Zeroizing::new(format!(
            "otpauth://totp/{label}?secret={}&issuer={}&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_PERIOD}",
            self.to_base32().as_str(),
            encode(issuer),
        ))
    }
}

/// Whether `text` has the shape of a TOTP code (six ASCII digits), as
/// opposed to a recovery code.
pub(crate) fn looks_like_totp_code(text: &str) -> bool {
    text.len() == TOTP_DIGITS && text.bytes().all(|b| b.is_ascii_digit())
}

/// Percent-encodes a URI path segment or query value (RFC 3986 unreserved
/// characters kept).
fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 seed ("12345678901234567890").
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(Zeroizing::new(b"12345678901234567890".to_vec()))
    }

    #[test]
    fn codes_match_the_rfc_6238_test_vectors_for_sha1() {
        // Appendix B gives eight digits; six are their last six (mod 10^6).
        let vectors = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        let secret = rfc_secret();
        for (time, eight) in vectors {
            let code = secret.code_at_step(time / TOTP_PERIOD);
            assert_eq!(code.as_str(), &eight[2..], "at {time}");
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_not_two() {
        let secret = rfc_secret();
        let now = 1_111_111_111;
        let step = now / TOTP_PERIOD;
        for (delta, accepted) in [(-2, false), (-1, true), (0, true), (1, true), (2, false)] {
            let code = secret.code_at_step(step + delta);
            assert_eq!(
                secret.matching_step(&code, now, None),
                accepted.then_some(step + delta),
                "step {delta:+}"
            );
        }
    }

    #[test]
    fn a_step_already_used_is_refused() {
        let secret = rfc_secret();
        let now = 1_234_567_890;
        let step = now / TOTP_PERIOD;
        let code = secret.code_at_step(step);
        assert_eq!(secret.matching_step(&code, now, Some(step - 1)), Some(step));
        assert_eq!(secret.matching_step(&code, now, Some(step)), None);
    }

    #[test]
    fn the_uri_carries_the_base32_secret_and_an_encoded_label() {
        let uri = rfc_secret().otpauth_uri("auth.example", "ann@example.com");
        assert_eq!(
            uri.as_str(),
            "otpauth://totp/auth.example:ann%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=auth.example&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn the_debug_form_hides_the_secret() {
        assert_eq!(format!("{:?}", rfc_secret()), "TotpSecret([redacted])");
    }

    #[test]
    fn only_six_digits_look_like_a_totp_code() {
        assert!(looks_like_totp_code("012345"));
        assert!(!looks_like_totp_code("01234"));
        assert!(!looks_like_totp_code("abcd-efgh"));
    }
}
