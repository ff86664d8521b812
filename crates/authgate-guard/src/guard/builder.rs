//! [`GuardBuilder`]: one key source, and the optional parts of a [`Guard`].

use std::sync::Arc;

use authgate_jwt::{JwkSet, KeySet, VerifyingKey};

use super::{AbortOnDrop, Guard, Inner, Source, introspected::Expectations};
use crate::http_client::{default_client, parse_url};
use crate::jwks::{JwksSettings, JwksSource, spawn_refresher};
use crate::{
    Clock, GuardError, IntrospectionConfig, Introspector, Permissions, RevocationCheck,
    SystemClock, Verifier, VerifierConfig,
};

/// The key source chosen.
#[derive(Debug)]
enum KeySource {
    /// A JWKS document at this URL.
    JwksUrl(String),
    /// A JWKS document given once.
    Jwks(JwkSet),
    /// Keys given once.
    Keys(KeySet),
    /// A single key given once.
    Key(VerifyingKey),
    /// Introspection.
    Introspection(IntrospectionConfig),
}

/// Builds a [`Guard`]: [`Guard::builder`], exactly one key source, the
/// optional parts, then [`GuardBuilder::build`].
///
/// ```no_run
/// # async fn demo() -> Result<(), authgate_guard::GuardError> {
/// use authgate_guard::{Guard, Permissions, VerifierConfig};
///
/// let guard = Guard::builder(VerifierConfig::new("https://auth.example", "api"))
///     .jwks_url("https://auth.example/.well-known/jwks.json")
///     .permissions(Permissions::new([("support", ["users:read"])]))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct GuardBuilder {
    /// Issuer, audiences, leeway, cache size.
    config: VerifierConfig,
    /// The key sources given; exactly one is allowed.
    sources: Vec<KeySource>,
    /// How a JWKS URL is kept fresh.
    jwks_settings: JwksSettings,
    /// The time; the system clock unless set.
    clock: Arc<dyn Clock>,
    /// Role → permissions; empty unless set.
    permissions: Permissions,
    /// The revocation check, if any.
    revocation: Option<Arc<dyn RevocationCheck>>,
    /// The HTTP client for the JWKS URL or introspection, if not the default.
    client: Option<reqwest::Client>,
    /// Accept plain http to a non-loopback JWKS URL.
    insecure_allow_http: bool,
}

impl GuardBuilder {
    pub(super) fn new(config: VerifierConfig) -> Self {
        Self {
            config,
            sources: Vec::new(),
            jwks_settings: JwksSettings::default(),
            clock: Arc::new(SystemClock),
            permissions: Permissions::default(),
            revocation: None,
            client: None,
            insecure_allow_http: false,
        }
    }

    /// Key source: the JWKS document at `url` (authgate's
    /// `…/.well-known/jwks.json`), fetched by the guard.
    ///
    /// The first fetch starts when the guard is built, in the background; a
    /// guard built while the server is down retries (1 s, 2 s, 4 s, … up to
    /// 30 s) and serves as soon as a fetch succeeds. Then the keys are
    /// refreshed a quarter before `Cache-Control`'s `max-age` runs out
    /// (within 30 s to 1 h), with `If-None-Match`; a failed refresh keeps the
    /// keys held, for at most 24 h after the last success: past that every
    /// token is refused with 503 until a fetch succeeds
    /// ([`GuardBuilder::max_jwks_staleness`]). A token naming a key id we do
    /// not hold triggers at most one refetch per 30 s and waits for it. See
    /// [`JwksSettings`].
    ///
    /// The URL must be `https`, or `http` to a loopback host (see
    /// [`GuardBuilder::insecure_allow_http`]).
    #[must_use]
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.sources.push(KeySource::JwksUrl(url.into()));
        self
    }

    /// Key source: a JWKS document given once (read from a file, say). Keys
    /// that are not signature keys or lack a `kid` are skipped, as are
    /// shared secrets, which never belong in a JWKS.
    #[must_use]
    pub fn jwks(mut self, jwks: JwkSet) -> Self {
        self.sources.push(KeySource::Jwks(jwks));
        self
    }

    /// Key source: these keys (each with a `kid`), for services that hold
    /// them already; replace them later through [`Guard::verifier`].
    #[must_use]
    pub fn keys(mut self, keys: KeySet) -> Self {
        self.sources.push(KeySource::Keys(keys));
        self
    }

    /// Key source: this one key, which must have a `kid` (authgate's tokens
    /// always name their key). An HMAC key fits here, for a single service
    /// sharing authgate's secret.
    #[must_use]
    pub fn key(mut self, key: VerifyingKey) -> Self {
        self.sources.push(KeySource::Key(key));
        self
    }

    /// Key source: no keys at all; every token is introspected (RFC 7662),
    /// with short caches of its answers, and the answer is checked for
    /// issuer, audience, token type and time like a token verified locally.
    ///
    /// Before asking, the token is read (not verified) and refused at once
    /// when its issuer, audience or expiry already rule it out, so garbage
    /// does not reach the server. A forged token that passes costs a
    /// request, bounded as [`Introspector`](crate::Introspector) describes:
    /// one request per token at a time, at most
    /// [`max_in_flight`](IntrospectionConfig::max_in_flight) in all, and
    /// inactive answers remembered for up to 10 s. For a service that must see revocations
    /// within seconds but would rather verify locally, keep a JWKS source and
    /// add [`IntrospectionRevocation`](crate::IntrospectionRevocation) instead.
    #[must_use]
    pub fn introspection(mut self, config: IntrospectionConfig) -> Self {
        self.sources.push(KeySource::Introspection(config));
        self
    }

    /// How a JWKS URL is kept fresh; defaults to [`JwksSettings::default`].
    #[must_use]
    pub fn jwks_settings(mut self, settings: JwksSettings) -> Self {
        self.jwks_settings = settings;
        self
    }

    /// How long the keys of a JWKS URL are trusted after the last successful
    /// fetch while fetches fail; past it the guard fails closed (503,
    /// [`GuardError::StaleKeys`]). Defaults to 24 h; whole seconds, at least
    /// `JwksSettings::max_refresh_secs`. Sets
    /// [`JwksSettings::max_staleness_secs`]: call it after
    /// [`GuardBuilder::jwks_settings`].
    #[must_use]
    pub fn max_jwks_staleness(mut self, max: std::time::Duration) -> Self {
        self.jwks_settings.max_staleness_secs = i64::try_from(max.as_secs()).unwrap_or(i64::MAX);
        self
    }

    /// Where the guard reads the time; defaults to [`SystemClock`].
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The role → permission map for [`Guard::require_permission`] and
    /// [`RequirePermission`](crate::RequirePermission): the same `[roles]`
    /// table authgate is configured with. Defaults to empty, where only
    /// `admin` holds any permission.
    #[must_use]
    pub fn permissions(mut self, permissions: Permissions) -> Self {
        self.permissions = permissions;
        self
    }

    /// A check run after every successful verification, for services that
    /// must see revocations before the token expires. None by default.
    #[must_use]
    pub fn revocation(mut self, check: Arc<dyn RevocationCheck>) -> Self {
        self.revocation = Some(check);
        self
    }

    /// The HTTP client for the JWKS URL or introspection endpoint. By
    /// default one with no proxy, no redirects and the configured timeout.
    ///
    /// Whatever the client, a response that does not come from the
    /// configured URL itself (a redirect followed) is refused like a failed
    /// fetch, so keys never load from where a redirect points. Give it
    /// `redirect(reqwest::redirect::Policy::none())` all the same: a client
    /// following a 307 has already posted the token to be introspected on
    /// to the new location before the guard sees the answer.
    #[must_use]
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Accepts a plain `http` JWKS URL on a non-loopback host. Anyone on the
    /// network path can then substitute their own keys and mint tokens this
    /// service accepts. Off by default.
    #[must_use]
    pub fn insecure_allow_http(mut self) -> Self {
        self.insecure_allow_http = true;
        self
    }

    /// The guard. With a JWKS URL and background refresh (the default) it
    /// must be called inside a Tokio runtime, where the refresh task runs.
    ///
    /// # Errors
    /// [`GuardError::InvalidConfig`] for no key source or more than one, an
    /// unusable [`VerifierConfig`] or [`JwksSettings`], a URL that does not
    /// parse or is plain `http` to another host, a key without a `kid`, a
    /// malformed key in a given JWKS, or background refresh outside a runtime.
    pub fn build(mut self) -> Result<Guard, GuardError> {
        let source = match (self.sources.pop(), self.sources.is_empty()) {
            (Some(source), true) => source,
            (None, _) => {
                return Err(GuardError::InvalidConfig(
                    "no key source: call jwks_url, jwks, keys, key or introspection",
                ));
            }
            (Some(_), false) => {
                return Err(GuardError::InvalidConfig(
                    "more than one key source; choose one",
                ));
            }
        };
        let (source, refresher) = match source {
            KeySource::JwksUrl(url) => self.jwks_source(&url)?,
            KeySource::Jwks(jwks) => {
                let keys = KeySet::from_jwks(&jwks)
                    .map_err(|_| GuardError::InvalidConfig("the JWKS holds a malformed key"))?;
                (self.local(keys)?, None)
            }
            KeySource::Keys(keys) => (self.local(keys)?, None),
            KeySource::Key(key) => {
                let mut keys = KeySet::new();
                keys.insert(key)
                    .map_err(|_| GuardError::InvalidConfig("the key has no kid"))?;
                (self.local(keys)?, None)
            }
            KeySource::Introspection(config) => {
                self.config.check().map_err(GuardError::InvalidConfig)?;
                let introspector = match self.client.take() {
                    Some(client) => Introspector::with_client(config, client)?,
                    None => Introspector::new(config)?,
                };
                let source = Source::Introspection {
                    introspector: Arc::new(introspector),
                    expect: Expectations::new(&self.config),
                };
                (source, None)
            }
        };
        Ok(Guard {
            inner: Arc::new(Inner {
                source,
                clock: self.clock,
                permissions: self.permissions,
                revocation: self.revocation,
                _refresher: refresher,
            }),
        })
    }

    /// A local source over fixed keys.
    fn local(&self, keys: KeySet) -> Result<Source, GuardError> {
        Ok(Source::Local {
            verifier: Arc::new(Verifier::new(self.config.clone(), keys)?),
            jwks: None,
        })
    }

    /// A local source fed from `url`, and its refresh task.
    fn jwks_source(&mut self, url: &str) -> Result<(Source, Option<AbortOnDrop>), GuardError> {
        self.jwks_settings
            .check()
            .map_err(GuardError::InvalidConfig)?;
        let url = parse_url(url, self.insecure_allow_http)?;
        let client = match self.client.take() {
            Some(client) => client,
            None => default_client(self.jwks_settings.timeout)?,
        };
        let verifier = Arc::new(Verifier::new(self.config.clone(), KeySet::new())?);
        let jwks = Arc::new(JwksSource::new(
            url,
            client,
            verifier.clone(),
            self.clock.clone(),
            self.jwks_settings.clone(),
        ));
        let refresher = if self.jwks_settings.background_refresh {
            let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
                GuardError::InvalidConfig(
                    "background JWKS refresh needs a Tokio runtime: build the guard inside one",
                )
            })?;
            Some(AbortOnDrop(spawn_refresher(&jwks, &runtime)))
        } else {
            None
        };
        Ok((
            Source::Local {
                verifier,
                jwks: Some(jwks),
            },
            refresher,
        ))
    }
}
