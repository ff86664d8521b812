//! Assertions on responses against docs/http-api.md: the one error shape, the
//! RFC 6750 challenges, the no-store headers of token responses.

use std::collections::BTreeSet;

use reqwest::header::{self, HeaderMap};
use reqwest::{Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// `WWW-Authenticate` of a 401 `invalid_token` (RFC 6750 §3, with the realm the server names).
pub const INVALID_TOKEN_CHALLENGE: &str = r#"Bearer realm="authgate", error="invalid_token""#;

/// `WWW-Authenticate` when no Bearer credentials were sent (RFC 6750 §3.1): no error attribute.
pub const BARE_CHALLENGE: &str = r#"Bearer realm="authgate""#;

/// An error response that had docs/http-api.md's shape.
#[derive(Debug, Clone)]
pub struct ErrorResponse {
    /// The response headers.
    pub headers: HeaderMap,
    /// The `error_description` member.
    pub description: String,
    /// The body exactly as sent, to compare responses byte for byte.
    pub raw: Vec<u8>,
}

/// Checks that `response` is an error of docs/http-api.md: `status`, a JSON body with
/// exactly the members `error` (equal to `code`) and `error_description`
/// (non-empty text), and returns it.
pub async fn assert_error(response: Response, status: StatusCode, code: &str) -> ErrorResponse {
    let url = response.url().clone();
    let actual = response.status();
    let headers = response.headers().clone();
    let raw = response.bytes().await.expect("the error body").to_vec();
    let text = String::from_utf8_lossy(&raw);
    assert_eq!(actual, status, "status of {url}; body: {text}");
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "content type of the error from {url}: {content_type:?}"
    );
    let body: Value = serde_json::from_slice(&raw)
        .unwrap_or_else(|e| panic!("the error body of {url} is JSON ({e}): {text}"));
    let object = body
        .as_object()
        .unwrap_or_else(|| panic!("the error body of {url} is an object: {text}"));
    let keys: BTreeSet<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from(["error", "error_description"]),
        "members of the error body of {url}: {text}"
    );
    assert_eq!(object["error"], code, "error code of {url}: {text}");
    let description = object["error_description"]
        .as_str()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| panic!("error_description of {url} is non-empty text: {text}"))
        .to_owned();
    ErrorResponse {
        headers,
        description,
        raw,
    }
}

/// Checks for 401 `invalid_token` with `WWW-Authenticate: Bearer realm="authgate", error="invalid_token"`.
pub async fn assert_invalid_token(response: Response) -> ErrorResponse {
    let error = assert_error(response, StatusCode::UNAUTHORIZED, "invalid_token").await;
    assert_eq!(
        error
            .headers
            .get(header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok()),
        Some(INVALID_TOKEN_CHALLENGE),
        "WWW-Authenticate of an invalid_token response"
    );
    error
}

/// Checks the headers every token response carries (RFC 6749 §5.1):
/// `Cache-Control: no-store` and `Pragma: no-cache`.
pub fn assert_no_store(headers: &HeaderMap) {
    let value = |name: header::HeaderName| {
        headers
            .get(&name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        value(header::CACHE_CONTROL).as_deref(),
        Some("no-store"),
        "Cache-Control of a token response"
    );
    assert_eq!(
        value(header::PRAGMA).as_deref(),
        Some("no-cache"),
        "Pragma of a token response"
    );
}

/// Checks for `status` and parses the JSON body, showing the body when either fails.
pub async fn expect_json<T: DeserializeOwned>(response: Response, status: StatusCode) -> T {
    let url = response.url().clone();
    let actual = response.status();
    let raw = response.bytes().await.expect("the response body");
    let text = String::from_utf8_lossy(&raw);
    assert_eq!(actual, status, "status of {url}; body: {text}");
    serde_json::from_slice(&raw)
        .unwrap_or_else(|e| panic!("the body of {url} parses ({e}): {text}"))
}
