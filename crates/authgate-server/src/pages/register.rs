//! `GET /register` and `POST /register`, only while self-registration is
//! open (otherwise the 404 page). The password is judged by the same rule
//! as the API's (length, then zxcvbn strength), after submit.

use askama::Template;
use authgate_core::{AuthError, Password, Registration};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::cookies::Jar;
use super::form::PageForm;
use super::guard::{MaybeVisitor, see_other};
use super::login::{form_secret, set_form_cookie};
use super::view::{Layout, error_page, failure_page, human_seconds, render};
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// The registration page.
#[derive(Template)]
#[template(path = "pages/register.html")]
pub(crate) struct RegisterPage {
    pub(crate) layout: Layout,
    /// The form token (bound to the form cookie).
    pub(crate) csrf: String,
    /// What was typed, kept after an error (never the password).
    pub(crate) email: String,
    pub(crate) username: String,
    pub(crate) name: String,
    /// A message about the whole form.
    pub(crate) error: Option<String>,
    /// Messages next to their fields.
    pub(crate) email_error: Option<String>,
    pub(crate) username_error: Option<String>,
    pub(crate) name_error: Option<String>,
    pub(crate) password_error: Option<String>,
    /// The password policy's minimum length, said before submit.
    pub(crate) min_length: usize,
}

fn page(state: &AppState, csrf: String) -> RegisterPage {
    RegisterPage {
        layout: Layout::new(state, "Create an account", None),
        csrf,
        email: String::new(),
        username: String::new(),
        name: String::new(),
        error: None,
        email_error: None,
        username_error: None,
        name_error: None,
        password_error: None,
        min_length: state.auth.settings().password_policy.min_length,
    }
}

/// `GET /register`: the form (a logged-in visitor goes to the account page).
pub(crate) async fn show(
    State(state): State<AppState>,
    maybe: MaybeVisitor,
    headers: HeaderMap,
) -> Response {
    if !state.auth.settings().registration_open {
        return error_page(&state, maybe.visitor.as_ref(), StatusCode::NOT_FOUND);
    }
    if maybe.visitor.is_some() {
        return see_other("/account");
    }
    let (secret, new) = match form_secret(&headers, &state) {
        Ok(found) => found,
        Err(e) => return failure_page(&state, None, &e),
    };
    let mut response = render(
        StatusCode::OK,
        &page(&state, super::csrf::token(Jar::Form, &secret)),
    );
    if new {
        set_form_cookie(&mut response, &state, &secret);
    }
    response
}

/// `POST /register`: creates the account and goes to the login page; or
/// the form again, each message next to its field.
pub(crate) async fn submit(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    mut form: PageForm,
) -> Response {
    if !state.auth.settings().registration_open {
        return error_page(&state, None, StatusCode::NOT_FOUND);
    }
    let secret = match super::csrf::checked_form_cookie(&state, &headers, &form, "register") {
        Ok(secret) => secret,
        Err(refused) => return *refused,
    };
    let password = form.take("password");
    let mut page = page(&state, super::csrf::token(Jar::Form, &secret));
    page.email = form.text("email").chars().take(254).collect();
    page.username = form.text("username").chars().take(64).collect();
    page.name = form.text("name").chars().take(200).collect();
    if page.email.is_empty() {
        page.email_error = Some("Enter your email address.".into());
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let password = match Password::new(password) {
        Ok(p) => p,
        Err(AuthError::InvalidInput { reason, .. }) => {
            page.password_error = Some(sentence(&reason));
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
        Err(e) => return failure_page(&state, None, &e),
    };
    let registration = Registration {
        email: page.email.clone(),
        password,
        username: (!page.username.is_empty()).then(|| page.username.clone()),
        name: (!page.name.is_empty()).then(|| page.name.clone()),
    };
    match state.auth.register(registration, &origin).await {
        Ok(_) => see_other("/login?registered=1"),
        Err(AuthError::InvalidInput { field, reason }) => {
            let message = Some(sentence(&reason));
            match field {
                "email" => page.email_error = message,
                "username" => page.username_error = message,
                "name" => page.name_error = message,
                "password" => page.password_error = message,
                _ => page.error = message,
            }
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(AuthError::Conflict(what)) => {
            if what == "username" {
                page.username_error = Some("This username is taken.".into());
            } else {
                page.email_error = Some("An account with this email already exists.".into());
            }
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
        Err(AuthError::RegistrationClosed) => error_page(&state, None, StatusCode::NOT_FOUND),
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
