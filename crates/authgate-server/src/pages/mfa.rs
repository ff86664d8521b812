//! `/account/mfa`: the visitor's second factor. Off: a button that begins a
//! TOTP enrolment. Pending: the QR code (an SVG rendered here, shown as a
//! `data:` image the page's CSP allows), the key to type by hand, and the
//! form confirming it with a code. On: how many recovery codes are left and
//! the form turning it off with a code or the password. A confirmed
//! enrolment answers with the recovery codes, shown this once.

use askama::Template;
use authgate_core::{AuthError, DisableProof, MfaState, Password};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::form::PageForm;
use super::guard::{RequireVisitor, Visitor, see_other, to_login};
use super::view::{Layout, error_page, failure_page, human_seconds, render};
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// The second-factor page.
#[derive(Template)]
#[template(path = "pages/account_mfa.html")]
pub(crate) struct MfaPage {
    pub(crate) layout: Layout,
    pub(crate) csrf: String,
    /// A notice after an action.
    pub(crate) notice: Option<&'static str>,
    /// A message about the whole page (rate limit).
    pub(crate) error: Option<String>,
    pub(crate) state: MfaState,
    /// The pending enrolment, shown until confirmed.
    pub(crate) enrolment: Option<EnrolmentView>,
    /// A message next to the confirming code.
    pub(crate) confirm_error: Option<&'static str>,
    /// A message next to the disabling proof.
    pub(crate) disable_error: Option<&'static str>,
}

/// What the app needs to enrol.
pub(crate) struct EnrolmentView {
    /// The QR code of the `otpauth://` URI, as a `data:` URL.
    pub(crate) qr: String,
    /// The secret in base32, in groups of four for typing.
    pub(crate) key: String,
}

/// The recovery codes of a confirmed enrolment, shown once.
#[derive(Template)]
#[template(path = "pages/account_mfa_codes.html")]
pub(crate) struct CodesPage {
    pub(crate) layout: Layout,
    pub(crate) codes: Vec<String>,
}

/// The page for `visitor`, its state read now.
async fn page(state: &AppState, visitor: &Visitor) -> Result<MfaPage, AuthError> {
    let who = visitor.browser.caller();
    let mfa = state.auth.mfa_state(who.user_id).await?;
    let enrolment = match state.auth.pending_totp(&who).await? {
        Some(e) => Some(EnrolmentView {
            qr: crate::qr::data_url(&e.uri)
                .map_err(|_| AuthError::Internal("the QR code cannot be drawn".into()))?
                .to_string(),
            key: e
                .secret
                .as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join(" "),
        }),
        None => None,
    };
    Ok(MfaPage {
        layout: Layout::new(state, "Two-factor authentication", Some(visitor)),
        csrf: visitor.csrf(),
        notice: None,
        error: None,
        state: mfa,
        enrolment,
        confirm_error: None,
        disable_error: None,
    })
}

/// The page, or what stands in for it when it cannot be built.
async fn page_or_failure(state: &AppState, visitor: &Visitor) -> Result<MfaPage, Response> {
    match page(state, visitor).await {
        Ok(page) => Ok(page),
        Err(AuthError::NotFound) => Err(to_login(None)),
        Err(e) => Err(failure_page(state, Some(visitor), &e)),
    }
}

/// `GET /account/mfa`.
pub(crate) async fn show(
    State(state): State<AppState>,
    RequireVisitor(visitor): RequireVisitor,
    uri: axum::http::Uri,
) -> Response {
    let mut page = match page_or_failure(&state, &visitor).await {
        Ok(page) => page,
        Err(response) => return response,
    };
    page.notice = match super::login::query_param(&uri, "done").as_deref() {
        Some("disabled") => Some("Two-factor authentication is off."),
        _ => None,
    };
    render(StatusCode::OK, &page)
}

/// `POST /account/mfa/totp`: begins (or begins again) an enrolment, then
/// back to the page, which shows it.
pub(crate) async fn enrol(
    State(state): State<AppState>,
    RequireVisitor(visitor): RequireVisitor,
    form: PageForm,
) -> Response {
    if !visitor.csrf_matches(form.get(super::csrf::FIELD).unwrap_or_default()) {
        return error_page(&state, Some(&visitor), StatusCode::FORBIDDEN);
    }
    match state.auth.begin_totp(&visitor.browser.caller()).await {
        Ok(_) | Err(AuthError::MfaAlreadyEnabled) => see_other("/account/mfa"),
        Err(AuthError::NotFound) => to_login(None),
        Err(e) => failure_page(&state, Some(&visitor), &e),
    }
}

/// `POST /account/mfa/totp/confirm`: field `code`. Success: the recovery
/// codes, once.
pub(crate) async fn confirm(
    State(state): State<AppState>,
    RequireVisitor(visitor): RequireVisitor,
    RequestOrigin(origin): RequestOrigin,
    mut form: PageForm,
) -> Response {
    if !visitor.csrf_matches(form.get(super::csrf::FIELD).unwrap_or_default()) {
        return error_page(&state, Some(&visitor), StatusCode::FORBIDDEN);
    }
    let code = form.take("code");
    let result = if code.trim().is_empty() {
        Err(AuthError::InvalidMfaCode)
    } else {
        state
            .auth
            .confirm_totp(&visitor.browser.caller(), &code, &origin)
            .await
    };
    let (status, message, wait) = match result {
        Ok(codes) => {
            let page = CodesPage {
                layout: Layout::new(&state, "Your recovery codes", Some(&visitor)),
                codes: codes.0.iter().map(|c| c.to_string()).collect(),
            };
            return render(StatusCode::OK, &page);
        }
        Err(AuthError::InvalidMfaCode) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "This code is not right or has expired. Enter the one your app shows now.",
            None,
        ),
        Err(AuthError::MfaNotPending) => return see_other("/account/mfa"),
        Err(AuthError::RateLimited(wait)) => (StatusCode::TOO_MANY_REQUESTS, "", Some(wait)),
        Err(AuthError::NotFound) => return to_login(None),
        Err(e) => return failure_page(&state, Some(&visitor), &e),
    };
    let mut page = match page_or_failure(&state, &visitor).await {
        Ok(page) => page,
        Err(response) => return response,
    };
    if wait.is_none() {
        page.confirm_error = Some(message);
    }
    refused(status, page, wait)
}

/// `POST /account/mfa/disable`: field `code` or `password`.
pub(crate) async fn disable(
    State(state): State<AppState>,
    RequireVisitor(visitor): RequireVisitor,
    RequestOrigin(origin): RequestOrigin,
    mut form: PageForm,
) -> Response {
    if !visitor.csrf_matches(form.get(super::csrf::FIELD).unwrap_or_default()) {
        return error_page(&state, Some(&visitor), StatusCode::FORBIDDEN);
    }
    let code = form.take("code");
    let password = form.take("password");
    let proof = match (code.trim().is_empty(), password.is_empty()) {
        (false, true) => Ok(DisableProof::Code(code)),
        (true, false) => Password::new(password)
            .map(DisableProof::Password)
            .map_err(|_| "This password is too long."),
        (true, true) => Err("Enter a code from your app, a recovery code, or your password."),
        (false, false) => Err("Enter a code or your password, not both."),
    };
    let result = match proof {
        Ok(proof) => {
            state
                .auth
                .disable_totp(&visitor.browser.caller(), proof, &origin)
                .await
        }
        Err(message) => Err(AuthError::invalid("code", message)),
    };
    let (status, message, wait) = match result {
        Ok(()) | Err(AuthError::NotFound) => return see_other("/account/mfa?done=disabled"),
        Err(AuthError::InvalidMfaCode) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "This code is not right, has expired or was used already.",
            None,
        ),
        Err(AuthError::InvalidCredentials) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "This is not your password.",
            None,
        ),
        Err(AuthError::InvalidInput { .. }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter a code from your app, a recovery code, or your password (one of them).",
            None,
        ),
        Err(AuthError::RateLimited(wait)) => (StatusCode::TOO_MANY_REQUESTS, "", Some(wait)),
        Err(e) => return failure_page(&state, Some(&visitor), &e),
    };
    let mut page = match page_or_failure(&state, &visitor).await {
        Ok(page) => page,
        Err(response) => return response,
    };
    if wait.is_none() {
        page.disable_error = Some(message);
    }
    refused(status, page, wait)
}

/// The page with its message; a rate limit says when to try again.
fn refused(status: StatusCode, mut page: MfaPage, wait: Option<u64>) -> Response {
    if let Some(wait) = wait {
        page.error = Some(format!(
            "Too many attempts. Try again in {}.",
            human_seconds(i64::try_from(wait.max(1)).unwrap_or(i64::MAX))
        ));
    }
    let mut response = render(status, &page);
    if let Some(value) = wait.and_then(|w| HeaderValue::from_str(&w.max(1).to_string()).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}
