//! Claims: the ready-made [`Claims`] struct, the [`Audience`] type, the strict
//! NumericDate rule, and the one-pass reader of registered claims that
//! validation uses whatever type the caller deserialises into.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The registered claims of RFC 7519 §4.1 plus every other claim in `extra`.
///
/// Use it when you do not want a struct of your own; time claims are Unix seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Subject: for authgate, the user or client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Audience: one string or several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
    /// Expiry, Unix seconds.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "numeric_date::option"
    )]
    pub exp: Option<i64>,
    /// Not before, Unix seconds.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "numeric_date::option"
    )]
    pub nbf: Option<i64>,
    /// Issued at, Unix seconds.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "numeric_date::option"
    )]
    pub iat: Option<i64>,
    /// Unique token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Every claim that is not registered (`sid`, `roles`, …).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The `aud` claim: RFC 7519 §4.1.3 allows one string or an array of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// A single audience, written as a JSON string.
    One(String),
    /// Several audiences, written as a JSON array.
    Many(Vec<String>),
}

impl Audience {
    /// Whether `aud` is one of the audiences.
    pub fn contains(&self, aud: &str) -> bool {
        match self {
            Self::One(one) => one == aud,
            Self::Many(many) => many.iter().any(|a| a == aud),
        }
    }

    /// The audiences as a slice-like iterator.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let slice: &[String] = match self {
            Self::One(one) => std::slice::from_ref(one),
            Self::Many(many) => many,
        };
        slice.iter().map(String::as_str)
    }
}

impl From<&str> for Audience {
    fn from(aud: &str) -> Self {
        Self::One(aud.to_owned())
    }
}

impl From<String> for Audience {
    fn from(aud: String) -> Self {
        Self::One(aud)
    }
}

impl Serialize for Audience {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::One(one) => s.serialize_str(one),
            Self::Many(many) => many.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match AudRef::deserialize(d)? {
            AudRef::One(one) => Self::One(one.into_owned()),
            AudRef::Many(many) => Self::Many(many.into_iter().map(Cow::into_owned).collect()),
        })
    }
}

/// NumericDate (RFC 7519 §2): a JSON number of seconds, never a string.
///
/// Accepting `"exp": "1700000000"` (or silently ignoring it) is how a 2026
/// CVE let expired tokens through, so anything but a number is an error.
/// Fractions are floored; values beyond `i64` are errors.
pub mod numeric_date {
    use super::*;

    struct NumericDate;

    impl Visitor<'_> for NumericDate {
        type Value = i64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a NumericDate (JSON number of seconds)")
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom("NumericDate out of range"))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            // i64::MAX as f64 rounds up to 2^63, so compare with a strict bound.
            if v.is_finite() && (-9.2e18..=9.2e18).contains(&v) {
                Ok(v.floor() as i64)
            } else {
                Err(E::custom("NumericDate out of range"))
            }
        }
    }

    /// Deserialises a required NumericDate.
    ///
    /// # Errors
    /// If the value is not a JSON number in range.
    pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_any(NumericDate)
    }

    /// Deserialises an optional NumericDate; `null` is an error, absence is `None`
    /// (use with `#[serde(default)]`).
    ///
    /// # Errors
    /// If the value is present and not a JSON number in range.
    pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        d.deserialize_any(NumericDate).map(Some)
    }
}

/// `aud` borrowed from the claims JSON where possible.
#[derive(Debug)]
pub(crate) enum AudRef<'a> {
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl AudRef<'_> {
    pub(crate) fn contains_any(&self, wanted: &[String]) -> bool {
        match self {
            Self::One(one) => wanted.iter().any(|w| w == one),
            Self::Many(many) => many.iter().any(|a| wanted.iter().any(|w| w == a)),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for AudRef<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct AudVisitor;
        impl<'de> Visitor<'de> for AudVisitor {
            type Value = AudRef<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(AudRef::One(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(AudRef::One(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(AudRef::One(Cow::Owned(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut many = Vec::with_capacity(seq.size_hint().unwrap_or(2).min(16));
                while let Some(aud) = seq.next_element::<BorrowedStr<'de>>()? {
                    many.push(aud.0);
                }
                Ok(AudRef::Many(many))
            }
        }
        d.deserialize_any(AudVisitor)
    }
}

/// A string that borrows from the input when it has no escapes.
struct BorrowedStr<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for BorrowedStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = BorrowedStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(StrVisitor)
    }
}

struct Date(i64);

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        numeric_date::required(d).map(Date)
    }
}

/// The registered claims validation needs, read in one pass that skips the
/// rest, and which of the caller's required claims were present.
#[derive(Debug, Default)]
pub(crate) struct Registered<'a> {
    pub(crate) iss: Option<Cow<'a, str>>,
    pub(crate) aud: Option<AudRef<'a>>,
    pub(crate) exp: Option<i64>,
    pub(crate) nbf: Option<i64>,
    pub(crate) iat: Option<i64>,
    /// Bit `i` set when `required[i]` appeared (at most 64 required claims).
    pub(crate) present: u64,
}

/// Reads [`Registered`] from a claims object, noting `required` claim names.
pub(crate) struct RegisteredSeed<'r> {
    pub(crate) required: &'r [String],
}

impl<'de, 'r> DeserializeSeed<'de> for RegisteredSeed<'r> {
    type Value = Registered<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, 'r> Visitor<'de> for RegisteredSeed<'r> {
    type Value = Registered<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Registered::default();
        while let Some(BorrowedStr(key)) = map.next_key()? {
            if let Some(i) = self.required.iter().position(|r| *r == key) {
                out.present |= 1u64.checked_shl(i as u32).unwrap_or(0);
            }
            match key.as_ref() {
                "exp" => set_once(&mut out.exp, map.next_value::<Date>()?.0, "exp")?,
                "nbf" => set_once(&mut out.nbf, map.next_value::<Date>()?.0, "nbf")?,
                "iat" => set_once(&mut out.iat, map.next_value::<Date>()?.0, "iat")?,
                "iss" => set_once(&mut out.iss, map.next_value::<BorrowedStr<'de>>()?.0, "iss")?,
                "aud" => set_once(&mut out.aud, map.next_value::<AudRef<'de>>()?, "aud")?,
                // sub and jti must be strings when present (RFC 7519 §4.1.2, §4.1.7).
                "sub" | "jti" => {
                    map.next_value::<BorrowedStr<'de>>()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

/// Duplicate registered claims are an error: which copy a library reads is
/// exactly the kind of disagreement attackers use (RFC 7519 §4).
fn set_once<T, E: de::Error>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(name));
    }
    *slot = Some(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registered(json: &str) -> Result<Registered<'_>, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(json);
        RegisteredSeed { required: &[] }.deserialize(&mut de)
    }

    #[test]
    fn string_exp_is_an_error_not_a_missing_claim() {
        assert!(registered(r#"{"exp":"1700000000"}"#).is_err());
        assert!(registered(r#"{"nbf":true}"#).is_err());
        assert!(registered(r#"{"iat":{"n":1}}"#).is_err());
        assert!(registered(r#"{"exp":null}"#).is_err());
    }

    #[test]
    fn fractional_dates_are_floored_and_huge_ones_refused() {
        assert_eq!(
            registered(r#"{"exp":1700000000.9}"#).unwrap().exp,
            Some(1_700_000_000)
        );
        assert!(registered(r#"{"exp":1e300}"#).is_err());
        assert!(registered(r#"{"exp":18446744073709551615}"#).is_err());
    }

    #[test]
    fn duplicate_registered_claims_are_refused() {
        assert!(registered(r#"{"exp":1,"exp":2}"#).is_err());
        assert!(registered(r#"{"aud":"a","aud":"b"}"#).is_err());
    }

    #[test]
    fn aud_may_be_a_string_or_an_array_of_strings_only() {
        let r = registered(r#"{"aud":["a","b"]}"#).unwrap();
        assert!(r.aud.unwrap().contains_any(&["b".into()]));
        assert!(registered(r#"{"aud":[1]}"#).is_err());
        assert!(registered(r#"{"aud":5}"#).is_err());
    }

    #[test]
    fn sub_of_the_wrong_type_is_an_error() {
        assert!(registered(r#"{"sub":42}"#).is_err());
    }

    #[test]
    fn claims_struct_keeps_unregistered_claims() {
        let c: Claims = serde_json::from_str(r#"{"sub":"u","exp":5,"roles":["admin"]}"#).unwrap();
        assert_eq!(c.exp, Some(5));
        assert_eq!(c.extra["roles"][0], "admin");
        assert!(serde_json::from_str::<Claims>(r#"{"exp":"5"}"#).is_err());
    }

    #[test]
    fn audience_serialises_one_as_a_string() {
        assert_eq!(
            serde_json::to_string(&Audience::from("api")).unwrap(),
            r#""api""#
        );
        let many: Audience = serde_json::from_str(r#"["a","b"]"#).unwrap();
        assert!(many.contains("b") && !many.contains("c"));
    }
}
