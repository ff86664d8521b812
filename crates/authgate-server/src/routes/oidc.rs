//! The OpenID Connect endpoints that answer relying parties, not people:
//! the `authorization_code` grant of `POST /oauth/token`, its
//! `refresh_token` grant for relying parties, and
//! `GET|POST /oauth/userinfo` (docs/http-api.md "OpenID Connect"). The
//! authorization endpoint and the consent page are pages (`pages/authorize.rs`).

use authgate_core::oidc::OidcTokens;
use authgate_core::oidc::client::OidcClient;
use authgate_core::{AuthError, Origin};
use authgate_proto as proto;
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use zeroize::Zeroizing;

use super::reply::{no_store, seconds};
use crate::error::ApiError;
use crate::state::AppState;

/// `grant_type=authorization_code`: authenticates the relying party
/// (`client_secret_basic` or `client_secret_post` for a confidential one,
/// `client_id` alone for a public one), then exchanges the code.
pub(crate) async fn code_grant(
    state: &AppState,
    presented: Option<(String, Zeroizing<String>)>,
    body: &proto::TokenRequest,
    origin: &Origin,
) -> Result<Response, ApiError> {
    let client = relying_party(state, presented).await?;
    let Some(code) = body.code.as_deref().filter(|c| !c.is_empty()) else {
        return Err(ApiError::invalid_request(
            "code: this parameter is required.",
        ));
    };
    let tokens = state
        .auth
        .exchange_code(
            &client,
            code,
            body.redirect_uri.as_deref(),
            body.code_verifier.as_deref(),
            origin,
        )
        .await
        .map_err(|e| match e {
            AuthError::InvalidGrant => ApiError::new(
                proto::ErrorCode::InvalidGrant,
                "The code is invalid, expired or was already used, or was issued to another \
                 client or redirect_uri, or the code_verifier does not match.",
            ),
            other => other.into(),
        })?;
    tracing::info!(client_id = %client.id, "authorization code exchanged");
    Ok(token_response(tokens))
}

/// `grant_type=refresh_token` for a relying party (RFC 6749 §6, OIDC Core
/// §12): the client authenticated as for the code, then the refresh token
/// of a session its code exchange created, rotated; `scope` may narrow
/// the grant for the new access token.
pub(crate) async fn refresh_grant(
    state: &AppState,
    presented: Option<(String, Zeroizing<String>)>,
    body: &proto::TokenRequest,
    origin: &Origin,
) -> Result<Response, ApiError> {
    let client = relying_party(state, presented).await?;
    let Some(refresh_token) = body.refresh_token.as_deref().filter(|t| !t.is_empty()) else {
        return Err(ApiError::invalid_request(
            "refresh_token: this parameter is required.",
        ));
    };
    let tokens = state
        .auth
        .refresh_for_client(&client, refresh_token, body.scope.as_deref(), origin)
        .await?;
    tracing::info!(client_id = %client.id, "relying party token refreshed");
    Ok(token_response(tokens))
}

/// The relying party authenticated by its credentials: `client_secret_basic`
/// or `client_secret_post` for a confidential one, `client_id` alone for a
/// public one.
async fn relying_party(
    state: &AppState,
    presented: Option<(String, Zeroizing<String>)>,
) -> Result<OidcClient, ApiError> {
    let Some((id, secret)) = presented else {
        return Err(ApiError::invalid_client());
    };
    let secret = Some(secret.as_str()).filter(|s| !s.is_empty());
    Ok(state.auth.authenticate_oidc_client(&id, secret).await?)
}

/// RFC 6749 §5.1 (with OIDC Core §3.1.3.3's `id_token`), sent `no-store`.
fn token_response(tokens: OidcTokens) -> Response {
    let body = proto::OAuthTokenResponse {
        access_token: tokens.access_token,
        token_type: proto::TokenType::Bearer,
        expires_in: seconds(tokens.expires_in),
        refresh_token: tokens.refresh_token.map(|t| t.to_string()),
        refresh_expires_in: tokens.refresh_expires_in.map(seconds),
        scope: Some(tokens.scope),
        id_token: tokens.id_token,
    };
    no_store(Json(body).into_response())
}

/// A relying party's access token, verified (signature, issuer, audience,
/// time); whether it is still good is the service's to say.
#[derive(Debug)]
pub(crate) struct RelyingPartyToken(pub(crate) proto::AccessClaims);

impl FromRequestParts<AppState> for RelyingPartyToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let verified = crate::authz::verify_bearer(parts, state).await?;
        Ok(Self(verified.claims().clone()))
    }
}

/// The signed-in user's claims, by the token's scopes (OIDC Core §5.3).
///
/// Needs a relying party's access token with the `openid` scope, as a
/// Bearer token.
#[utoipa::path(
    get,
    path = "/oauth/userinfo",
    operation_id = "userinfo",
    tag = "oidc",
    responses(
        (status = 200, description = "`sub`, and by scope `name`, `preferred_username` (profile), `email`, `email_verified` (email).", body = proto::UserInfo),
        (status = 401, description = "`invalid_token`: not a relying party's access token with `openid`, or revoked, expired, its session ended or its user disabled.", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"authgate\"`, with `error=\"invalid_token\"` when a token was sent."))),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = ["openid"])),
)]
pub(crate) async fn userinfo(
    State(state): State<AppState>,
    RelyingPartyToken(claims): RelyingPartyToken,
) -> Result<Response, ApiError> {
    match state.auth.userinfo(&claims).await {
        Ok(Some(info)) => Ok(no_store(Json(info).into_response())),
        Ok(None) => Err(ApiError::invalid_token()),
        Err(AuthError::NotFound) => Err(ApiError::invalid_token()),
        Err(e) => Err(e.into()),
    }
}

/// `POST /oauth/userinfo`: as `GET` (OIDC Core §5.3.1 allows both).
#[utoipa::path(
    post,
    path = "/oauth/userinfo",
    operation_id = "userinfo_post",
    tag = "oidc",
    responses(
        (status = 200, description = "As `GET /oauth/userinfo`.", body = proto::UserInfo),
        (status = 401, description = "`invalid_token`: as `GET /oauth/userinfo`.", body = proto::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"authgate\"`, with `error=\"invalid_token\"` when a token was sent."))),
        crate::openapi::responses::Unavailable,
    ),
    security(("bearer" = ["openid"])),
)]
pub(crate) async fn userinfo_post(
    state: State<AppState>,
    token: RelyingPartyToken,
) -> Result<Response, ApiError> {
    userinfo(state, token).await
}

/// The OpenID Connect part of the discovery document, for a server at `base`.
pub(crate) fn provider_metadata(base: &str) -> proto::OidcProviderMetadata {
    let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    proto::OidcProviderMetadata {
        authorization_endpoint: format!("{base}/oauth/authorize"),
        userinfo_endpoint: format!("{base}/oauth/userinfo"),
        end_session_endpoint: format!("{base}/oauth/logout"),
        scopes_supported: strings(&authgate_core::oidc::client::SUPPORTED_SCOPES),
        response_types_supported: strings(&["code"]),
        response_modes_supported: strings(&["query"]),
        subject_types_supported: strings(&["public"]),
        id_token_signing_alg_values_supported: strings(&["RS256"]),
        code_challenge_methods_supported: strings(&["S256"]),
        token_endpoint_auth_methods_supported: strings(&[
            "client_secret_basic",
            "client_secret_post",
            "none",
        ]),
        claims_supported: strings(&[
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "azp",
            "at_hash",
            "sid",
            "name",
            "preferred_username",
            "email",
            "email_verified",
        ]),
        authorization_response_iss_parameter_supported: true,
    }
}
