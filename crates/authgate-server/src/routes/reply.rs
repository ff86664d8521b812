//! What several routes' replies share: the headers that keep tokens out of
//! caches, and lifetimes in seconds for the wire.

use axum::http::{HeaderValue, header};

/// RFC 6749 §5.1: responses carrying tokens must not be cached.
pub(crate) fn no_store(mut response: axum::response::Response) -> axum::response::Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// A lifetime in seconds for the wire; never negative.
pub(crate) fn seconds(s: i64) -> u64 {
    u64::try_from(s).unwrap_or(0)
}
