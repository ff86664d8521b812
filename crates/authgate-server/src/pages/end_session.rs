//! `GET /oauth/logout`: RP-initiated logout (OpenID Connect RP-Initiated
//! Logout 1.0; docs/http-api.md "OpenID Connect").
//!
//! The browser session ends only when a valid `id_token_hint` names it:
//! another site cannot log a visitor out by sending them here. With
//! `[oidc] logout_ends_client_sessions`, the client's sessions of that
//! browser login end with it (its access and refresh tokens). A
//! `post_logout_redirect_uri` is followed only when it is registered for
//! the client exactly; anything wrong is an error page, never a redirect.

use authgate_core::LogoutScope;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::Response;

use super::cookies::{self, Jar};
use super::guard::{MaybeVisitor, see_other};
use super::view::{error_page_with, failure_page};
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// Longest query read.
const MAX_QUERY: usize = 8192;

/// The parameters of a logout request.
#[derive(Debug, Default)]
struct LogoutParams {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    client_id: Option<String>,
}

/// `GET /oauth/logout`.
pub(crate) async fn start(
    State(state): State<AppState>,
    maybe: MaybeVisitor,
    RequestOrigin(origin): RequestOrigin,
    uri: Uri,
) -> Response {
    let refuse = |why: &str| {
        error_page_with(
            &state,
            maybe.visitor.as_ref(),
            StatusCode::BAD_REQUEST,
            "Cannot log you out here",
            format!("{why} You have not been sent anywhere."),
        )
    };
    if !state.auth.oidc_enabled() {
        return refuse("This server does not offer sign-in to other applications.");
    }
    let Some(params) = parse(uri.query().unwrap_or_default()) else {
        return refuse(
            "The logout request is malformed (a parameter is repeated, or it is too long).",
        );
    };
    let hint = match params.id_token_hint.as_deref() {
        Some(token) => match state.auth.logout_hint(token) {
            Some(hint) => Some(hint),
            None => {
                return refuse("The application sent a sign-in token this server did not issue.");
            }
        },
        None => None,
    };
    let client = match state
        .auth
        .logout_client(hint.as_ref(), params.client_id.as_deref())
        .await
    {
        Ok(client) => client,
        Err(authgate_core::AuthError::NotFound) => {
            return refuse(
                "The application that sent you here is not registered with this server.",
            );
        }
        Err(e) => return failure_page(&state, maybe.visitor.as_ref(), &e),
    };
    let location = match params.post_logout_redirect_uri.as_deref() {
        None => None,
        Some(uri) => match client.as_ref().and_then(|c| {
            state
                .auth
                .post_logout_location(c, uri, params.state.as_deref())
        }) {
            Some(location) => Some(location),
            None => {
                return refuse(
                    "The application asked to send you to an address it has not registered.",
                );
            }
        },
    };
    let mut ended = false;
    if let Some(visitor) = &maybe.visitor {
        let named = hint
            .as_ref()
            .is_some_and(|h| h.browser_session_id == visitor.browser.session.id);
        if !named {
            return error_page_with(
                &state,
                Some(visitor),
                StatusCode::OK,
                "You are still logged in",
                "The application asked to log you out without proof that it signed you in. \
                 Log out from your account page if you want to."
                    .into(),
            );
        }
        let scope = LogoutScope::Current {
            refresh_token: None,
        };
        if let Err(e) = state
            .auth
            .logout(&visitor.browser.caller(), scope, &origin)
            .await
        {
            return failure_page(&state, Some(visitor), &e);
        }
        state.web.claims.remove(&visitor.browser.session.id);
        ended = true;
        if let Some(hint) = &hint
            && let Err(e) = state.auth.end_client_sessions(hint, &origin).await
        {
            return failure_page(&state, Some(visitor), &e);
        }
    }
    let mut response = see_other(location.as_deref().unwrap_or("/login"));
    if ended || maybe.stale {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookies::clear(&state.web, Jar::Session));
    }
    response
}

/// The request's parameters; `None` when one repeats or the query is too long.
fn parse(query: &str) -> Option<LogoutParams> {
    if query.len() > MAX_QUERY {
        return None;
    }
    let mut p = LogoutParams::default();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let slot = match name.as_ref() {
            "id_token_hint" => &mut p.id_token_hint,
            "post_logout_redirect_uri" => &mut p.post_logout_redirect_uri,
            "state" => &mut p.state,
            "client_id" => &mut p.client_id,
            _ => continue,
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(value.into_owned());
    }
    Some(p)
}
