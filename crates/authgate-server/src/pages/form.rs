//! A page form's body: `application/x-www-form-urlencoded`, from our own
//! origin, within the 64 KiB body limit, each field at most once, and at
//! most as many fields as the largest form can have. What fails is an HTML
//! error page, and nothing is changed.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::Response;

use super::view::error_page;
use crate::state::AppState;

/// Most fields a page form may have besides one checkbox per role (the
/// role forms of the console have one `role:<name>` per role that exists).
const BASE_FIELDS: usize = 16;

/// Most fields a page form may have on this server: [`BASE_FIELDS`] plus
/// one per configured role, so the roles form fits however many roles the
/// configuration defines, and nothing larger is parsed into a map.
fn max_fields(state: &AppState) -> usize {
    BASE_FIELDS.saturating_add(state.permissions.roles().count())
}

/// The fields of a submitted form, from our own origin (see
/// [`super::csrf::origin_allowed`]); the form token is checked by the
/// handler, which knows which cookie it is bound to.
#[derive(Debug)]
pub(crate) struct PageForm(HashMap<String, String>);

impl PageForm {
    /// The field's value, if sent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The field's value trimmed, `""` if not sent.
    pub(crate) fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().trim().to_owned()
    }

    /// Takes the field's value out (passwords: not kept in the form).
    pub(crate) fn take(&mut self, name: &str) -> String {
        self.0.remove(name).unwrap_or_default()
    }
}

impl FromRequest<AppState> for PageForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        if !super::csrf::origin_allowed(req.headers(), &state.web) {
            tracing::info!(path = %req.uri().path(), "form refused: another origin");
            return Err(error_page(state, None, StatusCode::FORBIDDEN));
        }
        let form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !form {
            return Err(error_page(state, None, StatusCode::BAD_REQUEST));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            let status = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            };
            error_page(state, None, status)
        })?;
        parse(&bytes, max_fields(state))
            .map(PageForm)
            .ok_or_else(|| error_page(state, None, StatusCode::BAD_REQUEST))
    }
}

/// The fields of `body`, or `None` when one repeats or there are more
/// than `max`.
fn parse(body: &[u8], max: usize) -> Option<HashMap<String, String>> {
    let mut fields = HashMap::new();
    for (name, value) in form_urlencoded::parse(body) {
        if fields.len() >= max || fields.contains_key(name.as_ref()) {
            return None;
        }
        fields.insert(name.into_owned(), value.into_owned());
    }
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_field_or_too_many_fields_is_refused() {
        assert_eq!(parse(b"a=1&b=%3Cx%3E", 16).unwrap()["b"], "<x>");
        assert!(parse(b"a=1&a=2", 16).is_none());
        let many: Vec<String> = (0..20).map(|i| format!("f{i}=x")).collect();
        assert!(parse(many.join("&").as_bytes(), 16).is_none());
        assert_eq!(parse(many.join("&").as_bytes(), 20).unwrap().len(), 20);
        assert!(parse(many.join("&").as_bytes(), 19).is_none());
    }
}
