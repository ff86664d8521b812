//! `GET /openapi.json`: the OpenAPI 3.1 description of every route,
//! generated from the code.
//!
//! Each handler carries its `#[utoipa::path(...)]` (method, path, body,
//! parameters, every status of docs/http-api.md with its schema and error codes,
//! security); the wire types of authgate-proto derive their schemas under its
//! `openapi` feature. [`ApiDoc`] gathers them with the security schemes and
//! tags. The document is rendered to JSON once, when the router is built, and
//! the route serves those bytes: it depends only on the code, never on
//! configuration, so there is nothing to recompute per request, and keeping it
//! in the route rather than a global static follows our "no global statics"
//! habit at no cost.
//!
//! What the handlers' descriptions share lives beside it: [`responses`]
//! (the response rows many operations repeat) and [`schemas`] (the JSON
//! described without a wire type of its own).

pub(crate) mod responses;
pub(crate) mod schemas;

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, RefOr, Required};
use utoipa::{Modify, OpenApi};

use crate::error::ApiError;
use crate::routes::{admin, auth, discovery, health, me, oauth, oidc, oidc_clients, sessions};
use crate::state::AppState;

/// The OpenAPI document of authgate's HTTP API (`docs/http-api.md`).
///
/// `ApiDoc::openapi()` builds it; `GET /openapi.json` serves it.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "authgate",
        version = env!("CARGO_PKG_VERSION"),
        description = "JWT authentication server: users, sessions, rotating refresh tokens, \
            administration, OAuth 2.0 client credentials, introspection and revocation, and \
            the published signing keys.\n\n\
            Bodies are JSON, except the OAuth endpoints, which take \
            `application/x-www-form-urlencoded` (RFC 6749) or JSON. Every error response is \
            `ErrorBody` (`{\"error\", \"error_description\"}`, RFC 6749 §5.2); any operation \
            may also answer 500 `internal` (a bug; the description never leaks internals), \
            405 for a method the path does not serve and 404 `not_found` for an unknown path.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        auth::register,
        auth::login,
        auth::refresh,
        auth::logout,
        auth::change_password,
        crate::routes::recovery::forgot,
        crate::routes::recovery::reset,
        crate::routes::verification::verify,
        crate::routes::verification::resend,
        crate::routes::verification::change,
        crate::routes::mfa::login,
        crate::routes::mfa::state,
        crate::routes::mfa::enrol,
        crate::routes::mfa::confirm,
        crate::routes::mfa::disable,
        crate::routes::mfa::admin_reset,
        me::me,
        sessions::list,
        sessions::revoke,
        admin::dashboard,
        admin::list_users,
        admin::get_user,
        admin::set_roles,
        admin::disable_user,
        admin::enable_user,
        admin::audit,
        admin::keys,
        admin::rotate_keys,
        admin::create_client,
        crate::routes::admin_clients::disable,
        crate::routes::admin_clients::enable,
        oidc_clients::create,
        oidc_clients::list,
        oidc_clients::delete,
        oauth::token,
        oauth::introspect,
        oauth::revoke,
        oidc::userinfo,
        oidc::userinfo_post,
        discovery::jwks,
        discovery::openid_configuration,
        health::healthz,
        health::readyz,
        crate::metrics::scrape,
        openapi_json,
    ),
    // POST /auth/login's other 200 body (one content type holds one schema).
    components(schemas(authgate_proto::MfaRequiredResponse)),
    modifiers(&SecuritySchemes, &OptionalBodies),
    tags(
        (name = "auth", description = "Register, log in, refresh and log out."),
        (name = "sessions", description = "The caller and their own sessions (Bearer)."),
        (name = "admin", description = "Administration: each operation needs the permission \
            its security requirement names (the `admin` role holds them all); others get 403 \
            `insufficient_scope`."),
        (name = "oauth", description = "OAuth 2.0 endpoints for services (RFC 6749, 7662, 7009); \
            clients authenticate with HTTP Basic or `client_id`/`client_secret` form fields."),
        (name = "oidc", description = "OpenID Connect for relying parties: userinfo (the \
            authorization endpoint is a page, the code grant is part of `/oauth/token`)."),
        (name = "discovery", description = "Signing keys (JWKS) and server metadata."),
        (name = "operations", description = "Probes and this document."),
    ),
)]
pub struct ApiDoc;

/// Adds the security schemes the operations name: `bearer` (an access
/// token, a JWT) and `client_basic` (a service client's id and secret).
#[derive(Debug)]
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from /auth/login, /auth/refresh or /oauth/token \
                         (`Authorization: Bearer <JWT>`). On admin operations the requirement \
                         lists the permission needed (OpenAPI 3.1 role names).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "A service client's `client_id:client_secret`, each form-urlencoded \
                         (RFC 6749 §2.3.1). The `client_id`/`client_secret` body fields are \
                         the alternative.",
                    ))
                    .build(),
            ),
        );
    }
}

/// An optional request body (`Option<T>` in `request_body`, e.g. logout's)
/// may be left out, but is never JSON `null`: utoipa writes it as
/// `oneOf: [null, T]`, so keep only `T`. The body's `required: false` says
/// it may be absent.
#[derive(Debug)]
struct OptionalBodies;

impl Modify for OptionalBodies {
    fn modify(&self, openapi: &mut Document) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let Some(body) = operation.request_body.as_mut() else {
                    continue;
                };
                if body.required == Some(Required::True) {
                    continue;
                }
                for content in body.content.values_mut() {
                    if let Some(RefOr::T(Schema::OneOf(one_of))) = content.schema.as_mut() {
                        one_of.items.retain(|schema| !is_null(schema));
                        if let [only] = one_of.items.as_slice() {
                            content.schema = Some(only.clone());
                        }
                    }
                }
            }
        }
    }
}

/// Whether `schema` is exactly `{"type": "null"}`.
fn is_null(schema: &RefOr<Schema>) -> bool {
    matches!(schema, RefOr::T(Schema::Object(object))
        if object.schema_type == SchemaType::Type(Type::Null))
}

/// The document rendered to JSON, shared by every request of one router.
#[derive(Debug, Clone)]
struct Rendered(Result<Bytes, Arc<serde_json::Error>>);

impl Rendered {
    /// Renders [`ApiDoc`] to JSON.
    fn new() -> Self {
        Self(
            serde_json::to_vec(&ApiDoc::openapi())
                .map(Bytes::from)
                .map_err(Arc::new),
        )
    }
}

/// `GET /openapi.json`, with the document rendered now, once.
pub(crate) fn route() -> MethodRouter<AppState> {
    let rendered = Rendered::new();
    get(move || openapi_json(rendered.clone()))
}

/// This document: the OpenAPI 3.1 description of every route.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document.", body = Object,
            content_type = "application/json"),
    ),
)]
async fn openapi_json(rendered: Rendered) -> Response {
    match rendered.0 {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(err) => ApiError::internal(&err).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_optional_body_is_described_as_absent_never_null() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let body = &doc["paths"]["/auth/logout"]["post"]["requestBody"];
        assert_ne!(body["required"], true);
        assert_eq!(
            body["content"]["application/json"]["schema"],
            serde_json::json!({"$ref": "#/components/schemas/LogoutRequest"})
        );
    }

    #[test]
    fn the_rendered_document_is_openapi_3_1_with_the_crate_version() {
        let bytes = Rendered::new().0.unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    }
}
