//! The router: every route of docs/http-api.md, `/metrics` and `/openapi.json`, with
//! the body limit and the fallbacks for unknown paths and methods.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};

use crate::error::ApiError;
use crate::extract::MAX_BODY_BYTES;
use crate::routes::{
    admin, admin_clients, auth, discovery, health, me, mfa, oauth, oidc, oidc_clients, recovery,
    sessions, verification,
};
use crate::state::AppState;

/// The router with every route and the 64 KiB body limit, without a socket
/// (tests can call it directly).
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(crate::pages::router())
        .route("/auth/register", post(auth::register))
        .route("/auth/login", post(auth::login))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/password/change", post(auth::change_password))
        .route("/auth/password/forgot", post(recovery::forgot))
        .route("/auth/password/reset", post(recovery::reset))
        .route("/auth/email/verify", post(verification::verify))
        .route("/auth/email/verify/resend", post(verification::resend))
        .route("/auth/email/change", post(verification::change))
        .route("/auth/login/mfa", post(mfa::login))
        .route("/auth/mfa", get(mfa::state))
        .route("/auth/mfa/totp", post(mfa::enrol))
        .route("/auth/mfa/totp/confirm", post(mfa::confirm))
        .route("/auth/mfa/totp/disable", post(mfa::disable))
        .route("/admin/users/{id}/mfa/reset", post(mfa::admin_reset))
        .route("/me", get(me::me))
        .route("/auth/sessions", get(sessions::list))
        .route("/auth/sessions/{id}", delete(sessions::revoke))
        .route("/admin/dashboard", get(admin::dashboard))
        .route("/admin/users", get(admin::list_users))
        .route("/admin/users/{id}", get(admin::get_user))
        .route("/admin/users/{id}/roles", put(admin::set_roles))
        .route("/admin/users/{id}/disable", post(admin::disable_user))
        .route("/admin/users/{id}/enable", post(admin::enable_user))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/keys", get(admin::keys))
        .route("/admin/keys/rotate", post(admin::rotate_keys))
        .route("/admin/clients", post(admin::create_client))
        .route("/admin/clients/{id}/disable", post(admin_clients::disable))
        .route("/admin/clients/{id}/enable", post(admin_clients::enable))
        .route(
            "/admin/oidc-clients",
            post(oidc_clients::create).get(oidc_clients::list),
        )
        .route("/admin/oidc-clients/{id}", delete(oidc_clients::delete))
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/introspect", post(oauth::introspect))
        .route("/oauth/revoke", post(oauth::revoke))
        .route(
            "/oauth/userinfo",
            get(oidc::userinfo).post(oidc::userinfo_post),
        )
        .route("/.well-known/jwks.json", get(discovery::jwks))
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(crate::metrics::scrape))
        .route("/openapi.json", crate::openapi::route())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .with_state(state)
}

/// The contract's 404 (docs/http-api.md), or the 404 page for a browser
/// asking for HTML.
async fn not_found(
    state: axum::extract::State<AppState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if crate::pages::wants_html(&headers) {
        return crate::pages::not_found_page(state);
    }
    ApiError::not_found().into_response()
}

async fn method_not_allowed() -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut response =
        ApiError::invalid_request("Method not allowed on this path.").into_response();
    *response.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    response
}
