//! Parse-don't-trust newtypes for what users type: email, username, the
//! login name that finds either, password.

use std::fmt;

use zeroize::Zeroizing;

use crate::error::AuthError;

/// Longest email accepted (RFC 5321 path limit).
const MAX_EMAIL_LEN: usize = 254;
/// Longest password accepted, in characters (docs/http-api.md).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// A syntactically valid email address, trimmed, NFKC-normalised and
/// lower-cased ([`crate::text::identifier`]).
///
/// Deliberately conservative rather than RFC 5322-complete: one `@`, a
/// non-empty local part of at most 64 bytes that is a dot-atom (RFC 5322
/// `atext`, or any non-ASCII letter per RFC 6531: no quoted local part, no
/// `:` or `,`), a dotted domain whose labels begin and end with a letter or
/// digit, no spaces, no control, format or bidi characters, and no part
/// (the local part, a domain label) that mixes scripts or imitates ASCII
/// ([`crate::text::unambiguous`]). The grammar is that of the
/// `email_address` crate, which lettre checks every recipient with: an
/// address accepted here can be mailed (a verification link, a reset
/// notice), where a looser check let `a:@example.com` register and then
/// fail every message to it. Deliverability is not checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses and normalises an email.
    ///
    /// # Errors
    /// [`AuthError::InvalidInput`] naming `email`.
    pub fn parse(input: &str) -> Result<Self, AuthError> {
        let email = crate::text::identifier("email", input)?;
        let bad = |why: &str| AuthError::invalid("email", why.to_owned());
        if email.is_empty() {
            return Err(bad("email is required"));
        }
        if email.len() > MAX_EMAIL_LEN {
            return Err(bad("email is longer than 254 characters"));
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("email contains spaces or control characters"));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(bad("email has no @"));
        };
        if local.is_empty()
            || local.len() > 64
            || domain.contains('@')
            || local.starts_with('"')
            || !email_address::EmailAddress::is_valid_local_part(local)
        {
            return Err(bad("email is not a valid address"));
        }
        let labels_ok = domain
            .split('.')
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
        if !domain.contains('.')
            || !labels_ok
            || !email_address::EmailAddress::is_valid_domain(domain)
        {
            return Err(bad("email domain is not valid"));
        }
        for part in std::iter::once(local).chain(domain.split('.')) {
            crate::text::unambiguous("email", part)?;
        }
        Ok(Self(email))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A username matching `[A-Za-z0-9_.-]{3,64}`, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Parses and normalises a username.
    ///
    /// # Errors
    /// [`AuthError::InvalidInput`] naming `username`.
    pub fn parse(input: &str) -> Result<Self, AuthError> {
        let name = input.trim();
        let ok_chars = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !(3..=64).contains(&name.len()) || !ok_chars {
            return Err(AuthError::invalid(
                "username",
                "username must be 3 to 64 characters of letters, digits, '_', '.' or '-'",
            ));
        }
        Ok(Self(name.to_ascii_lowercase()))
    }

    /// The normalised username.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How an account is named at login or in a lookup: an email or a
/// username as typed, trimmed and lower-cased, which is how both are stored.
///
/// It is not validated: a name that could match no account simply finds
/// none (see [`LoginName::could_match`]), so the answer for it looks like
/// any other unknown user's.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginName(String);

/// Never the name itself: what is typed as a login name is sometimes a
/// mistyped password.
impl fmt::Debug for LoginName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LoginName([redacted])")
    }
}

impl LoginName {
    /// Parses what was typed by the identifier rule ([`crate::text::identifier`]):
    /// trimmed, NFKC, lower-cased, and nothing invisible.
    ///
    /// # Errors
    /// [`AuthError::InvalidInput`] naming `field` for a control, format,
    /// bidirectional or unassigned character.
    pub fn parse(field: &'static str, input: &str) -> Result<Self, AuthError> {
        crate::text::identifier(field, input).map(Self)
    }

    /// Whether an account could have this name: not empty and no longer
    /// than the longest email (254 bytes).
    pub fn could_match(&self) -> bool {
        !self.0.is_empty() && self.0.len() <= MAX_EMAIL_LEN
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The normalised name, owned (a prefix for a user query).
    pub fn into_string(self) -> String {
        self.0
    }
}

/// A password as typed: zeroized on drop, never printed.
pub struct Password(Zeroizing<String>);

impl Password {
    /// Wraps a password, refusing only what no policy could accept (too long).
    ///
    /// # Errors
    /// [`AuthError::InvalidInput`] naming `password` when over 256 characters.
    pub fn new(password: String) -> Result<Self, AuthError> {
        let password = Zeroizing::new(password);
        if password.chars().count() > MAX_PASSWORD_CHARS {
            return Err(AuthError::invalid(
                "password",
                "password is longer than 256 characters",
            ));
        }
        Ok(Self(password))
    }

    /// The password text, for hashing and strength estimation only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_names_are_trimmed_and_lowercased_like_stored_emails() {
        assert_eq!(
            LoginName::parse("email", "  Ada@Example.COM ")
                .unwrap()
                .as_str(),
            "ada@example.com"
        );
        assert!(!LoginName::parse("email", "   ").unwrap().could_match());
        assert!(
            !LoginName::parse("email", &"a".repeat(255))
                .unwrap()
                .could_match()
        );
        assert!(
            LoginName::parse("email", &"a".repeat(254))
                .unwrap()
                .could_match()
        );
        // The identifier rule is the one the stores rely on: nothing
        // invisible reaches a lookup (a NUL was a 500 on PostgreSQL).
        assert!(LoginName::parse("email", "ali\0ce@example.com").is_err());
        assert!(LoginName::parse("email", "ali\u{200b}ce@example.com").is_err());
    }

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(
            Email::parse("  Alice@Example.COM ").unwrap().as_str(),
            "alice@example.com"
        );
        assert_eq!(
            Email::parse("ＡＬＩＣＥ@ｅｘａｍｐｌｅ.com")
                .unwrap()
                .as_str(),
            "alice@example.com"
        );
        assert_eq!(
            Email::parse("José@bücher.de").unwrap().as_str(),
            "josé@bücher.de"
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@example",
            "a b@example.com",
            "a@b@c.com",
            "alice@-x.com",
            "alice@x..com",
            "ali\u{200b}ce@example.com",
            "rtl\u{202e}@example.com",
            "al\u{0}ice@example.com",
            "\u{430}lice@example.com",
            "alice@ex\u{430}mple.com",
            // Not a dot-atom: these registered once, and then no message
            // could be addressed to them (a reset request was a 500).
            "a:@example.com",
            "a,b@example.com",
            "a;b@example.com",
            "a<b>@example.com",
            "\"quoted\"@example.com",
            ".alice@example.com",
            "alice.@example.com",
            "al..ice@example.com",
            "alice@example.com.",
            "alice@exam_ple-.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        for good in [
            "o'brien+tag@example.com",
            "a/b=c?d@example.com",
            "x@127.example",
        ] {
            assert!(Email::parse(good).is_ok(), "{good}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn usernames_follow_the_api_pattern() {
        assert_eq!(
            Username::parse("Alice_1.x-y").unwrap().as_str(),
            "alice_1.x-y"
        );
        for bad in ["ab", "with space", "ünï", &"a".repeat(65), "a/b"] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_never_print_and_cap_at_256_characters() {
        let p = Password::new("hunter2hunter2".into()).unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
        assert!(Password::new("é".repeat(256)).is_ok());
        assert!(Password::new("x".repeat(257)).is_err());
    }
}
