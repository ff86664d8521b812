//! What every page shares: the layout's data, rendering a template into a
//! response, and the error pages (403, 404, 429, 500, 503) in the same look.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::assets::ASSETS;
use super::settings::PRODUCT;
use super::visitor::Visitor;
use crate::state::AppState;

/// The header, navigation and notices around every page.
#[derive(Debug)]
pub(crate) struct Layout {
    /// The product's name.
    pub(crate) product: &'static str,
    /// The issuer's `host[:port]`, so people see where they are logging in.
    pub(crate) host: String,
    /// The stylesheet's hashed path.
    pub(crate) css: &'static str,
    /// The script's hashed path.
    pub(crate) js: &'static str,
    /// The page's title.
    pub(crate) title: String,
    /// Who is logged in, for the navigation and its logout form.
    pub(crate) user: Option<NavUser>,
    /// Whether the server is reached over plain http.
    pub(crate) insecure: bool,
}

/// The logged-in visitor as the navigation shows them.
#[derive(Debug)]
pub(crate) struct NavUser {
    /// Name, else username, else email.
    pub(crate) display: String,
    /// The session's form token, for the logout button.
    pub(crate) csrf: String,
    /// Whether their roles open some section of the console (`/admin`).
    pub(crate) admin: bool,
}

impl Layout {
    /// The layout of a page titled `title` seen by `visitor`.
    pub(crate) fn new(state: &AppState, title: &str, visitor: Option<&Visitor>) -> Self {
        Self {
            product: PRODUCT,
            host: state.web.host.clone(),
            css: &ASSETS.css.href,
            js: &ASSETS.js.href,
            title: title.to_owned(),
            user: visitor.map(|v| NavUser {
                display: display_name(&v.browser.user),
                csrf: v.csrf(),
                admin: super::admin::sees_console(&state.permissions, &v.browser.user.roles),
            }),
            insecure: !state.web.secure,
        }
    }
}

/// How a user is named on the pages: name, else username, else email.
pub(crate) fn display_name(user: &authgate_core::User) -> String {
    user.name
        .clone()
        .or_else(|| user.username.clone())
        .unwrap_or_else(|| user.email.clone())
}

/// `template` rendered as an HTML response with `status`. Pages are never
/// cached: they show personal data or carry form tokens.
pub(crate) fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = (status, html).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "a page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "internal error",
            )
                .into_response()
        }
    }
}

/// An error page.
#[derive(Template)]
#[template(path = "pages/error.html")]
pub(crate) struct ErrorPage {
    /// The shared layout.
    pub(crate) layout: Layout,
    /// The HTTP status, shown.
    pub(crate) status: u16,
    /// What went wrong, in a few words.
    pub(crate) heading: &'static str,
    /// What to do about it.
    pub(crate) message: String,
}

/// The error page for `status`, in the visitor's layout.
pub(crate) fn error_page(
    state: &AppState,
    visitor: Option<&Visitor>,
    status: StatusCode,
) -> Response {
    let (heading, message) = match status {
        StatusCode::FORBIDDEN => (
            "Not allowed",
            "You cannot do this here: your account lacks the permission, or the form \
             was not sent from this site or has expired. Nothing was changed.",
        ),
        StatusCode::NOT_FOUND => ("Page not found", "There is no page at this address."),
        StatusCode::TOO_MANY_REQUESTS => {
            ("Too many requests", "Please wait a little and try again.")
        }
        StatusCode::SERVICE_UNAVAILABLE => (
            "Temporarily unavailable",
            "The service cannot answer right now. Nothing was changed; please try again shortly.",
        ),
        StatusCode::BAD_REQUEST => (
            "Bad request",
            "The request could not be understood. Nothing was changed.",
        ),
        _ => (
            "Something went wrong",
            "An unexpected error happened. Nothing was changed.",
        ),
    };
    error_page_with(state, visitor, status, heading, message.to_owned())
}

/// An error page with its own heading and message.
pub(crate) fn error_page_with(
    state: &AppState,
    visitor: Option<&Visitor>,
    status: StatusCode,
    heading: &'static str,
    message: String,
) -> Response {
    let page = ErrorPage {
        layout: Layout::new(state, heading, visitor),
        status: status.as_u16(),
        heading,
        message,
    };
    render(status, &page)
}

/// The page for a failure of the core that is not the visitor's doing: a
/// store or the hashing pool unavailable (503, with `Retry-After` when the
/// server is busy), anything else 500. The cause goes to the log.
pub(crate) fn failure_page(
    state: &AppState,
    visitor: Option<&Visitor>,
    error: &authgate_core::AuthError,
) -> Response {
    use authgate_core::AuthError;
    match error {
        AuthError::Unavailable(_) | AuthError::Overloaded(_) => {
            tracing::warn!(error = %error, "page answered 503");
            let mut response = error_page(state, visitor, StatusCode::SERVICE_UNAVAILABLE);
            if matches!(error, AuthError::Overloaded(_)) {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            response
        }
        _ => {
            tracing::error!(error = %error, "page failed");
            error_page(state, visitor, StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// "1 min 5 s"-style text for a wait or a lifetime of `seconds`.
pub(crate) fn human_seconds(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 if s % 60 == 0 => format!("{} min", s / 60),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        _ if s % 3600 / 60 == 0 => format!("{} h", s / 3600),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// A time as `2026-12-06 21:05:09 UTC`.
pub(crate) fn timestamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_as_people_say_them() {
        assert_eq!(human_seconds(5), "5 s");
        assert_eq!(human_seconds(65), "1 min 5 s");
        assert_eq!(human_seconds(900), "15 min");
        assert_eq!(human_seconds(7260), "2 h 1 min");
        assert_eq!(human_seconds(-3), "0 s");
    }
}
