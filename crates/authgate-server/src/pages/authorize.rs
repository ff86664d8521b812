//! `GET /oauth/authorize`: the OpenID Connect authorization endpoint, a
//! page because a person is behind it (docs/http-api.md "OpenID Connect").
//!
//! An unknown client or an unregistered redirect URI gets an error page,
//! never a redirect; other refusals go back to the client. Not logged in,
//! the visitor goes to the login page and comes back here; a client that
//! needs consent gets the consent page (`consent.rs`).
//!
//! The answers that end at the client after a form (the login or consent
//! form) are a page that moves on by itself (`<meta http-equiv="refresh">`)
//! rather than a redirect: browsers apply the pages' `form-action 'self'`
//! to every redirect that follows a form, and would stop at the client's
//! address.

use askama::Template;
use authgate_core::Origin;
use authgate_core::oidc::{AuthorizeParams, Checked, Step};
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;

use super::guard::{MaybeVisitor, Visitor, see_other};
use super::view::{Layout, error_page_with, failure_page, render};
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// Longest authorization request query read.
const MAX_QUERY: usize = 4096;

/// The page that sends the browser on to `location` by itself.
#[derive(Template)]
#[template(path = "pages/continue.html")]
pub(crate) struct ContinuePage {
    pub(crate) layout: Layout,
    /// Where to go: a checked redirect URI with its parameters, or our own path.
    pub(crate) location: String,
}

/// `GET /oauth/authorize`.
pub(crate) async fn start(
    State(state): State<AppState>,
    maybe: MaybeVisitor,
    RequestOrigin(origin): RequestOrigin,
    uri: Uri,
) -> Response {
    let query = uri.query().unwrap_or_default();
    proceed(
        &state,
        maybe.visitor.as_ref(),
        &origin,
        query,
        Decision::None,
        Answer::Redirect,
    )
    .await
}

/// What the visitor decided on the consent page, if they were asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Not asked (a plain authorization request).
    None,
    /// "Allow".
    Allow,
    /// "Deny".
    Deny,
}

/// How to send the browser on to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// A 303 (the request came from a link or a redirect).
    Redirect,
    /// The [`ContinuePage`] (the request came from one of our forms).
    Page,
}

/// Runs the authorization request in `query` for `visitor`.
pub(crate) async fn proceed(
    state: &AppState,
    visitor: Option<&Visitor>,
    origin: &Origin,
    query: &str,
    decision: Decision,
    answer: Answer,
) -> Response {
    let Some(params) = parse(query) else {
        return untrusted(
            state,
            visitor,
            "The sign-in request is malformed (a parameter is repeated, or it is too long).",
        );
    };
    let request = match state.auth.check_authorization(&params).await {
        Err(e) => return failure_page(state, visitor, &e),
        Ok(Checked::Untrusted(why)) => return untrusted(state, visitor, why.0),
        Ok(Checked::Refused { location }) => return onward(state, visitor, location, answer),
        Ok(Checked::Valid(request)) => request,
    };
    if decision == Decision::Deny {
        let location = state.auth.access_denied(&request);
        return onward(state, visitor, location, answer);
    }
    let browser = visitor.map(|v| &v.browser);
    match state
        .auth
        .authorization_step(&request, browser, decision == Decision::Allow, origin)
        .await
    {
        Err(e) => failure_page(state, visitor, &e),
        Ok(Step::Redirect { location }) => onward(state, visitor, location, answer),
        Ok(Step::Login) => to_login(query, request.login_hint.as_deref(), visitor.is_some()),
        Ok(Step::Consent) => match visitor {
            Some(visitor) => super::consent::page(state, visitor, &request, query),
            None => to_login(query, None, false),
        },
    }
}

/// The request's parameters; `None` when one repeats or the query is too long.
fn parse(query: &str) -> Option<AuthorizeParams> {
    if query.len() > MAX_QUERY {
        return None;
    }
    let mut p = AuthorizeParams::default();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let slot = match name.as_ref() {
            "client_id" => &mut p.client_id,
            "redirect_uri" => &mut p.redirect_uri,
            "response_type" => &mut p.response_type,
            "response_mode" => &mut p.response_mode,
            "scope" => &mut p.scope,
            "state" => &mut p.state,
            "nonce" => &mut p.nonce,
            "code_challenge" => &mut p.code_challenge,
            "code_challenge_method" => &mut p.code_challenge_method,
            "prompt" => &mut p.prompt,
            "max_age" => &mut p.max_age,
            "login_hint" => &mut p.login_hint,
            "request" => &mut p.request,
            "request_uri" => &mut p.request_uri,
            _ => continue,
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(value.into_owned());
    }
    Some(p)
}

/// The query without `prompt`: asked once, a fresh login satisfies it, so
/// the request the login page returns to must not ask again.
fn without_prompt(query: &str) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name != "prompt" {
            out.append_pair(&name, &value);
        }
    }
    out.finish()
}

/// 303 to the login page, which comes back to this request (without
/// `prompt`). A visitor already logged in is asked to log in again
/// (`prompt=login`, or a login older than `max_age`).
fn to_login(query: &str, login_hint: Option<&str>, again: bool) -> Response {
    let back = format!("/oauth/authorize?{}", without_prompt(query));
    let mut login = form_urlencoded::Serializer::new(String::new());
    login.append_pair("return_to", &back);
    if let Some(hint) = login_hint {
        login.append_pair("login_hint", hint);
    }
    if again {
        login.append_pair("prompt", "login");
    }
    see_other(&format!("/login?{}", login.finish()))
}

/// On to `location` (a checked redirect URI, or our own path).
fn onward(
    state: &AppState,
    visitor: Option<&Visitor>,
    location: String,
    answer: Answer,
) -> Response {
    match answer {
        Answer::Redirect => see_other(&location),
        Answer::Page => continue_page(state, visitor, location),
    }
}

/// The [`ContinuePage`] to `location`.
pub(crate) fn continue_page(
    state: &AppState,
    visitor: Option<&Visitor>,
    location: String,
) -> Response {
    let page = ContinuePage {
        layout: Layout::new(state, "Continue", visitor),
        location,
    };
    render(StatusCode::OK, &page)
}

/// Where a login goes on to: `return_to`, through the [`ContinuePage`]
/// when it is an authorization request (which may end at a client).
pub(crate) fn after_login(state: &AppState, return_to: &str) -> Response {
    if return_to.starts_with("/oauth/authorize?") {
        continue_page(state, None, return_to.to_owned())
    } else {
        see_other(return_to)
    }
}

/// The error page of a request that cannot be answered at its client.
fn untrusted(state: &AppState, visitor: Option<&Visitor>, why: &str) -> Response {
    error_page_with(
        state,
        visitor,
        StatusCode::BAD_REQUEST,
        "Cannot sign you in",
        format!(
            "{why} You have not been sent anywhere. Go back to the application and try again, or tell its owner."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_or_overlong_parameter_makes_the_request_malformed() {
        assert!(parse("client_id=a&client_id=b").is_none());
        assert!(parse(&format!("state={}", "a".repeat(5000))).is_none());
        let p = parse("client_id=a&scope=openid%20profile&extra=1").unwrap();
        assert_eq!(p.scope.as_deref(), Some("openid profile"));
    }

    #[test]
    fn the_login_comes_back_without_prompt() {
        assert_eq!(
            without_prompt("client_id=a&prompt=login&state=x%20y"),
            "client_id=a&state=x+y"
        );
    }
}
