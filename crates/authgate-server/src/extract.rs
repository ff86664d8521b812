//! Request extractors that parse at the edge: JSON bodies with docs/http-api.md's
//! errors (415, 413, 400 naming the field) and the authenticated caller.

use authgate_core::SessionCaller;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, header, request::Parts};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// The largest request body accepted (docs/http-api.md: 64 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The body of a request did not arrive in full within
/// `server.body_read_timeout` (the error of the body the transport layer
/// wraps around every request; answered 408 here).
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub(crate) struct BodyTimedOut;

/// A JSON body of type `T`.
///
/// A body with another or no `Content-Type` is 415; one over 64 KiB is 413;
/// malformed JSON, or JSON that does not fit `T`, is 400 naming the field.
/// Error descriptions never echo the values sent (they may be passwords).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(unsupported_media_type());
        }
        let bytes = read_body(req, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// An optional JSON body: an empty body (any or no content type) is `None`.
#[derive(Debug)]
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json = is_json(req.headers());
        let bytes = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(None));
        }
        if !json {
            return Err(unsupported_media_type());
        }
        parse_json(&bytes).map(|v| Self(Some(v)))
    }
}

/// The body of an OAuth endpoint: `application/x-www-form-urlencoded` as
/// RFC 6749 requires, or JSON. A parameter sent twice is 400 (RFC 6749 §3.2);
/// errors name the parameter, never its value.
#[derive(Debug)]
pub struct FormOrJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for FormOrJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        let json = is_json(req.headers());
        if !form && !json {
            return Err(ApiError::new(
                authgate_proto::ErrorCode::UnsupportedMediaType,
                "Content-Type must be application/x-www-form-urlencoded or application/json.",
            ));
        }
        let bytes = read_body(req, state).await?;
        if json {
            return parse_json(&bytes).map(FormOrJson);
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(&bytes));
        serde_path_to_error::deserialize(de)
            .map(FormOrJson)
            .map_err(|err| {
                describe_param_error(err.path().to_string(), &err.into_inner().to_string())
            })
    }
}

/// A 400 for a form or query parameter that does not fit, by name only.
fn describe_param_error(path: String, message: &str) -> ApiError {
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.split('`').next())
    {
        return ApiError::invalid_request(format!("{field}: this parameter is required."));
    }
    if let Some(field) = message
        .strip_prefix("duplicate field `")
        .and_then(|m| m.split('`').next())
    {
        return ApiError::invalid_request(format!("{field}: this parameter was sent twice."));
    }
    ApiError::invalid_request(format!("{path}: invalid value."))
}

fn unsupported_media_type() -> ApiError {
    ApiError::new(
        authgate_proto::ErrorCode::UnsupportedMediaType,
        "Content-Type must be application/json.",
    )
}

async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if timed_out(&rejection) {
            ApiError::invalid_request("The request body did not arrive in time.")
                .with_status(axum::http::StatusCode::REQUEST_TIMEOUT)
        } else if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                authgate_proto::ErrorCode::PayloadTooLarge,
                "The request body is larger than 64 KiB.",
            )
        } else {
            ApiError::invalid_request("The request body could not be read.")
        }
    })
}

/// Whether reading the body failed on `server.body_read_timeout`.
fn timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<BodyTimedOut>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// `application/json`, or any `application/*+json`, with any parameters.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses JSON into `T`, describing failures by field and kind only.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Every API body is an object; serde would read an array positionally into a struct.
    match bytes.trim_ascii_start().first() {
        Some(b'{') => {}
        Some(b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
            return Err(ApiError::invalid_request(
                "The request body must be a JSON object.",
            ));
        }
        _ => {
            return Err(ApiError::invalid_request(
                "The request body is not valid JSON.",
            ));
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    if result.is_ok() && de.end().is_err() {
        return Err(ApiError::invalid_request(
            "The request body is not valid JSON.",
        ));
    }
    result.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let description = match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "The request body is not valid JSON.".to_owned()
            }
            _ => {
                let message = inner.to_string();
                let named = |prefix: &str| {
                    message
                        .strip_prefix(prefix)
                        .and_then(|m| m.split('`').next())
                        .map(str::to_owned)
                };
                match (named("missing field `"), named("duplicate field `")) {
                    (Some(field), _) => format!("{field}: this field is required."),
                    (None, Some(field)) => format!("{field}: this field was sent twice."),
                    (None, None) if path == "." || path.is_empty() => {
                        "The request body must be a JSON object.".to_owned()
                    }
                    (None, None) => format!("{path}: invalid value or type."),
                }
            }
        };
        ApiError::invalid_request(description)
    })
}

/// A query string of type `T`; one that does not fit is 400 `invalid_request`
/// naming the parameter, never echoing its value.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(QueryParams)
            .map_err(|err| {
                describe_param_error(err.path().to_string(), &err.into_inner().to_string())
            })
    }
}

/// The `{id}` segment of a path, as text. A segment that is not valid
/// UTF-8 once percent-decoded names nothing here: 404 `not_found` in
/// docs/http-api.md's shape (axum's own rejection would be a plain-text 400).
#[derive(Debug)]
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(id)| PathId(id))
            .map_err(|_| ApiError::not_found())
    }
}

/// The caller of a Bearer endpoint: a verified access token whose session is not revoked.
#[derive(Debug, Clone)]
pub struct Authenticated(pub SessionCaller);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let verified = crate::authz::verify_bearer(parts, state).await?;
        let caller = state.auth.authenticate(verified.claims()).await;
        crate::authz::counted(caller).map(Authenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        all: Option<bool>,
    }

    fn describe(json: &str) -> String {
        format!("{:?}", parse_json::<Body>(json.as_bytes()).unwrap_err())
    }

    #[test]
    fn json_errors_name_the_field_and_never_echo_values() {
        assert!(describe("{").contains("not valid JSON"));
        assert!(describe("{}").contains("email: this field is required"));
        let wrong = describe(r#"{"email": "a@b.c", "all": "hunter2-secret"}"#);
        assert!(wrong.contains("all: invalid value"), "{wrong}");
        assert!(!wrong.contains("hunter2"), "{wrong}");
        assert!(describe("[1]").contains("JSON object"));
        assert!(describe(r#"{"email":"a@b.c"} trailing"#).contains("not valid JSON"));
        let twice = describe(r#"{"email": "a@b.c", "email": "hunter2@b.c"}"#);
        assert!(
            twice.contains("email: this field was sent twice"),
            "{twice}"
        );
        assert!(!twice.contains("hunter2"), "{twice}");
    }

    #[test]
    fn json_content_types_are_recognised_with_parameters() {
        let mut h = HeaderMap::new();
        for (ct, ok) in [
            ("application/json", true),
            ("Application/JSON; charset=utf-8", true),
            ("application/merge-patch+json", true),
            ("text/plain", false),
            ("application/x-www-form-urlencoded", false),
        ] {
            h.insert(header::CONTENT_TYPE, ct.parse().unwrap());
            assert_eq!(is_json(&h), ok, "{ct}");
        }
        h.remove(header::CONTENT_TYPE);
        assert!(!is_json(&h));
    }
}
