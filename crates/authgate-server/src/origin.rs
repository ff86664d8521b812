//! Where a request came from: the caller's address (trusting
//! `X-Forwarded-For` only from configured proxies) and the `User-Agent`.

use std::net::{IpAddr, SocketAddr};

use authgate_core::Origin;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{HeaderMap, header, request::Parts};

use crate::state::AppState;

/// Where the request came from (the caller's address as far as it can be
/// trusted, and its `User-Agent`), as the core records it in sessions and
/// audit records.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestOrigin(pub(crate) Origin);

impl FromRequestParts<AppState> for RequestOrigin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let ip = peer.map(|peer| client_ip(peer, &parts.headers, &state.trusted_proxies));
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok());
        Ok(Self(Origin::new(ip, user_agent)))
    }
}

/// The peer, unless it is a trusted proxy: then the nearest address in
/// `X-Forwarded-For` that is not itself a trusted proxy.
///
/// The header is read from the nearest hop outwards, and only as far as
/// trusted proxies wrote it: a hop that does not parse as an address (or
/// `address:port`) ends the walk at the last trusted address, because
/// whatever lies beyond it may have been written by the client. Skipping it
/// instead would let a client pick its own address (and its own rate-limit
/// bucket) whenever a proxy wrote its entry in a form we cannot read.
/// IPv4-mapped IPv6 addresses (what a dual-stack socket sees) count as the
/// IPv4 address they map.
pub(crate) fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|t| t.to_canonical() == ip);
    let peer = peer.to_canonical();
    if !is_trusted(peer) {
        return peer;
    }
    let values: Vec<Option<&str>> = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| v.to_str().ok())
        .collect();
    let mut nearest = peer;
    for value in values.into_iter().rev() {
        let Some(value) = value else {
            return nearest;
        };
        for hop in value.rsplit(',') {
            let Some(hop) = parse_hop(hop.trim()) else {
                return nearest;
            };
            if !is_trusted(hop) {
                return hop;
            }
            nearest = hop;
        }
    }
    nearest
}

/// One `X-Forwarded-For` entry: an address, or an address with a port
/// (`192.0.2.1:4711`, `[2001:db8::1]:4711`), as some proxies write it.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|addr| addr.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "1.2.3.4, 5.6.7.8".parse().unwrap());
        let stranger: IpAddr = "9.9.9.9".parse().unwrap();
        assert_eq!(client_ip(stranger, &headers, &[proxy]), stranger);
        assert_eq!(
            client_ip(proxy, &headers, &[proxy]),
            "5.6.7.8".parse::<IpAddr>().unwrap()
        );
        headers.insert("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(client_ip(proxy, &headers, &[proxy]), proxy);
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    #[test]
    fn a_hop_that_does_not_parse_ends_the_walk_instead_of_being_skipped() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        // The proxy's own entry is unreadable: what the client wrote before
        // it must not be taken for the client's address.
        for value in [
            "6.6.6.6, unknown",
            "6.6.6.6, 01.2.3.4",
            "6.6.6.6, ",
            "6.6.6.6,, 10.0.0.1",
        ] {
            assert_eq!(
                client_ip(proxy, &forwarded(value), &[proxy]),
                proxy,
                "{value}"
            );
        }
        // A hop with a port is an address all the same.
        assert_eq!(
            client_ip(proxy, &forwarded("6.6.6.6, 203.0.113.7:51234"), &[proxy]),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(proxy, &forwarded("[2001:db8::7]:443"), &[proxy]),
            "2001:db8::7".parse::<IpAddr>().unwrap()
        );
        // Several headers are one list, the last header nearest.
        let mut headers = forwarded("6.6.6.6");
        headers.append("x-forwarded-for", "203.0.113.9, 10.0.0.1".parse().unwrap());
        assert_eq!(
            client_ip(proxy, &headers, &[proxy]),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn ipv4_mapped_peers_and_hops_are_their_ipv4_addresses() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let mapped_proxy: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        let headers = forwarded("::ffff:203.0.113.7");
        assert_eq!(
            client_ip(mapped_proxy, &headers, &[proxy]),
            "203.0.113.7".parse::<IpAddr>().unwrap(),
            "a proxy reached over a dual-stack socket is still trusted"
        );
        let stranger: IpAddr = "::ffff:198.51.100.1".parse().unwrap();
        assert_eq!(
            client_ip(stranger, &headers, &[proxy]),
            "198.51.100.1".parse::<IpAddr>().unwrap()
        );
    }
}
