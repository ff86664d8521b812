//! The OAuth 2.0 endpoints for services: `/oauth/token` (RFC 6749:
//! client credentials and refresh), `/oauth/introspect` (RFC 7662) and
//! `/oauth/revoke` (RFC 7009).
//!
//! Any registered service client may introspect any token: clients are
//! created by administrators for trusted services (gateways, APIs), and
//! RFC 7662 leaves this policy to the server. Revocation is narrower
//! (RFC 7009 §2.1): a client revokes the tokens issued to it, or any token
//! only if its roles grant `users:write`; a user revokes only their own
//! tokens, with their access token as Bearer.

use authgate_core::{Caller, Reach, ServiceClient};
use authgate_guard::parse_bearer;
use authgate_proto::{self as proto, IntrospectionResponse};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::reply::{no_store, seconds};
use crate::authz::{Permission, UsersWrite};
use crate::error::ApiError;
use crate::extract::FormOrJson;
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// Longest `Authorization: Basic` value decoded.
const MAX_BASIC_LEN: usize = 1024;

/// The OAuth 2.0 token endpoint (RFC 6749): `client_credentials` and `refresh_token`.
///
/// `client_credentials` needs client authentication, by HTTP Basic
/// (`client_id:client_secret`) or the `client_id`/`client_secret` fields; it
/// issues an access token whose `sub` is the client id. `refresh_token`
/// behaves as `POST /auth/refresh` and needs no client authentication (if
/// credentials are sent they must be right); with a relying party's
/// credentials it refreshes that client's session (OpenID Connect
/// `offline_access`). `authorization_code` is the OpenID Connect code
/// exchange. Responses carry `Cache-Control: no-store`.
#[utoipa::path(
    post,
    path = "/oauth/token",
    operation_id = "oauth_token",
    tag = "oauth",
    request_body(content(
        (proto::TokenRequest = "application/x-www-form-urlencoded"),
        (proto::TokenRequest = "application/json"),
    )),
    responses(
        (status = 200, description = "The access token (and, for `refresh_token`, the rotated refresh token).", body = proto::OAuthTokenResponse),
        (status = 400, description = "`invalid_request` (a missing or invalid parameter, a parameter sent twice, both Basic and form credentials, an unknown `audience`), `invalid_grant` (a refresh token or code that is unknown, expired, revoked, reused or another client's), `invalid_scope` or `unsupported_grant_type` (RFC 6749 §5.2).", body = proto::ErrorBody),
        (status = 401, description = "`invalid_client`: client authentication failed (`client_credentials`, a relying party's grants, or wrong credentials sent with `refresh_token`).", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Basic realm=\"authgate\"`."))),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = proto::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is neither `application/x-www-form-urlencoded` nor `application/json`.", body = proto::ErrorBody),
        crate::openapi::responses::Unavailable,
    ),
    security((), ("client_basic" = [])),
)]
pub(crate) async fn token(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    FormOrJson(body): FormOrJson<proto::TokenRequest>,
) -> Result<Response, ApiError> {
    grant(&state, &origin, &headers, body)
        .await
        .map_err(ApiError::at_token_endpoint)
}

/// The token endpoint's work, by `grant_type`; its errors get their
/// RFC 6749 §5.2 status from [`token`].
async fn grant(
    state: &AppState,
    origin: &authgate_core::Origin,
    headers: &HeaderMap,
    body: proto::TokenRequest,
) -> Result<Response, ApiError> {
    let presented = client_credentials(
        headers,
        body.client_id.as_deref(),
        body.client_secret.as_deref(),
    )?;
    match body.grant_type {
        proto::GrantType::ClientCredentials => {
            let Some((id, secret)) = presented else {
                return Err(ApiError::invalid_client());
            };
            let client = state.auth.authenticate_client(&id, &secret).await?;
            let scope =
                super::scope::granted(&state.permissions, &client.roles, body.scope.as_deref())?;
            let issued = state
                .auth
                .client_token(&client, body.audience.as_deref(), scope)?;
            tracing::info!(client_id = %client.id, "client token issued");
            Ok(token_response(issued.access_token, issued.expires_in, None))
        }
        proto::GrantType::RefreshToken => {
            // A relying party's refresh token is refreshed only by that
            // client, authenticated as one (docs/http-api.md).
            if let Some((id, _)) = &presented
                && state.auth.is_oidc_client(id).await?
            {
                return super::oidc::refresh_grant(state, presented, &body, origin).await;
            }
            // Tokens from /auth/login belong to no client, so none is
            // needed; credentials that are sent must be right all the same.
            if let Some((id, secret)) = presented {
                state.auth.authenticate_client(&id, &secret).await?;
            }
            let Some(refresh_token) = body.refresh_token.filter(|t| !t.is_empty()) else {
                return Err(ApiError::invalid_request(
                    "refresh_token: this parameter is required.",
                ));
            };
            let tokens = state.auth.refresh(&refresh_token, origin).await?;
            let refresh = (tokens.refresh_token.to_string(), tokens.refresh_expires_in);
            Ok(token_response(
                tokens.access_token,
                tokens.expires_in,
                Some(refresh),
            ))
        }
        proto::GrantType::AuthorizationCode => {
            super::oidc::code_grant(state, presented, &body, origin).await
        }
        _ => Err(ApiError::new(
            proto::ErrorCode::UnsupportedGrantType,
            "grant_type: supported grants are client_credentials, refresh_token and authorization_code.",
        )),
    }
}

/// The RFC 6749 §5.1 answer of either grant, sent `no-store`; `refresh`
/// is the rotated refresh token and its lifetime, for `refresh_token`.
fn token_response(
    access_token: String,
    expires_in: i64,
    refresh: Option<(String, i64)>,
) -> Response {
    let (refresh_token, refresh_expires_in) = refresh.unzip();
    let body = proto::OAuthTokenResponse {
        access_token,
        token_type: proto::TokenType::Bearer,
        expires_in: seconds(expires_in),
        refresh_token,
        refresh_expires_in: refresh_expires_in.map(seconds),
        scope: None,
        id_token: None,
    };
    no_store(Json(body).into_response())
}

/// Token introspection (RFC 7662): is an access or refresh token active, and what does it carry?
///
/// Client authentication is required, by HTTP Basic or the
/// `client_id`/`client_secret` fields. A bad token is never an error: the
/// answer is `{"active": false}`.
#[utoipa::path(
    post,
    path = "/oauth/introspect",
    operation_id = "introspect_token",
    tag = "oauth",
    request_body(content(
        (proto::IntrospectRequest = "application/x-www-form-urlencoded"),
        (proto::IntrospectRequest = "application/json"),
    )),
    responses(
        (status = 200, description = "The token's facts when active, else exactly `{\"active\": false}`.", body = proto::IntrospectionResponse),
        (status = 400, description = "`invalid_request`: no `token`, a parameter sent twice, or both Basic and form credentials.", body = proto::ErrorBody),
        (status = 401, description = "`invalid_client`: client authentication failed or none was sent.", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Basic realm=\"authgate\"`."))),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = proto::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is neither `application/x-www-form-urlencoded` nor `application/json`.", body = proto::ErrorBody),
        crate::openapi::responses::Unavailable,
    ),
    security(("client_basic" = []), ()),
)]
pub(crate) async fn introspect(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    FormOrJson(body): FormOrJson<proto::IntrospectRequest>,
) -> Result<Response, ApiError> {
    let client = authenticated_client(
        &state,
        &headers,
        body.client_id.as_deref(),
        body.client_secret.as_deref(),
    )
    .await?;
    let Some(token) = body.token.as_deref() else {
        return Err(ApiError::invalid_request(
            "token: this parameter is required.",
        ));
    };
    let answer = introspection(&state, token).await;
    state
        .auth
        .record_introspection(&client.id, answer.sub.as_deref(), answer.active, &origin)
        .await;
    Ok(no_store(Json(answer).into_response()))
}

/// What RFC 7662 answers for `token`: its facts when active, else only
/// `{"active": false}`. A JWT must pass this server's verifier first.
async fn introspection(state: &AppState, token: &str) -> IntrospectionResponse {
    if !looks_like_jwt(token) {
        return state.auth.introspect_refresh_token(token).await;
    }
    match state.verify_token(token).await {
        Ok(verified) => {
            let now = state.clock.unix();
            state
                .auth
                .introspect_access_token(verified.claims(), now)
                .await
        }
        Err(_) => IntrospectionResponse::inactive(),
    }
}

/// Token revocation (RFC 7009) of an access or refresh token.
///
/// The caller is a service client (HTTP Basic or the `client_id`/`client_secret`
/// fields), which may revoke the tokens issued to it (RFC 7009 §2.1) and,
/// if its roles grant `users:write` (which may disable users and so end
/// their sessions anyway), any token; or a user presenting their own access
/// token as Bearer, who may revoke only their own tokens (a client's access
/// token as Bearer is `invalid_client`). Always 200 for a well-formed
/// request, whether or not the token was valid or the caller's to revoke.
#[utoipa::path(
    post,
    path = "/oauth/revoke",
    operation_id = "revoke_token",
    tag = "oauth",
    request_body(content(
        (proto::RevokeRequest = "application/x-www-form-urlencoded"),
        (proto::RevokeRequest = "application/json"),
    )),
    responses(
        (status = 200, description = "Done (or nothing to do): an empty JSON object.", body = Object),
        (status = 400, description = "`invalid_request`: no `token`, a parameter sent twice, or both Basic and form credentials.", body = proto::ErrorBody),
        (status = 401, description = "`invalid_client`: client authentication failed: neither client credentials nor a valid Bearer token were sent, or they are wrong.", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Basic realm=\"authgate\"`."))),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = proto::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is neither `application/x-www-form-urlencoded` nor `application/json`.", body = proto::ErrorBody),
        crate::openapi::responses::Unavailable,
    ),
    security(("client_basic" = []), ("bearer" = []), ()),
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    FormOrJson(body): FormOrJson<proto::RevokeRequest>,
) -> Result<Response, ApiError> {
    let (actor, reach) = revoker(&state, &headers, &body).await?;
    if body.token.is_empty() {
        return Err(ApiError::invalid_request(
            "token: this parameter is required.",
        ));
    }
    if looks_like_jwt(&body.token) {
        // A token that does not verify is dead already: nothing to do (RFC 7009 §2.2).
        if let Ok(verified) = state.verify_token(&body.token).await {
            state
                .auth
                .revoke_access_within(verified.claims(), &reach, &actor, &origin)
                .await?;
        }
    } else {
        state
            .auth
            .revoke_refresh_within(&body.token, &reach, &actor, &origin)
            .await?;
    }
    Ok(done())
}

/// Who asks for a revocation (the id recorded as actor) and how far it
/// reaches: a service client by its credentials, or the user whose token
/// is the Bearer. A client's own access token is not accepted as a Bearer
/// here: it travels to every API the client calls, and any of them could
/// replay it to revoke other people's sessions.
///
/// # Errors
/// 401 `invalid_client` as for [`authenticated_client`], and for a Bearer
/// token that does not verify or is not a user's.
async fn revoker(
    state: &AppState,
    headers: &HeaderMap,
    body: &proto::RevokeRequest,
) -> Result<(String, Reach), ApiError> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let bearer = authorization.is_some_and(|v| {
        !matches!(
            parse_bearer(v),
            Err(authgate_guard::GuardError::UnsupportedScheme)
        )
    });
    if bearer {
        let caller = match state.authenticate_bearer(authorization).await {
            Ok(verified) => state.auth.authenticate_caller(verified.claims()).await?,
            Err(_) => None,
        };
        return match caller {
            Some(Caller::User { session, .. }) => {
                Ok((session.user_id.to_string(), Reach::User(session.user_id)))
            }
            Some(Caller::ServiceClient { .. }) | None => Err(ApiError::invalid_client()),
        };
    }
    let client = authenticated_client(
        state,
        headers,
        body.client_id.as_deref(),
        body.client_secret.as_deref(),
    )
    .await?;
    let reach = Reach::of_service_client(&client, &state.permissions, UsersWrite::NAME);
    Ok((client.id, reach))
}

/// RFC 7009's answer whether or not anything was revoked: 200, `{}`.
fn done() -> Response {
    Json(serde_json::json!({})).into_response()
}

/// The client authenticated by HTTP Basic or by form fields.
///
/// # Errors
/// 401 `invalid_client` when no credentials were sent or they are wrong;
/// 400 when both methods were used at once (RFC 6749 §2.3).
async fn authenticated_client(
    state: &AppState,
    headers: &HeaderMap,
    form_id: Option<&str>,
    form_secret: Option<&str>,
) -> Result<ServiceClient, ApiError> {
    let Some((id, secret)) = client_credentials(headers, form_id, form_secret)? else {
        return Err(ApiError::invalid_client());
    };
    Ok(state.auth.authenticate_client(&id, &secret).await?)
}

/// The client id and secret sent by HTTP Basic (RFC 6749 §2.3.1: each
/// form-urlencoded, then base64) or as form fields; `None` when neither.
fn client_credentials(
    headers: &HeaderMap,
    form_id: Option<&str>,
    form_secret: Option<&str>,
) -> Result<Option<(String, Zeroizing<String>)>, ApiError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() > 6 && v[..6].eq_ignore_ascii_case("basic "));
    match (basic, form_id) {
        (Some(_), Some(_)) => Err(ApiError::invalid_request(
            "client_id: authenticate with HTTP Basic or with form fields, not both.",
        )),
        (Some(value), None) => decode_basic(&value[6..])
            .map(Some)
            .ok_or_else(ApiError::invalid_client),
        (None, Some(id)) => Ok(Some((
            id.to_owned(),
            Zeroizing::new(form_secret.unwrap_or_default().to_owned()),
        ))),
        (None, None) => Ok(None),
    }
}

/// `base64(urlencode(id) ":" urlencode(secret))`, decoded.
fn decode_basic(encoded: &str) -> Option<(String, Zeroizing<String>)> {
    let encoded = encoded.trim();
    if encoded.len() > MAX_BASIC_LEN {
        return None;
    }
    let raw = Zeroizing::new(STANDARD.decode(encoded).ok()?);
    let text = std::str::from_utf8(&raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    let id = form_urlencoded::parse(format!("a={id}").as_bytes())
        .next()?
        .1
        .into_owned();
    let secret = Zeroizing::new(
        form_urlencoded::parse(format!("a={secret}").as_bytes())
            .next()?
            .1
            .into_owned(),
    );
    Some((id, secret))
}

/// Three base64url parts: a JWS; anything else is treated as opaque.
fn looks_like_jwt(token: &str) -> bool {
    token.bytes().filter(|b| *b == b'.').count() == 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_base64_of_urlencoded_parts() {
        let encoded = STANDARD.encode("svc_1:s%3Acret+x");
        let (id, secret) = decode_basic(&encoded).unwrap();
        assert_eq!(id, "svc_1");
        assert_eq!(secret.as_str(), "s:cret x");
        assert!(decode_basic("not base64!").is_none());
        assert!(decode_basic(&STANDARD.encode("no-colon")).is_none());
    }
}
