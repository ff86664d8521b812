//! Human-readable dates and durations for terminal output.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A Unix timestamp as RFC 3339 UTC, or a note when it is out of range.
pub(crate) fn date(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_else(|| "out of range".to_owned())
}

/// A span of seconds in its two largest units: `45s`, `12m`, `3h 5m`, `2d 4h`.
pub(crate) fn span(seconds: u64) -> String {
    const UNITS: [(u64, &str); 4] = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    if seconds == 0 {
        return "0s".to_owned();
    }
    let mut parts = Vec::with_capacity(2);
    let mut rest = seconds;
    for (size, name) in UNITS {
        if rest >= size {
            parts.push(format!("{}{name}", rest / size));
            rest %= size;
            if parts.len() == 2 {
                break;
            }
        } else if !parts.is_empty() {
            break;
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_use_the_two_largest_units() {
        assert_eq!(span(45), "45s");
        assert_eq!(span(12 * 60), "12m");
        assert_eq!(span(3 * 3600 + 5 * 60 + 7), "3h 5m");
        assert_eq!(span(2 * 86_400 + 4 * 3600), "2d 4h");
        assert_eq!(span(86_400 + 30), "1d");
    }

    #[test]
    fn dates_are_rfc3339_utc() {
        assert_eq!(date(1_300_819_380), "2011-03-22T18:43:00Z");
        assert_eq!(date(i64::MAX), "out of range");
    }
}
