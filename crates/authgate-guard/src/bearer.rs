//! The strict `Authorization: Bearer <token>` parser (RFC 6750 §2.1).

use crate::GuardError;

/// Longest `Authorization` header accepted, in bytes (8 KiB); docs/http-api.md answers
/// a longer one with `invalid_token`. It also bounds what is hashed for the
/// token cache.
pub const MAX_AUTHORIZATION_LEN: usize = 8 * 1024;

/// The token of an `Authorization` header value of the form `Bearer <token>`.
///
/// Strict on purpose, so that every component in front of us (proxies,
/// caches, the log) reads the same token: the scheme `Bearer` in any case,
/// exactly one space, then a non-empty RFC 7235 `token68` (letters, digits,
/// `-._~+/`, then optional trailing `=`) and nothing else. A header that is
/// not valid UTF-8 or visible ASCII cannot be Bearer: report it as
/// [`GuardError::MalformedHeader`].
///
/// # Errors
/// [`GuardError::HeaderTooLarge`] over [`MAX_AUTHORIZATION_LEN`] (checked
/// first), [`GuardError::UnsupportedScheme`] for another well-formed scheme
/// (`Basic …`), [`GuardError::MalformedHeader`] for anything else.
pub fn parse_bearer(header_value: &str) -> Result<&str, GuardError> {
    if header_value.len() > MAX_AUTHORIZATION_LEN {
        return Err(GuardError::HeaderTooLarge);
    }
    let (scheme, token) = header_value.split_once(' ').unwrap_or((header_value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(if is_http_token(scheme) {
            GuardError::UnsupportedScheme
        } else {
            GuardError::MalformedHeader
        });
    }
    if is_token68(token) {
        Ok(token)
    } else {
        Err(GuardError::MalformedHeader)
    }
}

/// `token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="` (RFC 7235 §2.1).
///
/// Every byte is looked at, without stopping at the first bad one: that
/// branch-free loop vectorises, and a 500-byte token is checked in tens of
/// nanoseconds instead of hundreds (the header is at most 8 KiB anyway).
fn is_token68(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty() && body.bytes().fold(true, |ok, b| ok & is_token68_char(b))
}

/// One character of a `token68` body, tested without branches.
#[inline]
fn is_token68_char(b: u8) -> bool {
    let alpha = (b | 0x20).wrapping_sub(b'a') < 26;
    let digit = b.wrapping_sub(b'0') < 10;
    alpha
        | digit
        | (b == b'-')
        | (b == b'.')
        | (b == b'_')
        | (b == b'~')
        | (b == b'+')
        | (b == b'/')
}

/// An RFC 7230 `token`, what an auth scheme name must be.
fn is_http_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_is_case_insensitive() {
        assert_eq!(parse_bearer("Bearer abc"), Ok("abc"));
        assert_eq!(parse_bearer("bearer abc"), Ok("abc"));
        assert_eq!(parse_bearer("BEARER abc"), Ok("abc"));
    }

    #[test]
    fn a_jwt_with_every_token68_character_is_accepted() {
        let token = "eyJ.a-b_c~d+e/f.Zz09==";
        assert_eq!(parse_bearer(&format!("Bearer {token}")), Ok(token));
    }

    #[test]
    fn two_spaces_are_malformed() {
        assert_eq!(
            parse_bearer("Bearer  abc"),
            Err(GuardError::MalformedHeader)
        );
    }

    #[test]
    fn another_scheme_is_unsupported() {
        assert_eq!(
            parse_bearer("Basic abc"),
            Err(GuardError::UnsupportedScheme)
        );
        assert_eq!(
            parse_bearer("Bearerabc"),
            Err(GuardError::UnsupportedScheme)
        );
    }

    #[test]
    fn an_empty_token_is_malformed() {
        assert_eq!(parse_bearer("Bearer"), Err(GuardError::MalformedHeader));
        assert_eq!(parse_bearer("Bearer "), Err(GuardError::MalformedHeader));
        assert_eq!(parse_bearer("Bearer ==="), Err(GuardError::MalformedHeader));
        assert_eq!(parse_bearer(""), Err(GuardError::MalformedHeader));
    }

    #[test]
    fn a_token_with_a_space_or_trailing_junk_is_malformed() {
        assert_eq!(parse_bearer("Bearer a b"), Err(GuardError::MalformedHeader));
        assert_eq!(
            parse_bearer("Bearer abc "),
            Err(GuardError::MalformedHeader)
        );
        assert_eq!(
            parse_bearer(" Bearer abc"),
            Err(GuardError::MalformedHeader)
        );
        assert_eq!(
            parse_bearer("Bearer\tabc"),
            Err(GuardError::MalformedHeader)
        );
    }

    #[test]
    fn characters_outside_token68_are_malformed() {
        for bad in ["a,b", "a\"b", "a=b", "a\tb", "a;b", "a%2Eb", "é", "a\u{0}b"] {
            assert_eq!(
                parse_bearer(&format!("Bearer {bad}")),
                Err(GuardError::MalformedHeader),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_header_of_exactly_8_kib_is_parsed_and_one_byte_more_is_too_large() {
        let fits = format!("Bearer {}", "a".repeat(MAX_AUTHORIZATION_LEN - 7));
        assert_eq!(fits.len(), MAX_AUTHORIZATION_LEN);
        assert!(parse_bearer(&fits).is_ok());
        let over = format!("{fits}a");
        assert_eq!(parse_bearer(&over), Err(GuardError::HeaderTooLarge));
    }

    #[test]
    fn the_token68_alphabet_is_exactly_rfc_7235s() {
        for b in 0..=u8::MAX {
            let expected = b.is_ascii_alphanumeric() || b"-._~+/".contains(&b);
            assert_eq!(is_token68_char(b), expected, "byte {b:#04x}");
        }
    }

    #[test]
    fn size_is_checked_before_anything_else() {
        let junk = " ".repeat(MAX_AUTHORIZATION_LEN + 1);
        assert_eq!(parse_bearer(&junk), Err(GuardError::HeaderTooLarge));
    }
}
