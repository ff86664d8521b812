//! Changing one's password from the account page: `POST /account/password`
//! (the form sits on `/account`; `GET /account/password` shows it alone,
//! and a refused change shows it again with the message next to its
//! field). The core checks the current password as a login (same limits)
//! and the new one by the registration rule, and ends every other session.

use askama::Template;
use authgate_core::{AuthError, Password, PasswordChange};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::form::PageForm;
use super::guard::{RequireVisitor, Visitor, see_other, to_login};
use super::view::{Layout, failure_page, human_seconds, render};
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// The change-password page.
#[derive(Template)]
#[template(path = "pages/password.html")]
pub(crate) struct PasswordPage {
    pub(crate) layout: Layout,
    pub(crate) csrf: String,
    /// A message about the whole form (rate limit).
    pub(crate) error: Option<String>,
    pub(crate) pw: PasswordForm,
}

/// The change-password form's messages (`password_form.html`, also on
/// the account page).
#[derive(Debug)]
pub(crate) struct PasswordForm {
    pub(crate) current_error: Option<String>,
    pub(crate) new_error: Option<String>,
    /// The password policy's minimum length, said before submit.
    pub(crate) min_length: usize,
}

impl PasswordForm {
    /// The form without messages.
    pub(crate) fn new(state: &AppState) -> Self {
        Self {
            current_error: None,
            new_error: None,
            min_length: state.auth.settings().password_policy.min_length,
        }
    }
}

fn page(state: &AppState, visitor: &Visitor) -> PasswordPage {
    PasswordPage {
        layout: Layout::new(state, "Change your password", Some(visitor)),
        csrf: visitor.csrf(),
        error: None,
        pw: PasswordForm::new(state),
    }
}

/// `GET /account/password`: the form alone.
pub(crate) async fn show(
    State(state): State<AppState>,
    RequireVisitor(visitor): RequireVisitor,
) -> Response {
    render(StatusCode::OK, &page(&state, &visitor))
}

/// `POST /account/password`: fields `csrf`, `current_password`,
/// `new_password`. Success: 303 to `/account?done=password`.
pub(crate) async fn change(
    State(state): State<AppState>,
    RequireVisitor(visitor): RequireVisitor,
    RequestOrigin(origin): RequestOrigin,
    mut form: PageForm,
) -> Response {
    if let Some(refused) =
        super::csrf::session_form_refusal(&state, &visitor, &form, "password change")
    {
        return refused;
    }
    let current = form.take("current_password");
    let new = form.take("new_password");
    let mut page = page(&state, &visitor);
    if current.is_empty() {
        page.pw.current_error = Some("Enter your current password.".into());
    }
    if new.is_empty() {
        page.pw.new_error = Some("Enter a new password.".into());
    }
    let (current, new) = match (Password::new(current), Password::new(new)) {
        (Ok(current), Ok(new)) => (current, new),
        (current, new) => {
            if current.is_err() {
                page.pw.current_error = Some("This password is too long.".into());
            }
            if new.is_err() {
                page.pw.new_error = Some("At most 256 characters.".into());
            }
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    if page.pw.current_error.is_some() || page.pw.new_error.is_some() {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let change = PasswordChange { current, new };
    match state
        .auth
        .change_password(&visitor.browser.caller(), change, &origin)
        .await
    {
        Ok(_) => see_other("/account?done=password"),
        Err(AuthError::InvalidCredentials) => {
            page.pw.current_error = Some("This is not your current password.".into());
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(AuthError::InvalidInput { reason, .. }) => {
            page.pw.new_error = Some(sentence(&reason));
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
        // The account went away or was disabled meanwhile.
        Err(AuthError::NotFound) => to_login(None),
        Err(e) => failure_page(&state, Some(&visitor), &e),
    }
}

/// `reason` as a sentence: capitalised, with a full stop.
fn sentence(reason: &str) -> String {
    let mut chars = reason.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}
