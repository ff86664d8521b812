//! What a verified token must also satisfy: time window, issuer, audience,
//! type, required claims and size. Strict by default (RFC 8725).

/// Default leeway for clock skew, in seconds.
pub const DEFAULT_LEEWAY: i64 = 60;

/// Default maximum token length in bytes, checked before any decoding.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;

/// The checks a token must pass after its signature verifies.
///
/// Build one per verifier and reuse it; it is read-only during verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`. Defaults to 60.
    pub leeway: i64,
    /// Claims that must be present. Defaults to `["exp"]`: a token that never
    /// expires is refused. Removing `exp` from this list is rarely wise.
    /// At most 64 names.
    pub required_claims: Vec<String>,
    /// Refuse tokens whose `nbf` is in the future. Defaults to `true`.
    pub validate_nbf: bool,
    /// Refuse tokens whose `iat` is in the future. Defaults to `true`.
    pub validate_iat: bool,
    /// When set, `iss` must be present and equal. Defaults to `None`.
    pub issuer: Option<String>,
    /// When non-empty, `aud` must be present and contain one of these.
    /// When empty, a token *with* an `aud` is refused (RFC 7519 §4.1.3: we
    /// cannot be its audience if we do not know who we are). Defaults to empty.
    pub audiences: Vec<String>,
    /// When set, the header `typ` must match (RFC 8725 §3.11 explicit typing),
    /// e.g. `at+jwt` for access tokens (RFC 9068). Defaults to `None`.
    pub typ: Option<String>,
    /// Longest token accepted, in bytes; longer ones are refused before any
    /// decoding. Defaults to 8192.
    pub max_token_len: usize,
    /// Skip the audience check entirely. Defaults to `false`; set only through
    /// [`Validation::insecure_ignore_audience`].
    pub(crate) ignore_audience: bool,
}

impl Default for Validation {
    fn default() -> Self {
        Self {
            leeway: DEFAULT_LEEWAY,
            required_claims: vec!["exp".to_owned()],
            validate_nbf: true,
            validate_iat: true,
            issuer: None,
            audiences: Vec::new(),
            typ: None,
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
            ignore_audience: false,
        }
    }
}

impl Validation {
    /// The strict defaults: `exp` required, `nbf`/`iat` checked, 60 s leeway, 8 KiB cap.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requires `iss` to equal `issuer`.
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Accepts tokens whose `aud` contains `audience` (call again to accept several).
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Requires the header `typ` to be `typ` (compared as RFC 7515 says).
    #[must_use]
    pub fn typ(mut self, typ: impl Into<String>) -> Self {
        self.typ = Some(typ.into());
        self
    }

    /// Sets the clock-skew leeway in seconds.
    #[must_use]
    pub fn leeway(mut self, seconds: i64) -> Self {
        self.leeway = seconds;
        self
    }

    /// Also requires `claim` to be present.
    #[must_use]
    pub fn require(mut self, claim: impl Into<String>) -> Self {
        let claim = claim.into();
        if !self.required_claims.contains(&claim) {
            self.required_claims.push(claim);
        }
        self
    }

    /// Turns the audience check off, so a token meant for another service is
    /// accepted here. Only for tools that inspect tokens; a service that does
    /// this can be handed tokens minted for any other service.
    #[must_use]
    pub fn insecure_ignore_audience(mut self) -> Self {
        self.ignore_audience = true;
        self
    }
}
