//! A [`GuardError`] as an HTTP response in docs/http-api.md's shape, for any
//! framework on the `http` crate (and axum's `IntoResponse`).

use http::header::{CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use http::{HeaderMap, StatusCode};

use crate::{GuardError, MAX_AUTHORIZATION_LEN};

/// Body used if the error body could not be serialised (it always can).
const FALLBACK_BODY: &str = r#"{"error":"internal","error_description":"internal error"}"#;

impl GuardError {
    /// The complete response: status, `Content-Type: application/json`,
    /// the RFC 6750 `WWW-Authenticate` challenge when there is one, and
    /// `{"error", "error_description"}`. The cause is logged (at debug for
    /// a client's bad token, warn and error for our own troubles), never sent.
    pub fn to_response<B: From<String>>(&self) -> http::Response<B> {
        match self {
            Self::Unavailable(_) | Self::StaleKeys => {
                tracing::warn!(reason = self.reason(), error = %self, "request refused: authorization server unavailable")
            }
            Self::InvalidConfig(_) => tracing::error!(error = %self, "guard misconfigured"),
            _ => tracing::debug!(reason = self.reason(), "request refused"),
        }
        let body =
            serde_json::to_string(&self.error_body()).unwrap_or_else(|_| FALLBACK_BODY.to_owned());
        let mut response = http::Response::new(B::from(body));
        *response.status_mut() =
            StatusCode::from_u16(self.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(challenge) = self.www_authenticate() {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}

impl axum::response::IntoResponse for GuardError {
    fn into_response(self) -> axum::response::Response {
        self.to_response()
    }
}

/// The one `Authorization` header of a request, as text; `None` when absent.
///
/// # Errors
/// [`GuardError::HeaderTooLarge`] over 8 KiB (checked first);
/// [`GuardError::MalformedHeader`] for several `Authorization` headers (which
/// one counts would depend on who reads them) or one that is not visible ASCII.
pub fn authorization_header(headers: &HeaderMap) -> Result<Option<&str>, GuardError> {
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if value.len() > MAX_AUTHORIZATION_LEN {
        return Err(GuardError::HeaderTooLarge);
    }
    if values.next().is_some() {
        return Err(GuardError::MalformedHeader);
    }
    value
        .to_str()
        .map(Some)
        .map_err(|_| GuardError::MalformedHeader)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_token_answers_401_with_challenge_and_body() {
        let response: http::Response<String> =
            GuardError::InvalidToken(authgate_jwt::Error::Expired).to_response();
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers()[WWW_AUTHENTICATE],
            r#"Bearer realm="authgate", error="invalid_token""#
        );
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        let body: serde_json::Value = serde_json::from_str(response.body()).unwrap();
        assert_eq!(body["error"], "invalid_token");
    }

    #[test]
    fn missing_credentials_answer_a_bare_challenge() {
        let response: http::Response<String> = GuardError::MissingCredentials.to_response();
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers()[WWW_AUTHENTICATE],
            r#"Bearer realm="authgate""#
        );
    }

    #[test]
    fn unavailable_answers_503_without_challenge() {
        let response: http::Response<String> = GuardError::Unavailable("down").to_response();
        assert_eq!(response.status(), 503);
        assert!(response.headers().get(WWW_AUTHENTICATE).is_none());
    }

    #[test]
    fn two_authorization_headers_are_malformed() {
        let mut headers = HeaderMap::new();
        headers.append(
            http::header::AUTHORIZATION,
            HeaderValue::from_static("Bearer a"),
        );
        headers.append(
            http::header::AUTHORIZATION,
            HeaderValue::from_static("Bearer b"),
        );
        assert_eq!(
            authorization_header(&headers),
            Err(GuardError::MalformedHeader)
        );
    }

    #[test]
    fn a_non_ascii_header_is_malformed_and_a_huge_one_too_large() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_bytes(b"Bearer \xe9").unwrap(),
        );
        assert_eq!(
            authorization_header(&headers),
            Err(GuardError::MalformedHeader)
        );
        let huge = format!("Bearer {}", "a".repeat(MAX_AUTHORIZATION_LEN));
        headers.insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_str(&huge).unwrap(),
        );
        assert_eq!(
            authorization_header(&headers),
            Err(GuardError::HeaderTooLarge)
        );
        headers.clear();
        assert_eq!(authorization_header(&headers), Ok(None));
    }
}
