//! The console's service clients (`clients:write`): the list, creating one
//! (its secret shown once, on the answer to the form, never again),
//! disabling or enabling one, and deleting one.

use askama::Template;
use authgate_core::AuthError;
use authgate_proto::permissions::names;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;

use super::users::RoleBox;
use super::{Admin, Sections, done_notice};
use crate::origin::RequestOrigin;
use crate::pages::form::PageForm;
use crate::pages::guard::see_other;
use crate::pages::view::{Layout, render, timestamp};
use crate::state::AppState;

/// Longest client name kept in the form after an error.
const MAX_NAME: usize = 100;

/// One client in the list.
#[derive(Debug)]
pub(crate) struct ClientRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) roles: Vec<String>,
    pub(crate) created: String,
    /// `false` once disabled.
    pub(crate) active: bool,
}

/// A client just created: its secret, shown this once.
#[derive(Debug)]
pub(crate) struct Created {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) secret: String,
}

/// The clients page.
#[derive(Template)]
#[template(path = "pages/admin_clients.html")]
pub(crate) struct ClientsPage {
    pub(crate) layout: Layout,
    pub(crate) sections: Sections,
    pub(crate) csrf: String,
    pub(crate) notice: Option<&'static str>,
    pub(crate) clients: Vec<ClientRow>,
    /// The client created by this request, with its secret.
    pub(crate) created: Option<Created>,
    /// The creation form: what was typed and what was wrong.
    pub(crate) name: String,
    pub(crate) name_error: Option<String>,
    pub(crate) roles: Vec<RoleBox>,
    pub(crate) roles_error: Option<String>,
}

/// The page with the list as stored now, the form empty.
async fn page(state: &AppState, admin: &Admin) -> Result<ClientsPage, Response> {
    let clients = state
        .auth
        .list_clients(Some(&admin.caller))
        .await
        .map_err(|e| admin.failure(state, &e))?;
    Ok(ClientsPage {
        layout: admin.layout(state, "Service clients"),
        sections: admin.sections(state, "clients"),
        csrf: admin.visitor.csrf(),
        notice: None,
        clients: clients
            .iter()
            .map(|c| ClientRow {
                id: c.id.clone(),
                name: c.name.clone(),
                roles: c.roles.clone(),
                created: timestamp(c.created_at),
                active: c.is_active,
            })
            .collect(),
        created: None,
        name: String::new(),
        name_error: None,
        roles: state
            .permissions
            .roles()
            .map(|r| RoleBox {
                name: r.to_owned(),
                checked: false,
            })
            .collect(),
        roles_error: None,
    })
}

/// `GET /admin/console/clients`.
pub(crate) async fn list(State(state): State<AppState>, admin: Admin, uri: Uri) -> Response {
    if let Some(refused) = admin.refusal(&state, names::CLIENTS_WRITE) {
        return refused;
    }
    match page(&state, &admin).await {
        Ok(mut page) => {
            page.notice = done_notice(
                &uri,
                &[
                    ("deleted", "The client was deleted."),
                    ("disabled", "The client was disabled."),
                    ("enabled", "The client was enabled."),
                ],
            );
            render(StatusCode::OK, &page)
        }
        Err(response) => response,
    }
}

/// `POST /admin/console/clients`: fields `csrf`, `name`, one `role:<name>`
/// checkbox per role. Success shows the page with the secret, once.
pub(crate) async fn create(
    State(state): State<AppState>,
    admin: Admin,
    RequestOrigin(origin): RequestOrigin,
    form: PageForm,
) -> Response {
    if let Some(refused) = admin.form_refusal(&state, &form, names::CLIENTS_WRITE) {
        return refused;
    }
    let name = form.text("name");
    let roles: Vec<String> = state
        .permissions
        .roles()
        .filter(|r| form.get(&format!("role:{r}")).is_some())
        .map(str::to_owned)
        .collect();
    let outcome = state
        .auth
        .create_client(Some(&admin.caller), &name, roles.clone(), &origin)
        .await;
    let mut page = match page(&state, &admin).await {
        Ok(page) => page,
        Err(response) => return response,
    };
    let status = match outcome {
        Ok(created) => {
            page.created = Some(Created {
                id: created.client.id.clone(),
                name: created.client.name.clone(),
                secret: created.secret.to_string(),
            });
            return render(StatusCode::CREATED, &page);
        }
        Err(AuthError::InvalidInput {
            field: "name",
            reason,
        }) => {
            page.name_error = Some(format!("The name {reason}."));
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(AuthError::InvalidInput { .. }) => {
            page.roles_error = Some("One of these roles is unknown.".to_owned());
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(AuthError::InsufficientScope) => {
            page.roles_error = Some(
                "You can only give a client roles whose permissions you hold yourself.".to_owned(),
            );
            StatusCode::FORBIDDEN
        }
        Err(e) => return admin.failure(&state, &e),
    };
    page.name = name.chars().take(MAX_NAME).collect();
    for role in &mut page.roles {
        role.checked = roles.contains(&role.name);
    }
    render(status, &page)
}

/// `POST /admin/console/clients/{id}/delete`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    RequestOrigin(origin): RequestOrigin,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    form: PageForm,
) -> Response {
    if let Some(refused) = admin.form_refusal(&state, &form, names::CLIENTS_WRITE) {
        return refused;
    }
    let Ok(Path(id)) = path else {
        return admin.error(&state, StatusCode::NOT_FOUND);
    };
    match state
        .auth
        .delete_client(Some(&admin.caller), &id, &origin)
        .await
    {
        Ok(()) => see_other("/admin/console/clients?done=deleted"),
        Err(AuthError::NotFound) => admin.error(&state, StatusCode::NOT_FOUND),
        Err(AuthError::InsufficientScope) => admin.error(&state, StatusCode::FORBIDDEN),
        Err(e) => admin.failure(&state, &e),
    }
}

/// `POST /admin/console/clients/{id}/disable`.
pub(crate) async fn disable(
    state: State<AppState>,
    admin: Admin,
    origin: RequestOrigin,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    form: PageForm,
) -> Response {
    set_active(state, admin, origin, path, form, false).await
}

/// `POST /admin/console/clients/{id}/enable`.
pub(crate) async fn enable(
    state: State<AppState>,
    admin: Admin,
    origin: RequestOrigin,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    form: PageForm,
) -> Response {
    set_active(state, admin, origin, path, form, true).await
}

/// Disables or enables the client through the same service as the API,
/// then 303 to the list with a notice.
async fn set_active(
    State(state): State<AppState>,
    admin: Admin,
    RequestOrigin(origin): RequestOrigin,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    form: PageForm,
    active: bool,
) -> Response {
    if let Some(refused) = admin.form_refusal(&state, &form, names::CLIENTS_WRITE) {
        return refused;
    }
    let Ok(Path(id)) = path else {
        return admin.error(&state, StatusCode::NOT_FOUND);
    };
    match state
        .auth
        .set_client_active(Some(&admin.caller), &id, active, &origin)
        .await
    {
        Ok(_) if active => see_other("/admin/console/clients?done=enabled"),
        Ok(_) => see_other("/admin/console/clients?done=disabled"),
        Err(AuthError::NotFound) => admin.error(&state, StatusCode::NOT_FOUND),
        Err(AuthError::InsufficientScope) => admin.error(&state, StatusCode::FORBIDDEN),
        Err(e) => admin.failure(&state, &e),
    }
}
