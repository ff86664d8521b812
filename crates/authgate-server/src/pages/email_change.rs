//! Changing one's email address from the account page: `GET`/`POST
//! /account/email`, over the same core call as `POST /auth/email/change`.
//! The core checks the current password as a login (same limits) and mails
//! a link to the new address; the address changes once it is used.

use askama::Template;
use authgate_core::{AuthError, EmailChange, Password};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::form::PageForm;
use super::guard::{RequireVisitor, Visitor, see_other, to_login};
use super::view::{Layout, error_page, failure_page, human_seconds, render};
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// The notice on `/account` once the link was sent.
pub(crate) const SENT: &str = "A link to confirm your new address is on its way to it. Your address changes once you open it.";

/// The change-email page.
#[derive(Template)]
#[template(path = "pages/email_change.html")]
pub(crate) struct EmailPage {
    pub(crate) layout: Layout,
    pub(crate) csrf: String,
    /// The account's address now.
    pub(crate) email: String,
    /// What was typed as the new address, kept after an error.
    pub(crate) new_email: String,
    /// A message about the whole form (rate limit).
    pub(crate) error: Option<String>,
    /// A message next to the new address.
    pub(crate) new_email_error: Option<String>,
    /// A message next to the password.
    pub(crate) current_error: Option<String>,
}

fn page(state: &AppState, visitor: &Visitor) -> EmailPage {
    EmailPage {
        layout: Layout::new(state, "Change your email address", Some(visitor)),
        csrf: visitor.csrf(),
        email: visitor.browser.user.email.clone(),
        new_email: String::new(),
        error: None,
        new_email_error: None,
        current_error: None,
    }
}

/// `GET /account/email`: the form.
pub(crate) async fn show(
    State(state): State<AppState>,
    RequireVisitor(visitor): RequireVisitor,
) -> Response {
    render(StatusCode::OK, &page(&state, &visitor))
}

/// `POST /account/email`: fields `csrf`, `new_email`, `current_password`.
/// Success: 303 to `/account?done=email`.
pub(crate) async fn change(
    State(state): State<AppState>,
    RequireVisitor(visitor): RequireVisitor,
    RequestOrigin(origin): RequestOrigin,
    mut form: PageForm,
) -> Response {
    if !visitor.csrf_matches(form.get(super::csrf::FIELD).unwrap_or_default()) {
        tracing::info!("email change refused: missing or wrong form token");
        return error_page(&state, Some(&visitor), StatusCode::FORBIDDEN);
    }
    let current = form.take("current_password");
    let mut page = page(&state, &visitor);
    page.new_email = form.text("new_email").chars().take(254).collect();
    if page.new_email.is_empty() {
        page.new_email_error = Some("Enter the new email address.".into());
    }
    if current.is_empty() {
        page.current_error = Some("Enter your current password.".into());
    }
    let current_password = match Password::new(current) {
        Ok(p) => p,
        Err(_) => {
            page.current_error = Some("This password is too long.".into());
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    if page.new_email_error.is_some() || page.current_error.is_some() {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let change = EmailChange {
        current_password,
        new_email: page.new_email.clone(),
    };
    match state
        .auth
        .request_email_change(&visitor.browser.caller(), change, &origin)
        .await
    {
        Ok(()) => see_other("/account?done=email"),
        Err(AuthError::InvalidCredentials) => {
            page.current_error = Some("This is not your current password.".into());
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(AuthError::InvalidInput {
            field: "new_email", ..
        }) => {
            page.new_email_error = Some(if page.new_email == page.email {
                "This is your address already.".into()
            } else {
                "Enter an email address, like name@example.com.".into()
            });
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(AuthError::Conflict(_)) => {
            page.new_email_error = Some("Another account uses this address.".into());
            render(StatusCode::CONFLICT, &page)
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
