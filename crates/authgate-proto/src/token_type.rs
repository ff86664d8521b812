//! The `token_type` of token responses.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

/// The `token_type` of a token response; authgate issues only `"Bearer"`
/// tokens (RFC 6750).
///
/// Written as `"Bearer"`; read case-insensitively, as RFC 6749 §5.1 says
/// the value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TokenType {
    /// A bearer token: whoever holds it may use it.
    #[default]
    Bearer,
}

impl TokenType {
    /// The value as written on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Bearer => "Bearer",
        }
    }
}

impl Serialize for TokenType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TokenType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        if value.eq_ignore_ascii_case("bearer") {
            Ok(Self::Bearer)
        } else {
            Err(de::Error::invalid_value(
                de::Unexpected::Str(&value),
                &"\"Bearer\"",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bearer_is_written_with_a_capital_b() {
        assert_eq!(
            serde_json::to_value(TokenType::Bearer).unwrap(),
            json!("Bearer")
        );
    }

    #[test]
    fn bearer_is_read_in_any_case() {
        for text in ["Bearer", "bearer", "BEARER"] {
            let token_type: TokenType = serde_json::from_value(json!(text)).unwrap();
            assert_eq!(token_type, TokenType::Bearer);
        }
    }

    #[test]
    fn a_token_type_other_than_bearer_is_rejected() {
        assert!(serde_json::from_value::<TokenType>(json!("mac")).is_err());
    }
}
