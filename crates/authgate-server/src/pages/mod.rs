//! The web face: hosted login, registration and account pages, rendered
//! on the server from templates compiled into the binary (askama: checked
//! at compile time, HTML-escaped by default), with the stylesheet and
//! script embedded under content-hashed names. Every page works without
//! JavaScript. docs/http-api.md ("Hosted pages") describes the routes, cookies and checks.
//!
//! A browser session is a server session like an API login's (listed by
//! `GET /auth/sessions`, ended by revocation, logout everywhere or a
//! disable on its next request); its cookie holds only a random secret from
//! which the session id is derived (see `authgate_core::BrowserSession`).

mod account;
mod admin;
mod asset_route;
mod assets;
mod authorize;
mod claims;
mod consent;
mod cookies;
mod csrf;
mod email_change;
mod end_session;
mod form;
mod guard;
mod login;
mod login_mfa;
mod mfa;
mod password;
mod recovery;
mod register;
mod security;
mod settings;
mod verification;
mod view;
mod visitor;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use settings::{WebSettings, WebSettingsError, WebState};

use crate::state::AppState;

/// The pages' routes, each response with the page security headers.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login::show).post(login::submit))
        .route("/login/mfa", post(login_mfa::submit))
        .route("/account/mfa", get(mfa::show))
        .route("/account/mfa/totp", post(mfa::enrol))
        .route("/account/mfa/totp/confirm", post(mfa::confirm))
        .route("/account/mfa/disable", post(mfa::disable))
        .route("/logout", post(login::logout))
        .route("/register", get(register::show).post(register::submit))
        .route(
            "/password/forgot",
            get(recovery::show_forgot).post(recovery::submit_forgot),
        )
        .route(
            "/password/reset",
            get(recovery::show_reset).post(recovery::submit_reset),
        )
        .route(
            "/email/verify",
            get(verification::show_verify).post(verification::submit_verify),
        )
        .route(
            "/email/verify/resend",
            get(verification::show_resend).post(verification::submit_resend),
        )
        .route("/account", get(account::show))
        .route("/account/sessions/{id}/revoke", post(account::revoke))
        .route(
            "/account/password",
            get(password::show).post(password::change),
        )
        .route(
            "/account/email",
            get(email_change::show).post(email_change::change),
        )
        .route(
            "/account/logout-everywhere",
            post(account::logout_everywhere),
        )
        .route("/assets/{name}", get(asset_route::serve))
        .merge(admin::router())
        .route("/oauth/authorize", get(authorize::start))
        .route("/oauth/authorize/consent", post(consent::submit))
        .route("/oauth/logout", get(end_session::start))
        .layer(axum::middleware::from_fn(security::headers))
}

/// `GET /`: the account page (or, logged out, the login page).
async fn home() -> Response {
    guard::see_other("/account")
}

/// Whether `path` is served by the pages (whose errors are HTML pages,
/// their bodies read by the pages' own form extractor under the same limit).
pub(crate) fn is_page_path(path: &str) -> bool {
    matches!(
        path,
        "/" | "/login"
            | "/logout"
            | "/register"
            | "/account"
            | "/password/forgot"
            | "/password/reset"
    ) || path.starts_with("/account/")
        || path.starts_with("/assets/")
        || admin::is_console_path(path)
        || path.starts_with("/oauth/authorize")
        || path == "/oauth/logout"
}

/// Whether a request prefers an HTML answer (a browser navigating), so an
/// unknown path gets the 404 page instead of docs/http-api.md's JSON error.
pub(crate) fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// The 414 page (an address over 8 KiB), with the page security headers:
/// a page's errors are pages, whichever layer finds them.
pub(crate) fn uri_too_long_page(state: &AppState) -> Response {
    let mut response = view::error_page_with(
        state,
        None,
        StatusCode::URI_TOO_LONG,
        "Address too long",
        "The address of this page is longer than the server accepts. Nothing was changed."
            .to_owned(),
    );
    security::apply(response.headers_mut());
    response
}

/// The 404 page, with the page security headers.
pub(crate) fn not_found_page(State(state): State<AppState>) -> Response {
    let mut response = view::error_page(&state, None, StatusCode::NOT_FOUND);
    security::apply(response.headers_mut());
    response.into_response()
}
