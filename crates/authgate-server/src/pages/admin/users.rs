//! The console's users: search and page through them (`users:read`), view
//! one (roles, state, live sessions, recent audit with `audit:read`), and,
//! with `users:write`, change roles and disable or enable.

use askama::Template;
use authgate_core::{AuditFilter, AuthError, LoginName, User, UserQuery};
use authgate_proto::permissions::names;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use uuid::Uuid;

use super::{Admin, Sections, done_notice};
use crate::origin::RequestOrigin;
use crate::pages::form::PageForm;
use crate::pages::guard::see_other;
use crate::pages::login::query_param;
use crate::pages::view::{Layout, display_name, render, timestamp};
use crate::state::AppState;

/// Users per page.
const PAGE: u32 = 25;
/// Longest search text (an email is at most 254 characters).
const MAX_Q: usize = 254;
/// Audit events shown on a user's page.
const EVENTS: u32 = 10;

/// One user in the list.
#[derive(Debug)]
pub(crate) struct UserRow {
    pub(crate) id: String,
    pub(crate) display: String,
    pub(crate) email: String,
    pub(crate) username: String,
    pub(crate) roles: Vec<String>,
    pub(crate) active: bool,
    /// Whether the address is verified (a verification link was used).
    pub(crate) email_verified: bool,
}

impl UserRow {
    fn of(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            display: display_name(user),
            email: user.email.clone(),
            username: user.username.clone().unwrap_or_default(),
            roles: user.roles.clone(),
            active: user.is_active,
            email_verified: user.email_verified_at.is_some(),
        }
    }
}

/// The users page.
#[derive(Template)]
#[template(path = "pages/admin_users.html")]
pub(crate) struct UsersPage {
    pub(crate) layout: Layout,
    pub(crate) sections: Sections,
    /// The search as typed.
    pub(crate) q: String,
    pub(crate) q_error: Option<&'static str>,
    pub(crate) users: Vec<UserRow>,
    /// The query of the next page, when there is one.
    pub(crate) next: Option<String>,
    /// Whether this is a later page (a link back to the first).
    pub(crate) paged: bool,
    /// The query of the first page of this search.
    pub(crate) first: String,
}

/// `GET /admin/console/users?q=&after=`.
pub(crate) async fn list(State(state): State<AppState>, admin: Admin, uri: Uri) -> Response {
    if let Some(refused) = admin.refusal(&state, names::USERS_READ) {
        return refused;
    }
    let q: String = query_param(&uri, "q").unwrap_or_default();
    let mut page = UsersPage {
        layout: admin.layout(&state, "Users"),
        sections: admin.sections(&state, "users"),
        q: q.chars().take(MAX_Q + 1).collect(),
        q_error: None,
        users: Vec::new(),
        next: None,
        paged: false,
        first: String::new(),
    };
    let trimmed = q.trim();
    let prefix = if trimmed.is_empty() {
        None
    } else if trimmed.len() > MAX_Q {
        page.q_error = Some("Search at most 254 characters.");
        None
    } else {
        match LoginName::parse("q", trimmed) {
            Ok(name) => Some(name.into_string()),
            Err(_) => {
                page.q_error = Some("Search without control or invisible characters.");
                None
            }
        }
    };
    if page.q_error.is_some() {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    // A cursor that is not ours starts from the first page.
    let after = query_param(&uri, "after").and_then(|a| Uuid::parse_str(&a).ok());
    page.paged = after.is_some();
    page.first = form_urlencoded::Serializer::new(String::new())
        .append_pair("q", trimmed)
        .finish();
    let query = UserQuery {
        after,
        limit: PAGE,
        prefix,
    };
    let (users, next) = match state.auth.users_page(query).await {
        Ok(found) => found,
        Err(e) => return admin.failure(&state, &e),
    };
    page.users = users.iter().map(UserRow::of).collect();
    page.next = next.map(|id| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("q", trimmed)
            .append_pair("after", &id.to_string())
            .finish()
    });
    render(StatusCode::OK, &page)
}

/// One role's checkbox.
#[derive(Debug)]
pub(crate) struct RoleBox {
    pub(crate) name: String,
    pub(crate) checked: bool,
}

/// One audit event on a user's page.
#[derive(Debug)]
pub(crate) struct EventRow {
    pub(crate) at: String,
    pub(crate) kind: String,
    pub(crate) actor: String,
    pub(crate) ip: String,
}

/// One user's page.
#[derive(Template)]
#[template(path = "pages/admin_user.html")]
pub(crate) struct UserPage {
    pub(crate) layout: Layout,
    pub(crate) sections: Sections,
    pub(crate) csrf: String,
    pub(crate) notice: Option<&'static str>,
    pub(crate) user: UserRow,
    pub(crate) name: String,
    pub(crate) created: String,
    pub(crate) sessions: usize,
    /// Whether the visitor may change the user (`users:write`).
    pub(crate) can_write: bool,
    /// Whether this is the visitor's own account (no disable button).
    pub(crate) is_self: bool,
    pub(crate) roles: Vec<RoleBox>,
    pub(crate) roles_error: Option<String>,
    pub(crate) state_error: Option<String>,
    /// The user's second factor.
    pub(crate) mfa: authgate_core::MfaState,
    /// A refused second-factor reset.
    pub(crate) mfa_error: Option<String>,
    /// Recent events about the user, with `audit:read`.
    pub(crate) events: Option<Vec<EventRow>>,
}

/// `GET /admin/console/users/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    admin: Admin,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    uri: Uri,
) -> Response {
    if let Some(refused) = admin.refusal(&state, names::USERS_READ) {
        return refused;
    }
    let Some(id) = user_id(path) else {
        return admin.error(&state, StatusCode::NOT_FOUND);
    };
    let notice = done_notice(
        &uri,
        &[
            ("roles", "The roles were changed."),
            (
                "disabled",
                "The account was disabled and its sessions ended.",
            ),
            ("enabled", "The account was enabled."),
            (
                "mfa",
                "The second factor was reset and the account's sessions ended.",
            ),
        ],
    );
    match user_page(&state, &admin, id, None).await {
        Ok(mut page) => {
            page.notice = notice;
            render(StatusCode::OK, &page)
        }
        Err(response) => response,
    }
}

/// The page of user `id`; `chosen` keeps the roles as ticked in a refused form.
pub(super) async fn user_page(
    state: &AppState,
    admin: &Admin,
    id: Uuid,
    chosen: Option<&[String]>,
) -> Result<UserPage, Response> {
    let user = match state.auth.user(id).await {
        Ok(user) => user,
        Err(AuthError::NotFound) => return Err(admin.error(state, StatusCode::NOT_FOUND)),
        Err(e) => return Err(admin.failure(state, &e)),
    };
    let sessions = state
        .auth
        .live_session_count(id)
        .await
        .map_err(|e| admin.failure(state, &e))?;
    let events = if admin.may(state, names::AUDIT_READ) {
        let filter = AuditFilter {
            user_id: Some(id),
            limit: EVENTS,
            ..AuditFilter::default()
        };
        let events = state
            .auth
            .audit_events(&filter)
            .await
            .map_err(|e| admin.failure(state, &e))?;
        Some(
            events
                .iter()
                .map(|e| EventRow {
                    at: timestamp(e.at),
                    kind: e.kind.as_str().to_owned(),
                    actor: e.actor_id.clone().unwrap_or_default(),
                    ip: e.ip.map(|ip| ip.to_string()).unwrap_or_default(),
                })
                .collect(),
        )
    } else {
        None
    };
    let mfa = state
        .auth
        .mfa_state(id)
        .await
        .map_err(|e| admin.failure(state, &e))?;
    let held = chosen.unwrap_or(&user.roles);
    Ok(UserPage {
        layout: admin.layout(state, &format!("User {}", display_name(&user))),
        sections: admin.sections(state, "users"),
        csrf: admin.visitor.csrf(),
        notice: None,
        name: user.name.clone().unwrap_or_default(),
        created: timestamp(user.created_at),
        sessions,
        can_write: admin.may(state, names::USERS_WRITE),
        is_self: admin.caller.user_id() == Some(user.id),
        roles: state
            .permissions
            .roles()
            .map(|r| RoleBox {
                name: r.to_owned(),
                checked: held.iter().any(|h| h == r),
            })
            .collect(),
        roles_error: None,
        state_error: None,
        mfa,
        mfa_error: None,
        events,
        user: UserRow::of(&user),
    })
}

/// `POST /admin/console/users/{id}/roles`: one checkbox `role:<name>` per role.
pub(crate) async fn set_roles(
    State(state): State<AppState>,
    admin: Admin,
    RequestOrigin(origin): RequestOrigin,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    form: PageForm,
) -> Response {
    if let Some(refused) = admin.form_refusal(&state, &form, names::USERS_WRITE) {
        return refused;
    }
    let Some(id) = user_id(path) else {
        return admin.error(&state, StatusCode::NOT_FOUND);
    };
    let roles: Vec<String> = state
        .permissions
        .roles()
        .filter(|r| form.get(&format!("role:{r}")).is_some())
        .map(str::to_owned)
        .collect();
    let refusal = match state
        .auth
        .set_roles(Some(&admin.caller), id, roles.clone(), &origin)
        .await
    {
        Ok(_) => return see_other(&format!("/admin/console/users/{id}?done=roles")),
        Err(AuthError::InsufficientScope) => (
            StatusCode::FORBIDDEN,
            "You can only grant roles whose permissions you hold yourself, \
             and only change accounts whose roles you hold.",
        ),
        Err(AuthError::InvalidInput { .. }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "One of these roles is unknown.",
        ),
        Err(AuthError::NotFound) => return admin.error(&state, StatusCode::NOT_FOUND),
        Err(e) => return admin.failure(&state, &e),
    };
    match user_page(&state, &admin, id, Some(&roles)).await {
        Ok(mut page) => {
            page.roles_error = Some(refusal.1.to_owned());
            render(refusal.0, &page)
        }
        Err(response) => response,
    }
}

/// `POST /admin/console/users/{id}/disable`.
pub(crate) async fn disable(
    state: State<AppState>,
    admin: Admin,
    origin: RequestOrigin,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    form: PageForm,
) -> Response {
    set_active(state, admin, origin, path, form, false).await
}

/// `POST /admin/console/users/{id}/enable`.
pub(crate) async fn enable(
    state: State<AppState>,
    admin: Admin,
    origin: RequestOrigin,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    form: PageForm,
) -> Response {
    set_active(state, admin, origin, path, form, true).await
}

async fn set_active(
    State(state): State<AppState>,
    admin: Admin,
    RequestOrigin(origin): RequestOrigin,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    form: PageForm,
    active: bool,
) -> Response {
    if let Some(refused) = admin.form_refusal(&state, &form, names::USERS_WRITE) {
        return refused;
    }
    let Some(id) = user_id(path) else {
        return admin.error(&state, StatusCode::NOT_FOUND);
    };
    let refusal = match state
        .auth
        .set_active(Some(&admin.caller), id, active, &origin)
        .await
    {
        Ok(_) => {
            let done = if active { "enabled" } else { "disabled" };
            return see_other(&format!("/admin/console/users/{id}?done={done}"));
        }
        Err(AuthError::InsufficientScope) => (
            StatusCode::FORBIDDEN,
            "You can only change accounts whose roles you hold yourself.".to_owned(),
        ),
        Err(AuthError::InvalidInput { reason, .. }) => {
            (StatusCode::UNPROCESSABLE_ENTITY, capitalised(&reason))
        }
        Err(AuthError::NotFound) => return admin.error(&state, StatusCode::NOT_FOUND),
        Err(e) => return admin.failure(&state, &e),
    };
    match user_page(&state, &admin, id, None).await {
        Ok(mut page) => {
            page.state_error = Some(refusal.1);
            render(refusal.0, &page)
        }
        Err(response) => response,
    }
}

/// A user id from the path; anything else names no user.
fn user_id(path: Result<Path<String>, axum::extract::rejection::PathRejection>) -> Option<Uuid> {
    path.ok().and_then(|Path(id)| Uuid::parse_str(&id).ok())
}

/// `text` as a sentence: first letter upper-case, a full stop at the end.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}
