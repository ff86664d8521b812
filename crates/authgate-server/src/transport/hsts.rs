//! `Strict-Transport-Security`: browsers told to reach the server over
//! https only. Sent on every answer over authgate's own TLS, and on
//! answers to a trusted proxy (`server.trusted_proxies`) that says, with
//! `X-Forwarded-Proto: https`, that it received the request over TLS.
//! Browsers ignore the header on plain http (RFC 6797 §8.1), so sending it
//! is only ever useful where it is sent here.

use std::net::IpAddr;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue};

/// When and with which value HSTS is sent.
#[derive(Debug, Clone)]
pub(crate) struct Hsts {
    /// `max-age=<n>`; `None` when `server.tls.hsts_max_age` is 0.
    value: Option<HeaderValue>,
    /// Whether authgate itself terminates TLS (then every answer gets it).
    direct_tls: bool,
    /// The proxies whose `X-Forwarded-Proto` is believed.
    trusted_proxies: Arc<[IpAddr]>,
}

impl Hsts {
    /// The policy of `max_age` seconds (0: none), for a server terminating
    /// TLS itself or not, behind `trusted_proxies`.
    pub(crate) fn new(max_age: u64, direct_tls: bool, trusted_proxies: &[IpAddr]) -> Self {
        Self {
            value: (max_age > 0).then(|| {
                HeaderValue::from_str(&format!("max-age={max_age}"))
                    .unwrap_or(HeaderValue::from_static("max-age=31536000"))
            }),
            direct_tls,
            trusted_proxies: trusted_proxies.iter().map(|ip| ip.to_canonical()).collect(),
        }
    }

    /// The header for an answer on authgate's own TLS, whatever the request.
    pub(crate) fn on_tls(&self) -> Option<&HeaderValue> {
        self.value.as_ref().filter(|_| self.direct_tls)
    }

    /// The header for the answer to a request from `peer` with `headers`:
    /// over authgate's TLS, or from a trusted proxy whose nearest
    /// `X-Forwarded-Proto` entry is `https`.
    pub(crate) fn for_request(&self, peer: IpAddr, headers: &HeaderMap) -> Option<&HeaderValue> {
        let value = self.value.as_ref()?;
        if self.direct_tls {
            return Some(value);
        }
        if !self.trusted_proxies.contains(&peer.to_canonical()) {
            return None;
        }
        let nearest = headers
            .get_all("x-forwarded-proto")
            .iter()
            .next_back()?
            .to_str()
            .ok()?
            .rsplit(',')
            .next()?
            .trim();
        nearest.eq_ignore_ascii_case("https").then_some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(proto: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-proto", HeaderValue::from_str(proto).unwrap());
        headers
    }

    #[test]
    fn over_authgates_own_tls_every_answer_gets_the_configured_max_age() {
        let hsts = Hsts::new(600, true, &[]);
        let client: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(
            hsts.for_request(client, &HeaderMap::new()).unwrap(),
            "max-age=600"
        );
        assert_eq!(hsts.on_tls().unwrap(), "max-age=600");
        assert!(Hsts::new(0, true, &[]).on_tls().is_none(), "0 disables it");
    }

    #[test]
    fn behind_a_proxy_only_a_trusted_proxys_https_counts() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let hsts = Hsts::new(31_536_000, false, &[proxy]);
        assert!(hsts.on_tls().is_none());
        assert_eq!(
            hsts.for_request(proxy, &forwarded("https")).unwrap(),
            "max-age=31536000"
        );
        assert_eq!(
            hsts.for_request("::ffff:10.0.0.2".parse().unwrap(), &forwarded("HTTPS")),
            Some(&HeaderValue::from_static("max-age=31536000")),
            "a dual-stack socket's view of the proxy"
        );
        assert!(hsts.for_request(proxy, &forwarded("http")).is_none());
        assert!(
            hsts.for_request(proxy, &forwarded("https, http")).is_none(),
            "the nearest proxy's entry decides"
        );
        assert!(hsts.for_request(proxy, &HeaderMap::new()).is_none());
        let client: IpAddr = "192.0.2.7".parse().unwrap();
        assert!(
            hsts.for_request(client, &forwarded("https")).is_none(),
            "a client cannot claim https for itself"
        );
    }
}
