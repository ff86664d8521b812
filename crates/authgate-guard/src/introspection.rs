//! [`Introspector`]: asks the authorization server whether a token is
//! active (RFC 7662, authgate's `POST /oauth/introspect`), with short caches
//! of its answers and a bound on the requests it sends.
//!
//! Two uses: as a guard's key source (the server decides every token; for
//! services that must not hold keys or must see revocations within seconds)
//! and as a [`RevocationCheck`](crate::RevocationCheck) after local
//! verification. Either way a request whose answer is not cached waits on
//! the network: that is the price of seeing a logout before the token
//! expires. Active answers are cached for at most `cache_ttl_secs` and never
//! past the token's `exp`; a revocation is therefore seen within that many
//! seconds.
//!
//! A token that only looks like one of ours (nothing checks a signature
//! before asking) still costs the server a request, so an attacker can
//! make us ask. Three things bound that: concurrent callers with one token
//! share one request (`flight`); at most `max_in_flight` requests are out
//! at once, and a caller that cannot get a slot in time is answered 503;
//! and inactive answers are remembered for `cache_ttl_secs`, at most 10 s,
//! in a cache of their own (so a flood cannot evict the active answers),
//! keyed by the token's SHA-256. Caching "inactive" is safe: a token never
//! becomes active again.

mod config;
mod flight;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use authgate_proto::IntrospectionResponse;
use base64::Engine as _;
use quick_cache::sync::Cache;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{StatusCode, Url};
use zeroize::Zeroizing;

pub use config::IntrospectionConfig;

use crate::GuardError;
use crate::http_client::{
    default_client, describe, ensure_not_redirected, parse_url, read_bounded,
};
use flight::{Flights, TokenDigest, token_digest};

/// An active answer as cached.
#[derive(Clone)]
struct Answer {
    /// The server's answer.
    response: Arc<IntrospectionResponse>,
    /// Reused while `now` is before this.
    until: i64,
}

/// An RFC 7662 introspection client with short caches of its answers, one
/// request per token at a time and a bound on the requests in flight; share
/// it (`Arc`) between a guard and a revocation check if both use it.
pub struct Introspector {
    /// The endpoint.
    endpoint: Url,
    /// The HTTP client.
    client: reqwest::Client,
    /// The `Authorization: Basic …` value (RFC 6749 §2.3.1: id and secret
    /// form-urlencoded, then base64); built once and marked sensitive, so
    /// HTTP/2 never puts it in a compression table and `Debug` hides it.
    /// Each request shares this one copy instead of making its own.
    basic: HeaderValue,
    /// See [`IntrospectionConfig::cache_ttl_secs`].
    ttl: i64,
    /// See [`IntrospectionConfig::timeout`].
    timeout: Duration,
    /// See [`IntrospectionConfig::max_body_bytes`].
    max_body: usize,
    /// Active answers by the full token; `None` when the TTL or capacity is 0.
    cache: Option<Cache<Box<str>, Answer>>,
    /// How long an inactive answer is reused: `cache_ttl_secs`, at most
    /// 10 s.
    negative_ttl: i64,
    /// Until when each inactive answer is reused, by token digest; `None`
    /// when its TTL or capacity is 0.
    negative: Option<Cache<TokenDigest, i64>>,
    /// The one inactive answer every negative cache hit hands out.
    inactive: Arc<IntrospectionResponse>,
    /// The requests under way and their slots.
    flights: Flights,
    /// Requests sent to the endpoint.
    requests: AtomicU64,
}

impl Introspector {
    /// An introspector with the default HTTP client (no proxy, no redirects,
    /// the configured timeout).
    ///
    /// # Errors
    /// [`GuardError::InvalidConfig`] for an endpoint that does not parse or
    /// is plain `http` to another host, an empty client id, a
    /// `cache_ttl_secs` outside 0..=86 400, or a `max_in_flight` outside
    /// 1..=10 000.
    pub fn new(config: IntrospectionConfig) -> Result<Self, GuardError> {
        let client = default_client(config.timeout)?;
        Self::with_client(config, client)
    }

    /// An introspector sending its requests through `client` (a proxy, extra
    /// root certificates, …).
    ///
    /// An answer that does not come from the endpoint itself is refused
    /// ([`GuardError::Unavailable`]), but `client` decides whether a
    /// redirect is followed at all: build it with
    /// `redirect(reqwest::redirect::Policy::none())`, or a server answering
    /// 307 has the token (not the secret, which reqwest drops when the host
    /// changes) posted on to wherever it points.
    ///
    /// # Errors
    /// As [`Introspector::new`].
    pub fn with_client(
        config: IntrospectionConfig,
        client: reqwest::Client,
    ) -> Result<Self, GuardError> {
        let endpoint = parse_url(&config.endpoint, config.insecure_allow_http)?;
        config.validate()?;
        let credentials = Zeroizing::new(format!(
            "{}:{}",
            form_urlencode(&config.client_id),
            form_urlencode(&config.client_secret)
        ));
        let basic = Zeroizing::new(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials.as_bytes())
        ));
        let mut basic = HeaderValue::from_str(&basic)
            .map_err(|_| GuardError::InvalidConfig("the client credentials cannot be sent"))?;
        basic.set_sensitive(true);
        let cache = (config.cache_ttl_secs > 0 && config.cache_capacity > 0)
            .then(|| Cache::new(config.cache_capacity));
        let negative_ttl = config.negative_ttl_secs();
        let negative = (negative_ttl > 0 && config.negative_cache_capacity > 0)
            .then(|| Cache::new(config.negative_cache_capacity));
        let wait = config.max_in_flight_wait.unwrap_or(config.timeout);
        Ok(Self {
            endpoint,
            client,
            basic,
            ttl: config.cache_ttl_secs,
            timeout: config.timeout,
            max_body: config.max_body_bytes,
            cache,
            negative_ttl,
            negative,
            inactive: Arc::new(IntrospectionResponse::inactive()),
            flights: Flights::new(config.max_in_flight, wait),
            requests: AtomicU64::new(0),
        })
    }

    /// The server's answer for `token` at `now` (Unix seconds): from a
    /// cache when an answer for it is still fresh, else by asking, or by
    /// waiting on the request already asking about it.
    ///
    /// # Errors
    /// [`GuardError::Unavailable`] when the endpoint cannot be reached,
    /// answers an error status (a refused client secret included: that is
    /// logged as an error, since only the operator can fix it) or an
    /// unreadable body, or when `max_in_flight` requests are already out
    /// and none ends within the wait.
    pub async fn introspect(
        &self,
        token: &str,
        now: i64,
    ) -> Result<Arc<IntrospectionResponse>, GuardError> {
        if let Some(cache) = &self.cache {
            match cache.get(token) {
                Some(answer) if now < answer.until => return Ok(answer.response),
                Some(_) => {
                    cache.remove(token);
                }
                None => {}
            }
        }
        let key = token_digest(token);
        if let Some(negative) = &self.negative {
            match negative.get(&key) {
                Some(until) if now < until => return Ok(self.inactive.clone()),
                Some(_) => {
                    negative.remove(&key);
                }
                None => {}
            }
        }
        self.flights
            .run(key, || self.ask_and_remember(token, key, now))
            .await
    }

    /// How many requests were sent to the endpoint (cache hits and callers
    /// that joined a request under way send none).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Asks, then caches the answer: an active one for `ttl` (never past
    /// `exp`) by the token, an inactive one for `negative_ttl` by its digest.
    async fn ask_and_remember(
        &self,
        token: &str,
        key: TokenDigest,
        now: i64,
    ) -> Result<Arc<IntrospectionResponse>, GuardError> {
        let response = Arc::new(self.ask(token).await?);
        if response.active {
            if let Some(cache) = &self.cache {
                let until = now.saturating_add(self.ttl);
                let until = response.exp.map_or(until, |exp| exp.min(until));
                let answer = Answer {
                    response: response.clone(),
                    until,
                };
                cache.insert(token.into(), answer);
            }
        } else if let Some(negative) = &self.negative {
            negative.insert(key, now.saturating_add(self.negative_ttl));
        }
        Ok(response)
    }

    /// The request asking about `token`.
    fn request(&self, token: &str) -> reqwest::RequestBuilder {
        self.client
            .post(self.endpoint.clone())
            .timeout(self.timeout)
            .header(AUTHORIZATION, self.basic.clone())
            .form(&[("token", token), ("token_type_hint", "access_token")])
    }

    /// One request to the endpoint.
    async fn ask(&self, token: &str) -> Result<IntrospectionResponse, GuardError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let response = self.request(token).send().await.map_err(|e| {
            tracing::warn!(error = %e, "introspection request failed");
            GuardError::Unavailable(describe(&e))
        })?;
        // An answer from wherever a redirect led is not the server's.
        ensure_not_redirected(&response, &self.endpoint).map_err(GuardError::Unavailable)?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED => {
                tracing::error!(
                    endpoint = %self.endpoint,
                    "the authorization server refused this service's client credentials"
                );
                return Err(GuardError::Unavailable(
                    "the introspection endpoint refused the client credentials",
                ));
            }
            status => {
                tracing::warn!(endpoint = %self.endpoint, %status, "introspection failed");
                return Err(GuardError::Unavailable(
                    "the introspection endpoint answered an error status",
                ));
            }
        }
        let body = read_bounded(response, self.max_body)
            .await
            .map_err(GuardError::Unavailable)?;
        parse_answer(&body)
    }
}

/// An RFC 7662 answer. `token_type` is case-insensitive (RFC 6749 §5.1):
/// another server's `"bearer"` reads as authgate's `"Bearer"`.
fn parse_answer(body: &[u8]) -> Result<IntrospectionResponse, GuardError> {
    let not_json = || GuardError::Unavailable("the introspection answer is not RFC 7662 JSON");
    let mut answer: serde_json::Value = serde_json::from_slice(body).map_err(|_| not_json())?;
    if let Some(token_type) = answer.get_mut("token_type")
        && token_type
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("bearer"))
    {
        *token_type = "Bearer".into();
    }
    serde_json::from_value(answer).map_err(|_| not_json())
}

impl fmt::Debug for Introspector {
    /// Endpoint and counters; never the credentials or a cached token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Introspector")
            .field("endpoint", &self.endpoint.as_str())
            .field("ttl", &self.ttl)
            .field("cached", &self.cache.as_ref().map_or(0, Cache::len))
            .field(
                "cached_inactive",
                &self.negative.as_ref().map_or(0, Cache::len),
            )
            .field("in_flight", &self.flights.pending_len())
            .field("requests", &self.requests())
            .finish_non_exhaustive()
    }
}

/// `application/x-www-form-urlencoded` of one value, as RFC 6749 §2.3.1
/// wants client ids and secrets encoded before they go into Basic auth.
fn form_urlencode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 15)]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_credentials_are_form_encoded_for_basic_auth() {
        assert_eq!(form_urlencode("svc-1.a_b*"), "svc-1.a_b*");
        assert_eq!(form_urlencode("a b:c/é"), "a+b%3Ac%2F%C3%A9");
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let config =
            IntrospectionConfig::new("https://auth.example/oauth/introspect", "svc", "s3cret");
        assert!(!format!("{config:?}").contains("s3cret"));
        let introspector = Introspector::new(config).unwrap();
        let debug = format!("{introspector:?}");
        assert!(
            !debug.contains("s3cret") && !debug.contains("Basic"),
            "{debug}"
        );
    }

    #[test]
    fn an_endpoint_over_plain_http_to_another_host_is_refused() {
        let config = IntrospectionConfig::new("http://auth.example/oauth/introspect", "svc", "s");
        assert!(matches!(
            Introspector::new(config),
            Err(GuardError::InvalidConfig(_))
        ));
    }

    #[test]
    fn the_client_secret_header_is_marked_sensitive() {
        let config =
            IntrospectionConfig::new("https://auth.example/oauth/introspect", "svc", "s3cret");
        let request = Introspector::new(config)
            .unwrap()
            .request("a-token")
            .build()
            .unwrap();
        assert!(request.headers()[AUTHORIZATION].is_sensitive());
    }

    #[test]
    fn the_token_type_is_read_in_any_case() {
        let answer = parse_answer(br#"{"active": true, "token_type": "bearer"}"#).unwrap();
        assert_eq!(
            answer.token_type,
            Some(authgate_proto::IntrospectionTokenType::Bearer)
        );
        assert!(parse_answer(b"{not json").is_err());
    }

    #[test]
    fn an_invalid_setting_is_refused_at_construction() {
        let mut config =
            IntrospectionConfig::new("https://auth.example/oauth/introspect", "svc", "s");
        config.max_in_flight = 0;
        assert!(matches!(
            Introspector::new(config),
            Err(GuardError::InvalidConfig(_))
        ));
    }
}
