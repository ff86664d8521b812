//! The two screens, rendered as text.

use std::fmt::Write as _;

use authgate_client::{AuditRecord, Client, decode_unverified, expires_in};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// How many audit records the dashboard shows.
const AUDIT_ROWS: usize = 5;

/// The login screen.
pub(crate) fn login(server: &str, client: &Client) -> String {
    let mut screen = String::from("\n=== authgate login-gate: Login ===\n");
    let _ = writeln!(screen, "Server: {server}");
    if let Some(user) = client.store().user() {
        let _ = writeln!(screen, "(currently signed in as {})", user.email);
    }
    screen.push_str("Commands: login <email or username> | go /dashboard | quit\n");
    screen
}

/// The dashboard: who, the token's claims and badge, the audit trail.
pub(crate) fn dashboard(client: &Client) -> String {
    let mut screen = String::from("\n=== authgate login-gate: Dashboard ===\n");
    if let Some(user) = client.store().user() {
        let _ = writeln!(
            screen,
            "Signed in as {} (roles: {})",
            user.email,
            user.roles.join(", ")
        );
    }
    if let Some(token) = client.store().token() {
        let now = client.now();
        let _ = writeln!(screen, "Access token: {}", badge(&token, now));
        screen.push_str(&claims(&token));
    }
    screen.push_str(&audit_trail(&client.audit_log().latest(AUDIT_ROWS)));
    screen.push_str("Commands: refresh | logout | go /login | quit\n");
    screen
}

/// `[VALID] expires in 14m 59s`, `[EXPIRED] 2m 0s ago`, or why the token
/// cannot be read. Unverified: a display, not a decision.
pub(crate) fn badge(token: &str, now: i64) -> String {
    match expires_in(token, now) {
        Ok(Some(left)) if left > 0 => format!("[VALID] expires in {}", span(left)),
        Ok(Some(left)) => format!("[EXPIRED] {} ago", span(-left)),
        Ok(None) => "[VALID] no expiry".to_owned(),
        Err(_) => "[INVALID] not a readable JWT".to_owned(),
    }
}

/// The token's claims, one per line, times also as dates.
fn claims(token: &str) -> String {
    let Ok(decoded) = decode_unverified::<Map<String, Value>>(token) else {
        return String::new();
    };
    let mut text = String::from("Claims (not verified):\n");
    for (name, value) in &decoded.claims {
        let shown = match (name.as_str(), value.as_i64()) {
            ("exp" | "iat" | "nbf", Some(at)) => format!("{at} ({})", date(at)),
            _ => value.to_string(),
        };
        let _ = writeln!(text, "  {name:<4} {shown}");
    }
    text
}

/// The latest audit records, newest first.
fn audit_trail(records: &[AuditRecord]) -> String {
    let mut text = format!("Last {AUDIT_ROWS} audit records:\n");
    if records.is_empty() {
        text.push_str("  (none)\n");
    }
    for record in records {
        let _ = writeln!(
            text,
            "  {}  {:<16} {}{}",
            date(record.at),
            record.kind.as_str(),
            record.user.as_deref().unwrap_or("-"),
            record
                .detail
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        );
    }
    text
}

/// Unix seconds as RFC 3339.
fn date(at: i64) -> String {
    OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_else(|| at.to_string())
}

/// Seconds as `1h 2m`, `14m 59s` or `5s`.
fn span(seconds: i64) -> String {
    match seconds {
        s if s >= 3600 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{}m {}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unsigned-looking JWT with the given claims (the badge never verifies).
    fn token(claims: &str) -> String {
        use base64::Engine as _;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
        format!(
            "{}.{}.{}",
            B64.encode(r#"{"alg":"EdDSA"}"#),
            B64.encode(claims),
            B64.encode("sig")
        )
    }

    #[test]
    fn a_token_before_its_expiry_gets_the_valid_badge() {
        let t = token(r#"{"exp":1000}"#);
        assert_eq!(badge(&t, 1000 - 899), "[VALID] expires in 14m 59s");
    }

    #[test]
    fn a_token_past_its_expiry_gets_the_expired_badge() {
        let t = token(r#"{"exp":1000}"#);
        assert_eq!(badge(&t, 1000), "[EXPIRED] 0s ago");
        assert_eq!(badge(&t, 1000 + 7200 + 60), "[EXPIRED] 2h 1m ago");
    }

    #[test]
    fn garbage_is_not_given_a_validity_badge() {
        assert_eq!(badge("not-a-jwt", 0), "[INVALID] not a readable JWT");
    }

    #[test]
    fn claims_list_times_as_dates() {
        let text = claims(&token(r#"{"sub":"alice","exp":1300819380}"#));
        assert!(
            text.contains("exp  1300819380 (2011-03-22T18:43:00Z)"),
            "{text}"
        );
        assert!(text.contains(r#"sub  "alice""#), "{text}");
    }
}
