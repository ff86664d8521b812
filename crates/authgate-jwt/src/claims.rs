//! Claims: the ready-made [`Claims`] struct, the [`Audience`] type, the strict
//! NumericDate rule, and the one-pass reader of registered claims that
//! validation uses whatever type the caller deserialises into.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor, value};
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
            from_i64(v)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            from_u64(v)
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            from_f64(v)
        }
    }

    pub(crate) fn from_i64<E: de::Error>(v: i64) -> Result<i64, E> {
        Ok(v)
    }

    pub(crate) fn from_u64<E: de::Error>(v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom("NumericDate out of range"))
    }

    pub(crate) fn from_f64<E: de::Error>(v: f64) -> Result<i64, E> {
        // i64::MAX as f64 rounds up to 2^63, so compare with a strict bound.
        if v.is_finite() && (-9.2e18..=9.2e18).contains(&v) {
            Ok(v.floor() as i64)
        } else {
            Err(E::custom("NumericDate out of range"))
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

/// The registered claims validation needs, noted while the claims are read,
/// and which of the caller's required claims were present.
#[derive(Debug, Default)]
pub(crate) struct Registered<'a> {
    pub(crate) iss: Option<Cow<'a, str>>,
    pub(crate) aud: Option<AudRef<'a>>,
    pub(crate) exp: Option<i64>,
    pub(crate) nbf: Option<i64>,
    pub(crate) iat: Option<i64>,
    /// Bit `i` set when `required[i]` appeared (at most 64 required claims).
    pub(crate) present: u64,
    /// Whether every member of the object was read; when the caller's type
    /// fails only at the end (a missing field), validation can still say
    /// what was wrong with the token itself.
    pub(crate) complete: bool,
}

/// Reads the claims object into the caller's `T` and the registered claims in
/// one pass.
///
/// Registered claims are parsed here, strictly (NumericDates must be numbers,
/// `iss`/`sub`/`jti` strings, `aud` a string or array of strings, no
/// duplicates), and then handed to `T` through serde's value deserializers;
/// every other member goes to `T` untouched. So validation costs no second
/// parse, and `T` can never see a registered claim that validation did not.
pub(crate) fn read_claims<'de, T: Deserialize<'de>>(
    json: &'de str,
    required: &[String],
    registered: &mut Registered<'de>,
) -> Result<T, serde_json::Error> {
    // from_str: the caller checked UTF-8 once, so serde_json need not re-check every string.
    let mut de = serde_json::Deserializer::from_str(json);
    let value = T::deserialize(ClaimsDeserializer {
        de: &mut de,
        state: registered,
        required,
    })?;
    if let Err(e) = de.end() {
        // The object was read, but something follows it: malformed, whatever the claims say.
        registered.complete = false;
        return Err(e);
    }
    Ok(value)
}

struct ClaimsDeserializer<'a, 'de, 'r> {
    de: &'a mut serde_json::Deserializer<serde_json::de::StrRead<'de>>,
    state: &'a mut Registered<'de>,
    required: &'r [String],
}

impl<'de> Deserializer<'de> for ClaimsDeserializer<'_, 'de, '_> {
    type Error = serde_json::Error;

    /// Claims are always an object, whatever `T` asks for.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.de.deserialize_map(ObjectVisitor {
            visitor,
            state: self.state,
            required: self.required,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct ObjectVisitor<'a, 'de, 'r, V> {
    visitor: V,
    state: &'a mut Registered<'de>,
    required: &'r [String],
}

impl<'de, V: Visitor<'de>> Visitor<'de> for ObjectVisitor<'_, 'de, '_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.visitor.visit_map(ClaimsMap {
            map,
            state: self.state,
            required: self.required,
            current: Member::Other,
            seen: SeenNames::default(),
        })
    }
}

/// Which member the map is positioned on.
#[derive(Clone, Copy)]
enum Member {
    Exp,
    Nbf,
    Iat,
    Iss,
    Aud,
    /// `sub` or `jti`: checked to be strings, not kept.
    StringClaim,
    Other,
}

struct ClaimsMap<'a, 'de, 'r, A> {
    map: A,
    state: &'a mut Registered<'de>,
    required: &'r [String],
    current: Member,
    /// Every claim name read so far, to refuse duplicates.
    seen: SeenNames<'de>,
}

/// Claim names read so far. Up to [`INLINE_NAMES`] names without escapes
/// are kept inline, the rest in a vector: real tokens need no allocation.
struct SeenNames<'de> {
    inline: [&'de str; INLINE_NAMES],
    inline_len: usize,
    spilled: Vec<Cow<'de, str>>,
    /// One bit per name fingerprint: names are compared only on a fingerprint collision.
    mask: u64,
}

/// Names a [`SeenNames`] keeps without allocating; access tokens carry 8-12 claims.
const INLINE_NAMES: usize = 16;

impl Default for SeenNames<'_> {
    fn default() -> Self {
        Self {
            inline: [""; INLINE_NAMES],
            inline_len: 0,
            spilled: Vec::new(),
            mask: 0,
        }
    }
}

impl<'de> SeenNames<'de> {
    fn contains(&self, name: &str) -> bool {
        self.inline[..self.inline_len].contains(&name) || self.spilled.iter().any(|s| s == name)
    }

    fn push(&mut self, name: Cow<'de, str>) {
        match name {
            Cow::Borrowed(name) if self.inline_len < INLINE_NAMES => {
                self.inline[self.inline_len] = name;
                self.inline_len += 1;
            }
            name => self.spilled.push(name),
        }
    }
}

impl<'de, A> ClaimsMap<'_, 'de, '_, A> {
    /// Whether `key` was already read. RFC 7519 §4 lets a parser reject
    /// duplicate claim names; we do for every name, because which copy a
    /// reader takes differs between types (`serde_json::Value` keeps the
    /// last, a struct refuses), and such disagreements are what attackers use.
    fn is_duplicate(&mut self, key: Cow<'de, str>) -> bool {
        let bytes = key.as_bytes();
        let fingerprint = bytes
            .len()
            .wrapping_mul(31)
            .wrapping_add(usize::from(bytes.first().copied().unwrap_or(0)))
            .wrapping_add(usize::from(bytes.last().copied().unwrap_or(0)).wrapping_mul(7));
        let bit = 1u64 << (fingerprint % 64);
        let duplicate = self.seen.mask & bit != 0 && self.seen.contains(&key);
        self.seen.mask |= bit;
        self.seen.push(key);
        duplicate
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for ClaimsMap<'_, 'de, '_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let Some(BorrowedStr(key)) = self.map.next_key()? else {
            self.state.complete = true;
            return Ok(None);
        };
        if self.is_duplicate(key.clone()) {
            return Err(de::Error::custom("duplicate claim name"));
        }
        if let Some(i) = self.required.iter().position(|r| *r == key) {
            self.state.present |= 1u64.checked_shl(i as u32).unwrap_or(0);
        }
        self.current = match key.as_ref() {
            "exp" => Member::Exp,
            "nbf" => Member::Nbf,
            "iat" => Member::Iat,
            "iss" => Member::Iss,
            "aud" => Member::Aud,
            "sub" | "jti" => Member::StringClaim,
            _ => Member::Other,
        };
        feed_str(seed, key).map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        let state = &mut *self.state;
        match std::mem::replace(&mut self.current, Member::Other) {
            Member::Other => self.map.next_value_seed(seed),
            Member::Exp => feed_date(seed, self.map.next_value()?, &mut state.exp, "exp"),
            Member::Nbf => feed_date(seed, self.map.next_value()?, &mut state.nbf, "nbf"),
            Member::Iat => feed_date(seed, self.map.next_value()?, &mut state.iat, "iat"),
            Member::Iss => {
                let BorrowedStr(iss) = self.map.next_value()?;
                set_once(&mut state.iss, iss.clone(), "iss")?;
                feed_str(seed, iss)
            }
            Member::StringClaim => {
                let BorrowedStr(value) = self.map.next_value()?;
                feed_str(seed, value)
            }
            Member::Aud => {
                let aud: AudRef<'de> = self.map.next_value()?;
                let value = match &aud {
                    AudRef::One(one) => {
                        seed.deserialize(Present(value::StrDeserializer::new(one)))?
                    }
                    AudRef::Many(many) => seed.deserialize(Present(
                        value::SeqDeserializer::new(many.iter().map(|a| a.as_ref())),
                    ))?,
                };
                set_once(&mut state.aud, aud, "aud")?;
                Ok(value)
            }
        }
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// Wraps the deserializer of a value that is present (registered claims are
/// never `null` here): `Option<_>` fields get `visit_some` and newtype
/// structs `visit_newtype_struct`, which serde's value deserializers, made
/// for plain values, do not give them.
struct Present<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Present<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

/// Hands a string to `T`, borrowed from the input when it had no escapes.
fn feed_str<'de, S: DeserializeSeed<'de>, E: de::Error>(
    seed: S,
    s: Cow<'de, str>,
) -> Result<S::Value, E> {
    match s {
        Cow::Borrowed(b) => seed.deserialize(Present(value::BorrowedStrDeserializer::new(b))),
        Cow::Owned(o) => seed.deserialize(Present(value::StringDeserializer::new(o))),
    }
}

/// A JSON number as it was written, so `T` sees the same kind serde_json would give it.
#[derive(Clone, Copy)]
enum Number {
    Int(i64),
    Uint(u64),
    Float(f64),
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NumberVisitor;
        impl Visitor<'_> for NumberVisitor {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a NumericDate (JSON number of seconds)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number::Uint(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
                Ok(Number::Float(v))
            }
        }
        d.deserialize_any(NumberVisitor)
    }
}

fn feed_date<'de, S: DeserializeSeed<'de>, E: de::Error>(
    seed: S,
    n: Number,
    slot: &mut Option<i64>,
    name: &'static str,
) -> Result<S::Value, E> {
    let (date, value) = match n {
        Number::Int(v) => (
            numeric_date::from_i64(v),
            seed.deserialize(Present(value::I64Deserializer::new(v))),
        ),
        Number::Uint(v) => (
            numeric_date::from_u64(v),
            seed.deserialize(Present(value::U64Deserializer::new(v))),
        ),
        Number::Float(v) => (
            numeric_date::from_f64(v),
            seed.deserialize(Present(value::F64Deserializer::new(v))),
        ),
    };
    set_once(slot, date?, name)?;
    value
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
        let mut reg = Registered::default();
        read_claims::<de::IgnoredAny>(json, &[], &mut reg)?;
        Ok(reg)
    }

    #[test]
    fn the_callers_type_sees_registered_claims_as_written() {
        #[derive(Deserialize)]
        struct Mine {
            exp: u64,
            aud: Vec<String>,
            iss: String,
            extra: bool,
        }
        let mut reg = Registered::default();
        let json = r#"{"exp":7,"aud":["a","b"],"iss":"i\u0041","extra":true}"#;
        let mine: Mine = read_claims(json, &[], &mut reg).unwrap();
        assert_eq!(
            (mine.exp, mine.aud.len(), mine.iss.as_str(), mine.extra),
            (7, 2, "iA", true)
        );
        assert_eq!((reg.exp, reg.iss.as_deref()), (Some(7), Some("iA")));
        assert!(reg.complete);
    }

    #[test]
    fn claims_that_are_not_an_object_are_refused_whatever_the_type() {
        let mut reg = Registered::default();
        assert!(read_claims::<serde_json::Value>("[1,2]", &[], &mut reg).is_err());
        assert!(read_claims::<Vec<u8>>("{}", &[], &mut reg).is_err());
        assert!(read_claims::<serde_json::Value>("{} x", &[], &mut reg).is_err());
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
    fn duplicate_claims_of_any_name_are_refused() {
        assert!(registered(r#"{"exp":1,"exp":2}"#).is_err());
        assert!(registered(r#"{"aud":"a","aud":"b"}"#).is_err());
        assert!(registered(r#"{"sub":"alice","sub":"admin"}"#).is_err());
        assert!(registered(r#"{"jti":"a","x":1,"jti":"b"}"#).is_err());
        assert!(registered(r#"{"role":"user","exp":5,"role":"admin"}"#).is_err());
        // An escaped spelling of the same name is the same name.
        assert!(registered(r#"{"sub":"a","s\u0075b":"b"}"#).is_err());
        // Many distinct names whose fingerprints collide are still fine.
        let many: Vec<String> = (0..100).map(|i| format!("\"c{i}\":{i}")).collect();
        assert!(registered(&format!("{{{}}}", many.join(","))).is_ok());
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
