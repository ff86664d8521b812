//! `GET`/`POST /password/forgot` (ask for a reset link) and
//! `GET`/`POST /password/reset` (the page the link opens), over the same
//! core calls as `POST /auth/password/forgot` and `/reset`. The forgot page
//! answers the same for every address; the reset link's token travels in
//! a hidden field, never in a log.

use askama::Template;
use authgate_core::{AuthError, Password};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::cookies::Jar;
use super::form::PageForm;
use super::login::{form_secret, query_param, set_form_cookie};
use super::view::{Layout, failure_page, human_seconds, render};
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// The "forgot your password?" page.
#[derive(Template)]
#[template(path = "pages/forgot.html")]
pub(crate) struct ForgotPage {
    pub(crate) layout: Layout,
    /// The form token (bound to the form cookie).
    pub(crate) csrf: String,
    /// What was typed, kept after an error.
    pub(crate) email: String,
    /// A message about the whole form.
    pub(crate) error: Option<String>,
    /// A message next to the email.
    pub(crate) email_error: Option<String>,
    /// Whether the request was taken (the same for every address).
    pub(crate) sent: bool,
}

/// The page a reset link opens.
#[derive(Template)]
#[template(path = "pages/reset.html")]
pub(crate) struct ResetPage {
    pub(crate) layout: Layout,
    /// The form token (bound to the form cookie).
    pub(crate) csrf: String,
    /// The link's token, sent back in a hidden field.
    pub(crate) token: String,
    /// A message about the whole form.
    pub(crate) error: Option<String>,
    /// A message next to the password.
    pub(crate) password_error: Option<String>,
    /// The password policy's minimum length, said before submit.
    pub(crate) min_length: usize,
    /// Whether the password was set.
    pub(crate) done: bool,
}

/// The longest token accepted from a link (ours are 43 characters).
const MAX_TOKEN_CHARS: usize = 128;

fn forgot_page(state: &AppState, csrf: String) -> ForgotPage {
    ForgotPage {
        layout: Layout::new(state, "Forgot your password?", None),
        csrf,
        email: String::new(),
        error: None,
        email_error: None,
        sent: false,
    }
}

fn reset_page(state: &AppState, csrf: String, token: String) -> ResetPage {
    ResetPage {
        layout: Layout::new(state, "Choose a new password", None),
        csrf,
        token,
        error: None,
        password_error: None,
        min_length: state.auth.settings().password_policy.min_length,
        done: false,
    }
}

/// The page's form token, and the form cookie's secret when it is new (to set).
fn form_token(
    headers: &HeaderMap,
    state: &AppState,
) -> Result<(String, Option<String>), AuthError> {
    let (secret, new) = form_secret(headers, state)?;
    let csrf = super::csrf::token(Jar::Form, &secret);
    Ok((csrf, new.then(|| secret.to_string())))
}

/// `status` with `Retry-After: wait`.
fn rate_limited(mut response: Response, wait: u64) -> Response {
    if let Ok(value) = HeaderValue::from_str(&wait.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// `GET /password/forgot`: the form.
pub(crate) async fn show_forgot(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (csrf, new) = match form_token(&headers, &state) {
        Ok(found) => found,
        Err(e) => return failure_page(&state, None, &e),
    };
    let mut response = render(StatusCode::OK, &forgot_page(&state, csrf));
    if let Some(secret) = new {
        set_form_cookie(&mut response, &state, &secret);
    }
    response
}

/// `POST /password/forgot`: asks for the link; the same page for every address.
pub(crate) async fn submit_forgot(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    form: PageForm,
) -> Response {
    let secret = match super::csrf::checked_form_cookie(&state, &headers, &form, "forgot") {
        Ok(secret) => secret,
        Err(refused) => return *refused,
    };
    let mut page = forgot_page(&state, super::csrf::token(Jar::Form, &secret));
    page.email = form.text("email").chars().take(254).collect();
    if page.email.is_empty() {
        page.email_error = Some("Enter your email address.".into());
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    match state.auth.forgot_password(&page.email, &origin).await {
        Ok(()) => {
            page.sent = true;
            render(StatusCode::OK, &page)
        }
        Err(AuthError::InvalidInput { .. }) => {
            page.email_error = Some("Enter an email address, like name@example.com.".into());
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(AuthError::RateLimited(wait)) => {
            page.error = Some(format!(
                "Too many attempts. Try again in {}.",
                human_seconds(i64::try_from(wait.max(1)).unwrap_or(i64::MAX))
            ));
            rate_limited(render(StatusCode::TOO_MANY_REQUESTS, &page), wait)
        }
        Err(e) => failure_page(&state, None, &e),
    }
}

/// `GET /password/reset?token=…`: the form the link opens (the token is
/// checked on submit, so opening the page tells nothing about it).
pub(crate) async fn show_reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let (csrf, new) = match form_token(&headers, &state) {
        Ok(found) => found,
        Err(e) => return failure_page(&state, None, &e),
    };
    let token: String = query_param(&uri, "token")
        .unwrap_or_default()
        .chars()
        .take(MAX_TOKEN_CHARS)
        .collect();
    let mut response = render(StatusCode::OK, &reset_page(&state, csrf, token));
    if let Some(secret) = new {
        set_form_cookie(&mut response, &state, &secret);
    }
    response
}

/// `POST /password/reset`: sets the password; or the form again with why not.
pub(crate) async fn submit_reset(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    mut form: PageForm,
) -> Response {
    let secret = match super::csrf::checked_form_cookie(&state, &headers, &form, "reset") {
        Ok(secret) => secret,
        Err(refused) => return *refused,
    };
    let password = form.take("new_password");
    let token = zeroize::Zeroizing::new(
        form.text("token")
            .chars()
            .take(MAX_TOKEN_CHARS)
            .collect::<String>(),
    );
    let mut page = reset_page(
        &state,
        super::csrf::token(Jar::Form, &secret),
        token.to_string(),
    );
    let password = match Password::new(password) {
        Ok(p) => p,
        Err(AuthError::InvalidInput { reason, .. }) => {
            page.password_error = Some(sentence(&reason));
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
        Err(e) => return failure_page(&state, None, &e),
    };
    match state.auth.reset_password(&token, password, &origin).await {
        Ok(_) => {
            page.done = true;
            page.token.clear();
            render(StatusCode::OK, &page)
        }
        Err(AuthError::InvalidInput { reason, .. }) => {
            page.password_error = Some(sentence(&reason));
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(AuthError::InvalidResetToken) => {
            page.token.clear();
            page.error = Some(
                "This link is invalid, has expired or was already used. Ask for a new one.".into(),
            );
            render(StatusCode::BAD_REQUEST, &page)
        }
        Err(e) => failure_page(&state, None, &e),
    }
}

/// The core's reason as a sentence: capitalised, with a full stop.
fn sentence(reason: &str) -> String {
    let mut chars = reason.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}
