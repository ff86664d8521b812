//! How far the server's clock is from the local one, learnt from the `iat`
//! of each access token received, so `exp` is judged by the server's time.
//!
//! A token's `exp` is in the server's time. A local clock minutes behind
//! would keep using a token the server already refuses (every request a
//! 401 and a refresh); one minutes ahead would find every new token
//! nearly expired and refresh on each request. The offset is the token's
//! `iat` minus the local time at receipt: the server's time at issue, so it
//! is off by the request's latency at most (in the safe direction: the
//! token looks to expire a little earlier).

use std::sync::atomic::{AtomicI64, Ordering};

use serde::Deserialize;

/// The claim read from each access token.
#[derive(Deserialize)]
struct IssuedAt {
    /// When the server issued the token (its Unix seconds).
    iat: Option<i64>,
}

/// Seconds to add to the local clock to get the server's (0 until a token
/// with `iat` was received).
#[derive(Debug, Default)]
pub(crate) struct ServerOffset(AtomicI64);

impl ServerOffset {
    /// Learns the offset from `access_token`, received at local time
    /// `local_now`; a token without a readable `iat` changes nothing.
    pub(crate) fn learn(&self, access_token: &str, local_now: i64) {
        let Ok(token) = authgate_jwt::decode_unverified::<IssuedAt>(access_token) else {
            return;
        };
        if let Some(iat) = token.claims.iat {
            self.0
                .store(iat.saturating_sub(local_now), Ordering::Relaxed);
        }
    }

    /// The server's time now, from the local `local_now`.
    pub(crate) fn server_time(&self, local_now: i64) -> i64 {
        local_now.saturating_add(self.0.load(Ordering::Relaxed))
    }
}
