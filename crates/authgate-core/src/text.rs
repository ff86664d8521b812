//! The rules for text people type, one per kind of field, applied once
//! where each field is parsed (the PRECIS approach, RFC 8264/8265, with
//! UTS #39 for look-alikes), and the one way identifiers are printed.
//!
//! - Identifiers (emails, login names, search prefixes): trimmed,
//!   NFKC-normalised and lower-cased; no control (Cc), format (Cf, which
//!   holds the bidi controls and the zero-width characters), separator
//!   (Zl, Zp) or unassigned (Cn) character. An email's local part and each
//!   domain label are also single-script, and a non-ASCII one must not be a
//!   look-alike of an ASCII one (its UTS #39 skeleton is not all ASCII).
//! - Display names (user and client names): any script, NFC-normalised; no
//!   control, separator or unassigned character, and no format character
//!   except the zero-width (non-)joiners between two visible characters,
//!   which Persian, the Indic scripts and emoji sequences need.
//! - Opaque ids (client ids, audit kinds): visible ASCII only.
//!
//! Each rule answers [`AuthError::InvalidInput`] naming the field; none
//! echoes the value (it may be a mistyped password).

use std::fmt::Write as _;

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
use unicode_security::{MixedScript, skeleton};

use crate::error::AuthError;

/// ZERO WIDTH NON-JOINER and ZERO WIDTH JOINER: the only format
/// characters a display name may hold, and only inside a word.
const JOINERS: [char; 2] = ['\u{200C}', '\u{200D}'];

/// Whether `c` is never acceptable in any text field: a control, format,
/// line or paragraph separator, surrogate, private-use or unassigned
/// character. Format characters include every bidi control (U+200E,
/// U+200F, U+202A–U+202E, U+2066–U+2069, U+061C) and U+200B.
fn is_invisible(c: char) -> bool {
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::Surrogate
            | GeneralCategory::PrivateUse
            | GeneralCategory::Unassigned
    )
}

/// An identifier as typed, in the form it is stored and compared in:
/// trimmed, NFKC, lower-cased (NFKC again, as case mapping can undo it).
///
/// # Errors
/// [`AuthError::InvalidInput`] naming `field` when it holds a character
/// [`is_invisible`] refuses.
pub fn identifier(field: &'static str, input: &str) -> Result<String, AuthError> {
    let folded: String = input.trim().nfkc().collect::<String>().to_lowercase();
    let normal: String = folded.nfkc().collect();
    if normal.chars().any(is_invisible) {
        return Err(AuthError::invalid(
            field,
            "must not contain control, format, bidirectional or unassigned characters",
        ));
    }
    Ok(normal)
}

/// Refuses a part of an identifier (an email's local part, a domain label)
/// that people could not tell from another: one mixing scripts (`аlice`
/// with a Cyrillic `а`), or a non-ASCII one whose UTS #39 skeleton is all
/// ASCII (a whole-script look-alike such as Cyrillic `аре` for `ape`).
///
/// # Errors
/// [`AuthError::InvalidInput`] naming `field`.
pub fn unambiguous(field: &'static str, part: &str) -> Result<(), AuthError> {
    if !part.is_single_script() {
        return Err(AuthError::invalid(field, "must not mix scripts"));
    }
    if !part.is_ascii() && skeleton(part).all(|c| c.is_ascii()) {
        return Err(AuthError::invalid(
            field,
            "must not imitate a Latin address with look-alike characters",
        ));
    }
    Ok(())
}

/// A display name: trimmed and NFC-normalised, of any script.
///
/// # Errors
/// [`AuthError::InvalidInput`] naming `field` for a control, separator,
/// unassigned or format character (a joiner is allowed only between two
/// characters that are neither format characters nor spaces).
pub fn display_name(field: &'static str, input: &str) -> Result<String, AuthError> {
    let name: String = input.trim().nfc().collect();
    let chars: Vec<char> = name.chars().collect();
    let visible = |c: Option<&char>| c.is_some_and(|c| !c.is_whitespace() && !is_invisible(*c));
    let refused = chars.iter().enumerate().any(|(i, c)| {
        if JOINERS.contains(c) {
            !(i > 0 && visible(chars.get(i - 1)) && visible(chars.get(i + 1)))
        } else {
            is_invisible(*c)
        }
    });
    if refused {
        return Err(AuthError::invalid(
            field,
            "must not contain control, format, bidirectional or unassigned characters",
        ));
    }
    Ok(name)
}

/// Whether `input` is a possible opaque id (a client id, an audit kind):
/// visible ASCII, no space.
pub fn is_opaque_id(input: &str) -> bool {
    input.bytes().all(|b| b.is_ascii_graphic())
}

/// `input` safe to print on a terminal or in a log line: every character
/// that [`is_invisible`] refuses, every space other than U+0020, and the
/// backslash are written as Rust escapes (`\u{202e}`, `\\`), so what an
/// operator reads is what is stored.
pub fn escaped(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else if is_invisible(c) || (c.is_whitespace() && c != ' ') {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_nfkc_lowercase_and_refuse_invisible_characters() {
        assert_eq!(
            identifier("email", " ＡＬＩＣＥ@Example.com ").unwrap(),
            "alice@example.com"
        );
        for bad in [
            "alice@example.com\u{200b}",
            "ali\u{200b}ce@example.com",
            "rtl\u{202e}@example.com",
            "a\u{0}b",
            "a\u{1b}b",
            "a\u{2028}b",
            "a\u{e000}b",
            "a\u{10ffff}b",
        ] {
            let err = identifier("email", bad).unwrap_err();
            assert!(err.to_string().starts_with("email: "), "{bad:?}: {err}");
        }
    }

    #[test]
    fn mixed_script_and_ascii_look_alikes_are_refused() {
        for ok in [
            "alice",
            "josé",
            "δημήτρης",
            "иван",
            "李",
            "o'brien",
            "a1-b_c",
        ] {
            assert!(unambiguous("email", ok).is_ok(), "{ok}");
        }
        // A Cyrillic а among Latin letters; a Cyrillic whole-script look-alike
        // of "ape"; a dotless ı for i.
        // Short all-Greek and all-Cyrillic words of Latin-looking letters too.
        for bad in [
            "\u{430}lice",
            "\u{430}\u{440}\u{435}",
            "al\u{131}ce",
            "\u{3bf}\u{3c1}\u{3bf}",
            "\u{441}\u{43e}\u{440}",
        ] {
            assert!(unambiguous("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn display_names_allow_any_script_and_joiners_inside_words_only() {
        assert_eq!(display_name("name", " Zoë Ñandú ").unwrap(), "Zoë Ñandú");
        assert!(display_name("name", "می\u{200c}خواهم").is_ok());
        assert!(display_name("name", "👩\u{200d}💻").is_ok());
        for bad in [
            "\u{200d}alice",
            "alice\u{200c}",
            "a \u{200d}b",
            "rtl\u{202e}name",
            "nul\u{0}",
            "esc\u{1b}[31m",
            "zero\u{200b}width",
        ] {
            assert!(display_name("name", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn escaping_shows_what_is_stored() {
        assert_eq!(escaped("alice@example.com"), "alice@example.com");
        assert_eq!(
            escaped("rtl\u{202e}\u{0}\u{1b}[\\ x\t"),
            "rtl\\u{202e}\\u{0}\\u{1b}[\\\\ x\\u{9}"
        );
        assert!(is_opaque_id("svc_0123abc"));
        assert!(!is_opaque_id("svc 1") && !is_opaque_id("svc\u{0}") && !is_opaque_id("ß"));
    }
}
