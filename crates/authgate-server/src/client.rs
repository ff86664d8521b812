//! Who is calling: the client address (trusting `X-Forwarded-For` only from
//! configured proxies) and the `User-Agent`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{HeaderMap, header, request::Parts};

use crate::state::AppState;

/// The client's address and user agent, for sessions and (later) rate limits.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientInfo {
    /// The client address as far as it can be trusted.
    pub ip: Option<IpAddr>,
    /// The `User-Agent` header, if it was valid text, cut to
    /// [`MAX_USER_AGENT`] characters: it reaches sessions and audit records.
    pub user_agent: Option<String>,
}

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Ok(Self {
            ip: peer.map(|peer| client_ip(peer, &parts.headers, &state.trusted_proxies)),
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|ua| ua.chars().take(MAX_USER_AGENT).collect()),
        })
    }
}

impl ClientInfo {
    /// Where the request came from, as the core records it.
    pub(crate) fn origin(&self) -> authgate_core::Origin {
        authgate_core::Origin {
            ip: self.ip,
            user_agent: self.user_agent.clone(),
        }
    }
}

/// Longest `User-Agent` kept in sessions and audit records.
const MAX_USER_AGENT: usize = 256;

/// The peer, unless it is a trusted proxy: then the nearest address in
/// `X-Forwarded-For` that is not itself a trusted proxy.
pub(crate) fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    forwarded
        .into_iter()
        .rev()
        .find(|hop| !trusted.contains(hop))
        .unwrap_or(peer)
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
}
