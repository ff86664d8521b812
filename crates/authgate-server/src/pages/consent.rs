//! The consent page of an authorization request (`GET /oauth/authorize`
//! shows it; `POST /oauth/authorize/consent` takes the answer): the
//! client's name, the scopes in words, Allow or Deny. The form carries the
//! request itself, which is checked again in full when it comes back, and
//! the session's form token.

use askama::Template;
use authgate_core::oidc::Authorization;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::authorize::{Answer, Decision, proceed};
use super::form::PageForm;
use super::guard::{RequireVisitor, Visitor};
use super::view::{Layout, error_page, render};
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// The consent page.
#[derive(Template)]
#[template(path = "pages/consent.html")]
pub(crate) struct ConsentPage {
    pub(crate) layout: Layout,
    /// The session's form token.
    pub(crate) csrf: String,
    /// The client's registered name.
    pub(crate) client_name: String,
    /// What each requested scope allows, in words.
    pub(crate) scopes: Vec<&'static str>,
    /// The host the browser goes back to.
    pub(crate) redirect_host: String,
    /// The authorization request's query, sent back with the answer.
    pub(crate) request: String,
}

/// What a scope lets the client do, as the page says it.
fn in_words(scope: &str) -> &'static str {
    match scope {
        "openid" => "Know who you are (your account id)",
        "profile" => "See your name and username",
        "email" => "See your email address",
        "offline_access" => "Stay signed in when you are not using it (until you sign out)",
        _ => "Use an access you have not seen described",
    }
}

/// The consent page for `request`, whose query is `query`.
pub(crate) fn page(
    state: &AppState,
    visitor: &Visitor,
    request: &Authorization,
    query: &str,
) -> Response {
    let redirect_host = url::Url::parse(&request.redirect_uri)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let page = ConsentPage {
        layout: Layout::new(state, "Allow access", Some(visitor)),
        csrf: visitor.csrf(),
        client_name: request.client.name.clone(),
        scopes: request.scopes.iter().map(|s| in_words(s)).collect(),
        redirect_host,
        request: query.to_owned(),
    };
    render(StatusCode::OK, &page)
}

/// `POST /oauth/authorize/consent`: the visitor's answer.
pub(crate) async fn submit(
    State(state): State<AppState>,
    RequireVisitor(visitor): RequireVisitor,
    RequestOrigin(origin): RequestOrigin,
    form: PageForm,
) -> Response {
    if let Some(refused) = super::csrf::session_form_refusal(&state, &visitor, &form, "consent") {
        return refused;
    }
    let decision = match form.get("decision") {
        Some("allow") => Decision::Allow,
        Some("deny") => Decision::Deny,
        _ => return error_page(&state, Some(&visitor), StatusCode::BAD_REQUEST),
    };
    let query = form.get("request").unwrap_or_default();
    proceed(
        &state,
        Some(&visitor),
        &origin,
        query,
        decision,
        Answer::Page,
    )
    .await
}
