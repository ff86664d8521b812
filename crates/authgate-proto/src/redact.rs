//! Helpers for hand-written `Debug` impls that keep secrets out of logs.

/// What a secret prints as in `Debug` output.
pub(crate) const REDACTED: &str = "[redacted]";

/// Shows whether an optional secret is present, never its value.
pub(crate) fn redact_opt(secret: Option<&str>) -> Option<&'static str> {
    secret.map(|_| REDACTED)
}
