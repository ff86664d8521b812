//! [`Secret`]: a setting never printed, zeroized on drop, taken from the
//! environment or a file.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use super::error::ConfigError;

/// A secret setting: never printed, zeroized on drop, serialised masked.
///
/// It has no `==`: a derived comparison stops at the first differing byte,
/// so its timing tells how much of a guess was right. Code that must
/// compare a secret does it in constant time on [`Secret::expose`].
#[derive(Clone, Default)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// The secret text; empty when unset.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is set.
    pub fn is_set(&self) -> bool {
        !self.0.is_empty()
    }

    /// Replaces `file:/path` with the file's trimmed contents.
    ///
    /// # Errors
    /// [`ConfigError::SecretFile`] when the file cannot be read.
    pub(super) fn resolve_file(self) -> Result<Self, ConfigError> {
        match self.0.strip_prefix("file:") {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| ConfigError::SecretFile {
                        path: path.to_owned(),
                        source,
                    })?;
                Ok(Self(Zeroizing::new(text.trim().to_owned())))
            }
            None => Ok(self),
        }
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self(Zeroizing::new(s))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_set() {
            "Secret([redacted])"
        } else {
            "Secret(unset)"
        })
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.is_set() { "********" } else { "" })
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// Strings only; anything else is refused without its value, which
        /// serde's own message would quote (and which may be the secret).
        struct SecretVisitor;

        impl serde::de::Visitor<'_> for SecretVisitor {
            type Value = Secret;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Secret, E> {
                Ok(Secret::from(v.to_owned()))
            }

            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Secret, E> {
                Ok(Secret::from(v))
            }

            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Secret, E> {
                Err(not_a_string())
            }

            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Secret, E> {
                Err(not_a_string())
            }

            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Secret, E> {
                Err(not_a_string())
            }

            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Secret, E> {
                Err(not_a_string())
            }
        }

        fn not_a_string<E: serde::de::Error>() -> E {
            E::custom("a secret must be a string (its value is not shown)")
        }

        d.deserialize_string(SecretVisitor)
    }
}

#[cfg(test)]
mod tests {
    use std::marker::PhantomData;

    use super::*;

    /// Tells at compile time whether `T` has `==`: the inherent method
    /// (only there when `T: PartialEq`) wins over the trait's default.
    struct Probe<T>(PhantomData<T>);

    trait NoEq {
        fn has_eq(&self) -> bool {
            false
        }
    }

    impl<T> NoEq for Probe<T> {}

    impl<T: PartialEq> Probe<T> {
        fn has_eq(&self) -> bool {
            true
        }
    }

    #[test]
    fn secrets_cannot_be_compared_with_a_short_circuiting_eq() {
        assert!(Probe::<String>(PhantomData).has_eq(), "the probe works");
        assert!(!Probe::<Secret>(PhantomData).has_eq());
    }
}
