//! `/admin`: the console. Each section shows only to a visitor whose current
//! roles grant its permission (the same permissions as the admin API), and
//! every action goes through the same core services as the API, which check
//! the permission and "grant only what you hold" themselves. docs/http-api.md
//! ("Hosted pages") lists the routes. The console's pages live under
//! `/admin/console/` because `/admin/users`, `/admin/keys`, … are the API's.

mod audit;
mod clients;
mod keys;
mod relying_parties;
mod user_mfa;
mod users;

use askama::Template;
use authgate_core::Caller;
use authgate_proto::KeyState;
use authgate_proto::permissions::{Permissions, names};
use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::{get, post};

use super::guard::{RequireVisitor, Visitor};
use super::view::{Layout, error_page, failure_page, render};
use crate::state::AppState;

/// The console's routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(home))
        .route("/admin/console/users", get(users::list))
        .route("/admin/console/users/{id}", get(users::show))
        .route("/admin/console/users/{id}/roles", post(users::set_roles))
        .route("/admin/console/users/{id}/disable", post(users::disable))
        .route("/admin/console/users/{id}/enable", post(users::enable))
        .route("/admin/console/users/{id}/mfa/reset", post(user_mfa::reset))
        .route(
            "/admin/console/clients",
            get(clients::list).post(clients::create),
        )
        .route("/admin/console/clients/{id}/delete", post(clients::delete))
        .route(
            "/admin/console/clients/{id}/disable",
            post(clients::disable),
        )
        .route("/admin/console/clients/{id}/enable", post(clients::enable))
        .route(
            "/admin/console/relying-parties",
            get(relying_parties::list).post(relying_parties::create),
        )
        .route(
            "/admin/console/relying-parties/{id}/delete",
            post(relying_parties::delete),
        )
        .route("/admin/console/keys", get(keys::show))
        .route("/admin/console/keys/rotate", post(keys::rotate))
        .route("/admin/console/audit", get(audit::show))
}

/// Whether `path` is one of the console's pages.
pub(crate) fn is_console_path(path: &str) -> bool {
    path == "/admin" || path.starts_with("/admin/console/")
}

/// Whether someone holding `roles` may see some section of the console
/// (so the navigation links to it).
pub(crate) fn sees_console(permissions: &Permissions, roles: &[String]) -> bool {
    [
        names::ADMIN_READ,
        names::USERS_READ,
        names::CLIENTS_WRITE,
        names::KEYS_READ,
        names::AUDIT_READ,
    ]
    .iter()
    .any(|p| permissions.allows(roles, p))
}

/// A logged-in visitor in the console, as the caller the core services
/// check (their current roles, read on this request).
#[derive(Debug)]
pub(crate) struct Admin {
    /// The visitor (session, user, form token).
    pub(crate) visitor: Visitor,
    /// The same visitor as an administration caller.
    pub(crate) caller: Caller,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let RequireVisitor(visitor) = RequireVisitor::from_request_parts(parts, state).await?;
        let caller = Caller::User {
            session: visitor.browser.caller(),
            roles: visitor.browser.user.roles.clone(),
        };
        Ok(Self { visitor, caller })
    }
}

impl Admin {
    /// Whether the visitor's roles grant `permission`.
    pub(crate) fn may(&self, state: &AppState, permission: &str) -> bool {
        self.caller.may(&state.permissions, permission)
    }

    /// The 403 page unless the visitor's roles grant `permission`.
    pub(crate) fn refusal(&self, state: &AppState, permission: &str) -> Option<Response> {
        if self.may(state, permission) {
            return None;
        }
        tracing::info!(permission, actor = %self.caller.actor_id(), "console page refused");
        Some(self.error(state, StatusCode::FORBIDDEN))
    }

    /// The 403 page unless the form carried this session's token and the
    /// visitor's roles grant `permission`.
    pub(crate) fn form_refusal(
        &self,
        state: &AppState,
        form: &super::form::PageForm,
        permission: &str,
    ) -> Option<Response> {
        super::csrf::session_form_refusal(state, &self.visitor, form, "console")
            .or_else(|| self.refusal(state, permission))
    }

    /// An error page in the visitor's layout.
    pub(crate) fn error(&self, state: &AppState, status: StatusCode) -> Response {
        error_page(state, Some(&self.visitor), status)
    }

    /// The page for a core failure that is not the visitor's doing.
    pub(crate) fn failure(&self, state: &AppState, e: &authgate_core::AuthError) -> Response {
        failure_page(state, Some(&self.visitor), e)
    }

    /// The console's navigation, with `current` marked.
    pub(crate) fn sections(&self, state: &AppState, current: &'static str) -> Sections {
        Sections {
            users: self.may(state, names::USERS_READ),
            clients: self.may(state, names::CLIENTS_WRITE),
            keys: self.may(state, names::KEYS_READ),
            audit: self.may(state, names::AUDIT_READ),
            current,
        }
    }

    /// The layout of a console page titled `title`.
    pub(crate) fn layout(&self, state: &AppState, title: &str) -> Layout {
        Layout::new(state, title, Some(&self.visitor))
    }
}

/// The console sections a visitor may see, for its navigation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sections {
    pub(crate) users: bool,
    pub(crate) clients: bool,
    pub(crate) keys: bool,
    pub(crate) audit: bool,
    /// The section shown (`home`, `users`, `clients`, `relying-parties`,
    /// `keys`, `audit`).
    pub(crate) current: &'static str,
}

impl Sections {
    /// Whether any section is visible.
    pub(crate) fn any(&self) -> bool {
        self.users || self.clients || self.keys || self.audit
    }

    /// `aria-current="page"` for the link of `section` when it is shown.
    pub(crate) fn aria(&self, section: &str) -> &'static str {
        if self.current == section {
            "page"
        } else {
            "false"
        }
    }
}

/// The console's front page.
#[derive(Template)]
#[template(path = "pages/admin.html")]
pub(crate) struct HomePage {
    pub(crate) layout: Layout,
    pub(crate) sections: Sections,
    /// The dashboard's counters, with `admin:read`.
    pub(crate) counters: Option<authgate_core::Dashboard>,
}

/// `GET /admin`: the sections the visitor may open, and the dashboard's
/// counters with `admin:read`; the 403 page when no section is theirs.
async fn home(State(state): State<AppState>, admin: Admin) -> Response {
    let sections = admin.sections(&state, "home");
    if !sees_console(&state.permissions, admin.caller.roles()) {
        return admin.error(&state, StatusCode::FORBIDDEN);
    }
    let counters = if admin.may(&state, names::ADMIN_READ) {
        let live_keys = state
            .keys
            .ring()
            .infos
            .iter()
            .filter(|k| k.state != KeyState::Expired)
            .count();
        match state.auth.dashboard(live_keys as u64).await {
            Ok(d) => Some(d),
            Err(e) => return admin.failure(&state, &e),
        }
    } else {
        None
    };
    let page = HomePage {
        layout: admin.layout(&state, "Administration"),
        sections,
        counters,
    };
    render(StatusCode::OK, &page)
}

/// A page's `?done=` notice, from a fixed set (never echoing the query).
pub(crate) fn done_notice(
    uri: &axum::http::Uri,
    known: &[(&str, &'static str)],
) -> Option<&'static str> {
    let done = super::login::query_param(uri, "done")?;
    known
        .iter()
        .find(|(key, _)| *key == done)
        .map(|(_, text)| *text)
}
