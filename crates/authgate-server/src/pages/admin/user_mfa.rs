//! The console's reset of a user's second factor
//! (`POST /admin/console/users/{id}/mfa/reset`, `users:write`): the same
//! core call as `POST /admin/users/{id}/mfa/reset`, which checks the
//! permission and the reach, ends the user's sessions and audits the reset.

use authgate_core::AuthError;
use authgate_proto::permissions::names;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use super::Admin;
use crate::origin::RequestOrigin;
use crate::pages::form::PageForm;
use crate::pages::guard::see_other;
use crate::pages::view::render;
use crate::state::AppState;

/// `POST /admin/console/users/{id}/mfa/reset`.
pub(crate) async fn reset(
    State(state): State<AppState>,
    admin: Admin,
    RequestOrigin(origin): RequestOrigin,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    form: PageForm,
) -> Response {
    if let Some(refused) = admin.form_refusal(&state, &form, names::USERS_WRITE) {
        return refused;
    }
    let Some(id) = path.ok().and_then(|Path(id)| Uuid::parse_str(&id).ok()) else {
        return admin.error(&state, StatusCode::NOT_FOUND);
    };
    let refusal = match state.auth.reset_mfa(Some(&admin.caller), id, &origin).await {
        Ok(_) => return see_other(&format!("/admin/console/users/{id}?done=mfa")),
        Err(AuthError::InsufficientScope) => {
            "You can only change accounts whose roles you hold yourself."
        }
        Err(AuthError::NotFound) => return admin.error(&state, StatusCode::NOT_FOUND),
        Err(e) => return admin.failure(&state, &e),
    };
    match super::users::user_page(&state, &admin, id, None).await {
        Ok(mut page) => {
            page.mfa_error = Some(refusal.to_owned());
            render(StatusCode::FORBIDDEN, &page)
        }
        Err(response) => response,
    }
}
