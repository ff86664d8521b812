//! `GET`/`POST /email/verify` (the page a verification link opens) and
//! `GET`/`POST /email/verify/resend` (ask for a new link), over the same
//! core calls as `POST /auth/email/verify` and `/resend`.
//!
//! Opening the link changes nothing: mail scanners fetch links to look at
//! them, so the page shows a button and the POST it sends verifies. The
//! token travels in a hidden field, never in a log.

use askama::Template;
use authgate_core::AuthError;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::cookies::{self, Jar};
use super::form::PageForm;
use super::login::{form_secret, query_param, set_form_cookie};
use super::view::{Layout, error_page, failure_page, human_seconds, render};
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// The page a verification link opens, and what it says after the POST.
#[derive(Template)]
#[template(path = "pages/verify_email.html")]
pub(crate) struct VerifyPage {
    pub(crate) layout: Layout,
    /// The form token (bound to the form cookie).
    pub(crate) csrf: String,
    /// The link's token, sent back in a hidden field.
    pub(crate) token: String,
    /// A message about the whole page.
    pub(crate) error: Option<String>,
    /// The address verified, once done.
    pub(crate) verified: Option<String>,
}

/// The "send the link again" page.
#[derive(Template)]
#[template(path = "pages/verify_resend.html")]
pub(crate) struct ResendPage {
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

/// The longest token accepted from a link (ours are 43 characters).
const MAX_TOKEN_CHARS: usize = 128;

fn verify_page(state: &AppState, csrf: String, token: String) -> VerifyPage {
    VerifyPage {
        layout: Layout::new(state, "Confirm your email address", None),
        csrf,
        token,
        error: None,
        verified: None,
    }
}

fn resend_page(state: &AppState, csrf: String) -> ResendPage {
    ResendPage {
        layout: Layout::new(state, "Confirm your email address", None),
        csrf,
        email: String::new(),
        error: None,
        email_error: None,
        sent: false,
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

/// The form cookie's secret if the form's token matches it (otherwise the
/// caller answers 403).
fn checked_secret(
    headers: &HeaderMap,
    state: &AppState,
    form: &PageForm,
    what: &'static str,
) -> Option<zeroize::Zeroizing<String>> {
    let secret = cookies::read(headers, &state.web, Jar::Form)?;
    if !super::csrf::token_matches(
        Jar::Form,
        &secret,
        form.get(super::csrf::FIELD).unwrap_or_default(),
    ) {
        tracing::info!(form = what, "form refused: missing or wrong form token");
        return None;
    }
    Some(secret)
}

/// `response` with its form cookie set when `new` holds a new secret.
fn with_form_cookie(mut response: Response, state: &AppState, new: Option<String>) -> Response {
    if let Some(secret) = new {
        set_form_cookie(&mut response, state, &secret);
    }
    response
}

/// `GET /email/verify?token=…`: the confirm button (the token is checked
/// on submit, so opening the page tells nothing about it and changes nothing).
pub(crate) async fn show_verify(
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
    let page = verify_page(&state, csrf, token);
    with_form_cookie(render(StatusCode::OK, &page), &state, new)
}

/// `POST /email/verify`: verifies; or the page again with why not.
pub(crate) async fn submit_verify(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    form: PageForm,
) -> Response {
    let Some(secret) = checked_secret(&headers, &state, &form, "verify_email") else {
        return error_page(&state, None, StatusCode::FORBIDDEN);
    };
    let token = zeroize::Zeroizing::new(
        form.text("token")
            .chars()
            .take(MAX_TOKEN_CHARS)
            .collect::<String>(),
    );
    let mut page = verify_page(
        &state,
        super::csrf::token(Jar::Form, &secret),
        String::new(),
    );
    match state.auth.verify_email(&token, &origin).await {
        Ok(email) => {
            page.verified = Some(email);
            render(StatusCode::OK, &page)
        }
        Err(AuthError::InvalidVerificationToken) => {
            page.error = Some(
                "This link is invalid, has expired or was already used. Ask for a new one.".into(),
            );
            render(StatusCode::BAD_REQUEST, &page)
        }
        Err(AuthError::Conflict(_)) => {
            page.error =
                Some("Another account uses this address now, so it cannot become yours.".into());
            render(StatusCode::CONFLICT, &page)
        }
        Err(e) => failure_page(&state, None, &e),
    }
}

/// `GET /email/verify/resend`: the form.
pub(crate) async fn show_resend(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let (csrf, new) = match form_token(&headers, &state) {
        Ok(found) => found,
        Err(e) => return failure_page(&state, None, &e),
    };
    let mut page = resend_page(&state, csrf);
    page.email = query_param(&uri, "email")
        .unwrap_or_default()
        .chars()
        .take(254)
        .collect();
    with_form_cookie(render(StatusCode::OK, &page), &state, new)
}

/// `POST /email/verify/resend`: asks for a new link (also the button the
/// login page shows an unverified account); the same page for every address.
pub(crate) async fn submit_resend(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    form: PageForm,
) -> Response {
    let Some(secret) = checked_secret(&headers, &state, &form, "verify_resend") else {
        return error_page(&state, None, StatusCode::FORBIDDEN);
    };
    let mut page = resend_page(&state, super::csrf::token(Jar::Form, &secret));
    page.email = form.text("email").chars().take(254).collect();
    if page.email.is_empty() {
        page.email_error = Some("Enter your email address.".into());
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    match state.auth.resend_verification(&page.email, &origin).await {
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
            let mut response = render(StatusCode::TOO_MANY_REQUESTS, &page);
            if let Ok(value) = HeaderValue::from_str(&wait.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Err(e) => failure_page(&state, None, &e),
    }
}
