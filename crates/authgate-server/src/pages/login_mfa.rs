//! The second step of a browser login for an account with a second factor:
//! after the right password, `POST /login` answers this form (the
//! `mfa_token` in a hidden field, `return_to` kept), and `POST /login/mfa`
//! finishes the login with a TOTP code or, switched to, a recovery code.
//! A wrong code shows the form again (the token allows five codes); a
//! spent or expired token goes back to the password.

use askama::Template;
use authgate_core::{AuthError, MfaPending};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::cookies::{self, Jar};
use super::form::PageForm;
use super::guard::{MaybeVisitor, safe_return_to};
use super::view::{Layout, error_page, failure_page, human_seconds, render};
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// The code form of a login's second step.
#[derive(Template)]
#[template(path = "pages/login_mfa.html")]
pub(crate) struct MfaLoginPage {
    pub(crate) layout: Layout,
    /// The form token (bound to the form cookie).
    pub(crate) csrf: String,
    /// The login's second-step token, carried by the form.
    pub(crate) mfa_token: String,
    /// Where to go after logging in (already checked), or empty.
    pub(crate) return_to: String,
    /// Whether the form asks for a recovery code instead of a TOTP code.
    pub(crate) recovery: bool,
    /// A message about the whole form.
    pub(crate) error: Option<String>,
    /// A message next to the code.
    pub(crate) code_error: Option<&'static str>,
}

/// The form asking for the code of `pending`'s login (status 200).
pub(crate) fn ask_for_code(
    state: &AppState,
    csrf: String,
    pending: &MfaPending,
    return_to: &str,
) -> Response {
    let page = MfaLoginPage {
        layout: Layout::new(state, "Two-factor authentication", None),
        csrf,
        mfa_token: pending.token.to_string(),
        return_to: return_to.to_owned(),
        recovery: false,
        error: None,
        code_error: None,
    };
    render(StatusCode::OK, &page)
}

/// `POST /login/mfa`: fields `csrf`, `mfa_token`, `code`, `return_to`,
/// `recovery` (the recovery-code form) and `switch` (only switch forms).
pub(crate) async fn submit(
    State(state): State<AppState>,
    maybe: MaybeVisitor,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    mut form: PageForm,
) -> Response {
    let Some(secret) = cookies::read(&headers, &state.web, Jar::Form) else {
        return error_page(&state, None, StatusCode::FORBIDDEN);
    };
    if !super::csrf::token_matches(
        Jar::Form,
        &secret,
        form.get(super::csrf::FIELD).unwrap_or_default(),
    ) {
        tracing::info!("second login step refused: missing or wrong form token");
        return error_page(&state, None, StatusCode::FORBIDDEN);
    }
    let code = form.take("code");
    let mfa_token = form.take("mfa_token");
    let mut page = MfaLoginPage {
        layout: Layout::new(&state, "Two-factor authentication", None),
        csrf: super::csrf::token(Jar::Form, &secret),
        mfa_token: mfa_token.clone(),
        return_to: form
            .get("return_to")
            .and_then(safe_return_to)
            .unwrap_or_default()
            .to_owned(),
        recovery: form.get("recovery").is_some(),
        error: None,
        code_error: None,
    };
    if form.get("switch").is_some() {
        // Only the other kind of code asked for: nothing is checked.
        return render(StatusCode::OK, &page);
    }
    if code.trim().is_empty() {
        page.code_error = Some(if page.recovery {
            "Enter a recovery code."
        } else {
            "Enter the code from your app."
        });
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    match state
        .auth
        .finish_browser_mfa_login(&mfa_token, &code, &origin, state.web.absolute)
        .await
    {
        Ok(login) => super::login::logged_in(&state, maybe, &origin, login, &page.return_to).await,
        Err(AuthError::InvalidMfaCode) => {
            page.code_error = Some(if page.recovery {
                "This recovery code is not right, or was used already."
            } else {
                "This code is not right or has expired. Enter the one your app shows now."
            });
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(AuthError::InvalidMfaToken) => {
            tracing::info!("second login step refused: the step is spent or expired");
            super::login::start_again(
                &state,
                &secret,
                &page.return_to,
                "This login step has expired or was used up. Enter your password again.",
            )
        }
        Err(AuthError::AccountDisabled) => {
            page.error = Some("This account is disabled. Ask an administrator.".into());
            render(StatusCode::FORBIDDEN, &page)
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
