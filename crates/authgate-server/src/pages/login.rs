//! `GET /login`, `POST /login` and `POST /logout`.
//!
//! A wrong password and an unknown user get the same message (no account
//! enumeration); a rate-limited login says when to try again. A login
//! always starts a new session under a new cookie (no fixation); a session
//! the browser already had is ended.

use askama::Template;
use authgate_core::{AuthError, BrowserOutcome, LoginAttempt, LogoutScope, Password};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::cookies::{self, Jar};
use super::form::PageForm;
use super::guard::{MaybeVisitor, RequireVisitor, landing, safe_return_to, see_other};
use super::view::{Layout, failure_page, human_seconds, render};
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// The login page.
#[derive(Template)]
#[template(path = "pages/login.html")]
pub(crate) struct LoginPage {
    pub(crate) layout: Layout,
    /// The form token (bound to the form cookie).
    pub(crate) csrf: String,
    /// What was typed as the identifier, kept after an error.
    pub(crate) identifier: String,
    /// Where to go after logging in (already checked), or empty.
    pub(crate) return_to: String,
    /// A message about the whole form.
    pub(crate) error: Option<String>,
    /// A message next to the identifier.
    pub(crate) identifier_error: Option<&'static str>,
    /// A message next to the password.
    pub(crate) password_error: Option<&'static str>,
    /// A notice above the form (the account was just created).
    pub(crate) notice: Option<&'static str>,
    /// Whether to offer the registration page.
    pub(crate) registration_open: bool,
    /// The name to send a new verification link for, when the password
    /// was right but the address is not verified (a "send again" button).
    pub(crate) resend: Option<String>,
}

/// The form cookie's secret: the one the browser sent if it is ours,
/// otherwise a new one to set (the second value).
pub(crate) fn form_secret(
    headers: &HeaderMap,
    state: &AppState,
) -> Result<(zeroize::Zeroizing<String>, bool), AuthError> {
    match cookies::read(headers, &state.web, Jar::Form) {
        Some(secret) => Ok((secret, false)),
        None => Ok((authgate_core::random_token()?, true)),
    }
}

/// Adds `Set-Cookie` for a new form cookie.
pub(crate) fn set_form_cookie(response: &mut Response, state: &AppState, secret: &str) {
    let max_age = state.web.absolute.whole_seconds();
    if let Some(value) = cookies::set(&state.web, Jar::Form, secret, max_age) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// One query parameter's first value.
pub(crate) fn query_param(uri: &axum::http::Uri, name: &str) -> Option<String> {
    form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

/// `GET /login`: the form, or on to `return_to` for a logged-in visitor.
pub(crate) async fn show(
    State(state): State<AppState>,
    maybe: MaybeVisitor,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let return_to = query_param(&uri, "return_to");
    // `prompt=login`: a relying party asked for a fresh login.
    let again = query_param(&uri, "prompt").as_deref() == Some("login");
    if maybe.visitor.is_some() && !again {
        return see_other(landing(return_to.as_deref()));
    }
    let (secret, new) = match form_secret(&headers, &state) {
        Ok(found) => found,
        Err(e) => return failure_page(&state, None, &e),
    };
    let notice = (query_param(&uri, "registered").as_deref() == Some("1")).then_some(
        if state.auth.settings().verification.require_verified_email {
            "Your account was created. Open the link we sent to your email address to confirm it, then log in."
        } else {
            "Your account was created. You can log in now. We sent a link to confirm your email address."
        },
    );
    let page = LoginPage {
        layout: Layout::new(&state, "Log in", None),
        csrf: super::csrf::token(Jar::Form, &secret),
        identifier: query_param(&uri, "login_hint")
            .map(|hint| hint.chars().take(254).collect())
            .unwrap_or_default(),
        return_to: return_to
            .as_deref()
            .and_then(safe_return_to)
            .unwrap_or_default()
            .to_owned(),
        error: None,
        identifier_error: None,
        password_error: None,
        notice,
        registration_open: state.auth.settings().registration_open,
        resend: None,
    };
    let mut response = render(StatusCode::OK, &page);
    if new {
        set_form_cookie(&mut response, &state, &secret);
    }
    if maybe.stale {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookies::clear(&state.web, Jar::Session));
    }
    response
}

/// `POST /login`: checks the form token, logs in, sets the session cookie
/// and goes on to `return_to`; or the form again with what went wrong.
pub(crate) async fn submit(
    State(state): State<AppState>,
    maybe: MaybeVisitor,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    mut form: PageForm,
) -> Response {
    let secret = match super::csrf::checked_form_cookie(&state, &headers, &form, "login") {
        Ok(secret) => secret,
        Err(refused) => return *refused,
    };
    let password = form.take("password");
    let mut page = LoginPage {
        layout: Layout::new(&state, "Log in", None),
        csrf: super::csrf::token(Jar::Form, &secret),
        identifier: form.text("identifier").chars().take(254).collect(),
        return_to: form
            .get("return_to")
            .and_then(safe_return_to)
            .unwrap_or_default()
            .to_owned(),
        error: None,
        identifier_error: None,
        password_error: None,
        notice: None,
        registration_open: state.auth.settings().registration_open,
        resend: None,
    };
    if page.identifier.is_empty() {
        page.identifier_error = Some("Enter your email or username.");
    }
    if password.is_empty() {
        page.password_error = Some("Enter your password.");
    }
    let password = match Password::new(password) {
        Ok(p) => p,
        Err(_) => {
            page.password_error = Some("This password is too long.");
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    if page.identifier_error.is_some() || page.password_error.is_some() {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let attempt = LoginAttempt {
        identifier: page.identifier.clone(),
        password,
        audience: None,
    };
    match state
        .auth
        .browser_login(attempt, &origin, state.web.absolute)
        .await
    {
        Ok(BrowserOutcome::LoggedIn(login)) => {
            logged_in(&state, maybe, &origin, login, &page.return_to).await
        }
        Ok(BrowserOutcome::MfaRequired(pending)) => {
            super::login_mfa::ask_for_code(&state, page.csrf, &pending, &page.return_to)
        }
        Err(AuthError::InvalidCredentials) => {
            page.error = Some("The email, username or password is not right.".into());
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(AuthError::AccountDisabled) => {
            page.error = Some("This account is disabled. Ask an administrator.".into());
            render(StatusCode::FORBIDDEN, &page)
        }
        Err(AuthError::EmailNotVerified) => {
            page.error = Some(
                "Confirm your email address first: open the link we sent to it. No message? Send it again."
                    .into(),
            );
            page.resend = Some(page.identifier.clone());
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
        Err(AuthError::InvalidInput { .. }) => {
            page.error = Some("The email, username or password is not right.".into());
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => failure_page(&state, None, &e),
    }
}

/// The login form again with `error`, keeping `return_to`: a second
/// step that can no longer finish starts over from the password.
pub(crate) fn start_again(
    state: &AppState,
    form_secret: &str,
    return_to: &str,
    error: &str,
) -> Response {
    let page = LoginPage {
        layout: Layout::new(state, "Log in", None),
        csrf: super::csrf::token(Jar::Form, form_secret),
        identifier: String::new(),
        return_to: return_to.to_owned(),
        error: Some(error.to_owned()),
        identifier_error: None,
        password_error: None,
        notice: None,
        resend: None,
        registration_open: state.auth.settings().registration_open,
    };
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

/// After a successful login: remember the token's claims for the account
/// page, end the browser's previous session, set the new cookie, go on.
pub(crate) async fn logged_in(
    state: &AppState,
    maybe: MaybeVisitor,
    origin: &authgate_core::Origin,
    login: authgate_core::BrowserLogin,
    return_to: &str,
) -> Response {
    let now = state.clock.unix();
    if let Ok(verified) = state
        .verifier
        .authenticate(Some(&format!("Bearer {}", login.access_token)), now)
    {
        let keep_for = state.web.absolute.whole_seconds();
        state
            .web
            .claims
            .insert(login.session_id, verified.claims().clone(), now, keep_for);
    }
    if let Some(old) = maybe.visitor {
        let scope = LogoutScope::Current {
            refresh_token: None,
        };
        if let Err(e) = state
            .auth
            .logout(&old.browser.caller(), scope, origin)
            .await
        {
            tracing::warn!(error = %e, "ending the previous browser session failed");
        }
        state.web.claims.remove(&old.browser.session.id);
    }
    let mut response = super::authorize::after_login(state, landing(Some(return_to)));
    let max_age = state.web.absolute.whole_seconds();
    if let Some(cookie) = cookies::set(&state.web, Jar::Session, &login.secret, max_age) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookies::clear(&state.web, Jar::Form));
    response
}

/// `POST /logout`: ends this session and deletes its cookie.
pub(crate) async fn logout(
    State(state): State<AppState>,
    RequireVisitor(visitor): RequireVisitor,
    RequestOrigin(origin): RequestOrigin,
    form: PageForm,
) -> Response {
    if let Some(refused) = super::csrf::session_form_refusal(&state, &visitor, &form, "logout") {
        return refused;
    }
    let scope = LogoutScope::Current {
        refresh_token: None,
    };
    if let Err(e) = state
        .auth
        .logout(&visitor.browser.caller(), scope, &origin)
        .await
    {
        return failure_page(&state, Some(&visitor), &e);
    }
    state.web.claims.remove(&visitor.browser.session.id);
    let mut response = see_other("/login");
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookies::clear(&state.web, Jar::Session));
    response
}
