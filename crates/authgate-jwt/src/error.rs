//! The one error type of authgate-jwt: a variant per reason a token or key is refused.

/// Why a token was refused, or a key could not be loaded.
///
/// Verification errors carry no token content, so they are safe to log.
/// Servers log the variant and answer only `invalid_token`: telling a client
/// *why* its forged token failed helps nobody but the forger.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The token is longer than [`Validation::max_token_len`](crate::Validation::max_token_len);
    /// nothing was decoded.
    #[error("token is too large")]
    TooLarge,
    /// The token is not a well-formed compact JWS: wrong number of parts,
    /// non-canonical or padded base64url, invalid JSON, a registered claim of
    /// the wrong JSON type, and so on. The reason says which.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The header names an algorithm we do not implement, including `none`.
    #[error("unsupported algorithm")]
    UnsupportedAlgorithm,
    /// The header has a `crit` parameter; we understand no extensions, so RFC 7515 §4.1.11 says reject.
    #[error("token has critical header extensions")]
    CriticalHeader,
    /// The header's `alg` is not the algorithm of the key its `kid` selected.
    #[error("token algorithm does not match the key's")]
    AlgorithmMismatch,
    /// The key set needs a `kid` to choose a key and the token has none.
    #[error("token has no key id")]
    MissingKeyId,
    /// No key with the token's `kid` is known (never published, or expired).
    #[error("unknown key id")]
    UnknownKey,
    /// The signature does not verify with the selected key.
    #[error("invalid signature")]
    InvalidSignature,
    /// `exp` is in the past, beyond the leeway.
    #[error("token has expired")]
    Expired,
    /// `nbf` is in the future, beyond the leeway.
    #[error("token is not valid yet")]
    NotYetValid,
    /// `iat` is in the future, beyond the leeway.
    #[error("token was issued in the future")]
    IssuedInFuture,
    /// `iss` is not the expected issuer.
    #[error("wrong issuer")]
    InvalidIssuer,
    /// `aud` holds none of the expected audiences, or the token has an
    /// audience and the validation expects none (RFC 7519 §4.1.3).
    #[error("wrong audience")]
    InvalidAudience,
    /// The header `typ` is not the expected type (RFC 8725 §3.11).
    #[error("wrong token type")]
    InvalidType,
    /// A claim the validation requires is absent.
    #[error("missing required claim `{0}`")]
    MissingClaim(String),
    /// Key material could not be parsed or is not acceptable (too short, wrong curve, …).
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// The key cannot do what was asked (sign with a public key, publish a shared secret, …).
    #[error("key cannot be used this way: {0}")]
    KeyUsage(&'static str),
    /// The crypto library failed to sign or generate; not caused by input.
    #[error("cryptographic operation failed")]
    Crypto,
    /// The claims could not be serialised to JSON when signing.
    #[error("claims could not be serialised")]
    Serialize,
}

impl Error {
    /// A short stable label for metrics and logs (`"expired"`, `"bad_signature"`, …).
    pub const fn reason(&self) -> &'static str {
        match self {
            Self::TooLarge => "too_large",
            Self::Malformed(_) => "malformed",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::CriticalHeader => "critical_header",
            Self::AlgorithmMismatch => "algorithm_mismatch",
            Self::MissingKeyId => "missing_kid",
            Self::UnknownKey => "unknown_kid",
            Self::InvalidSignature => "bad_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::IssuedInFuture => "issued_in_future",
            Self::InvalidIssuer => "wrong_issuer",
            Self::InvalidAudience => "wrong_audience",
            Self::InvalidType => "wrong_type",
            Self::MissingClaim(_) => "missing_claim",
            Self::InvalidKey(_) => "invalid_key",
            Self::KeyUsage(_) => "key_usage",
            Self::Crypto => "crypto",
            Self::Serialize => "serialize",
        }
    }
}
