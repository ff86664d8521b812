//! GET /.well-known/jwks.json and /.well-known/openid-configuration.

use authgate_proto as proto;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// Longest JWKS cache lifetime we advertise: short enough that a forced
/// rotation reaches caches quickly; never longer than the publication lead,
/// so a `next` key is in every cache before it signs.
const MAX_JWKS_AGE_SECS: i64 = 300;

/// The public keys that verify current tokens (RFC 7517).
///
/// Every key a resource server may still meet (next, active, and retired but
/// not expired); empty `keys` when tokens are signed with a shared HMAC
/// secret. Cacheable (`Cache-Control: public, max-age=…`, `ETag`).
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    operation_id = "jwks",
    tag = "discovery",
    params(("If-None-Match" = Option<String>, Header, description = "An `ETag` from an earlier response.")),
    responses(
        (status = 200, description = "The JSON Web Key Set.", body = crate::openapi::schemas::Jwks,
            headers(
                ("Cache-Control" = String, description = "`public, max-age=…`, never longer than the key publication lead time."),
                ("ETag" = String, description = "Changes whenever the key set does."),
            )),
        (status = 304, description = "Not modified: the `If-None-Match` tag is current."),
    ),
)]
pub(crate) async fn jwks(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(&state.keys.ring().jwks()).map_err(|e| ApiError::internal(&e))?;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &body);
    let etag = format!("\"{}\"", hex(&digest.as_ref()[..16]));
    let max_age = state
        .keys
        .settings()
        .publish_lead
        .whole_seconds()
        .clamp(0, MAX_JWKS_AGE_SECS);
    let cache_control = format!("public, max-age={max_age}");
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == etag
        });
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    };
    let out = response.headers_mut();
    out.insert(header::CACHE_CONTROL, value(&cache_control)?);
    out.insert(header::ETAG, value(&etag)?);
    Ok(response)
}

/// The server metadata (RFC 8414): issuer, endpoints, algorithms, grants.
#[utoipa::path(
    get,
    path = "/.well-known/openid-configuration",
    tag = "discovery",
    responses(
        (status = 200, description = "The metadata document.", body = proto::OpenIdConfiguration),
    ),
)]
pub(crate) async fn openid_configuration(
    State(state): State<AppState>,
) -> Json<proto::OpenIdConfiguration> {
    let base = &state.public_url;
    let ring = state.keys.ring();
    let mut algorithms: Vec<String> = ring
        .verifying
        .iter()
        .map(|k| k.algorithm().to_string())
        .collect();
    algorithms.sort();
    algorithms.dedup();
    let mut grants = vec!["client_credentials".to_owned(), "refresh_token".to_owned()];
    let oidc = ring.id_signing.is_some().then(|| {
        grants.push("authorization_code".into());
        super::oidc::provider_metadata(base)
    });
    Json(proto::OpenIdConfiguration {
        issuer: state.auth.settings().issuer.clone(),
        jwks_uri: format!("{base}/.well-known/jwks.json"),
        token_endpoint: format!("{base}/oauth/token"),
        introspection_endpoint: format!("{base}/oauth/introspect"),
        revocation_endpoint: format!("{base}/oauth/revoke"),
        token_signing_alg_values_supported: algorithms,
        grant_types_supported: grants,
        oidc,
    })
}

fn value(text: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(text).map_err(|e| ApiError::internal(&e))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
