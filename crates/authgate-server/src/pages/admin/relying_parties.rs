//! The console's OpenID Connect relying parties (`clients:write`): the
//! list, registering one (a confidential client's secret shown once, on
//! the answer to the form, never again), and deleting one. The same core
//! service as `POST|GET|DELETE /admin/oidc-clients`.

use askama::Template;
use authgate_core::AuthError;
use authgate_core::oidc::OidcClientSpec;
use authgate_core::oidc::client::SUPPORTED_SCOPES;
use authgate_proto::permissions::names;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;

use super::{Admin, Sections, done_notice};
use crate::origin::RequestOrigin;
use crate::pages::form::PageForm;
use crate::pages::guard::see_other;
use crate::pages::view::{Layout, render, timestamp};
use crate::state::AppState;

/// Longest text kept in the form after an error (a name, a URI list).
const MAX_KEPT: usize = 4000;

/// One relying party in the list.
#[derive(Debug)]
pub(crate) struct RpRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) kind: &'static str,
    pub(crate) first_party: bool,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) post_logout_redirect_uris: Vec<String>,
    pub(crate) scopes: String,
    pub(crate) created: String,
}

/// A relying party just registered: its id, and the secret of a
/// confidential one, shown this once.
#[derive(Debug)]
pub(crate) struct Created {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) secret: Option<String>,
}

/// A scope checkbox of the form.
#[derive(Debug)]
pub(crate) struct ScopeBox {
    pub(crate) name: &'static str,
    pub(crate) checked: bool,
}

/// The relying parties page.
#[derive(Template)]
#[template(path = "pages/admin_relying_parties.html")]
pub(crate) struct RelyingPartiesPage {
    pub(crate) layout: Layout,
    pub(crate) sections: Sections,
    pub(crate) csrf: String,
    pub(crate) notice: Option<&'static str>,
    pub(crate) clients: Vec<RpRow>,
    /// The client registered by this request.
    pub(crate) created: Option<Created>,
    /// The form: what was typed and what was wrong.
    pub(crate) name: String,
    pub(crate) public: bool,
    pub(crate) first_party: bool,
    pub(crate) redirect_uris: String,
    pub(crate) post_logout_redirect_uris: String,
    pub(crate) scopes: Vec<ScopeBox>,
    /// `(field, message)` of the refused field.
    pub(crate) error: Option<(&'static str, String)>,
}

impl RelyingPartiesPage {
    /// The error message of `field`, if it is the refused one.
    pub(crate) fn error_of(&self, field: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

/// The page with the list as stored now, the form empty.
async fn page(state: &AppState, admin: &Admin) -> Result<RelyingPartiesPage, Response> {
    let clients = state
        .auth
        .oidc_clients()
        .await
        .map_err(|e| admin.failure(state, &e))?;
    Ok(RelyingPartiesPage {
        layout: admin.layout(state, "Relying parties"),
        sections: admin.sections(state, "relying-parties"),
        csrf: admin.visitor.csrf(),
        notice: None,
        clients: clients
            .iter()
            .map(|c| RpRow {
                id: c.id.clone(),
                name: c.name.clone(),
                kind: if c.is_confidential() {
                    "confidential"
                } else {
                    "public"
                },
                first_party: c.first_party,
                redirect_uris: c.redirect_uris.clone(),
                post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
                scopes: c.scopes.join(" "),
                created: timestamp(c.created_at),
            })
            .collect(),
        created: None,
        name: String::new(),
        public: false,
        first_party: false,
        redirect_uris: String::new(),
        post_logout_redirect_uris: String::new(),
        scopes: SUPPORTED_SCOPES
            .iter()
            .filter(|s| **s != "openid")
            .map(|s| ScopeBox {
                name: s,
                checked: false,
            })
            .collect(),
        error: None,
    })
}

/// `GET /admin/console/relying-parties`.
pub(crate) async fn list(State(state): State<AppState>, admin: Admin, uri: Uri) -> Response {
    if let Some(refused) = admin.refusal(&state, names::CLIENTS_WRITE) {
        return refused;
    }
    match page(&state, &admin).await {
        Ok(mut page) => {
            page.notice = done_notice(&uri, &[("deleted", "The relying party was deleted.")]);
            render(StatusCode::OK, &page)
        }
        Err(response) => response,
    }
}

/// The non-empty lines of a text area.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `POST /admin/console/relying-parties`: fields `csrf`, `name`, `public`,
/// `first_party`, `redirect_uris` and `post_logout_redirect_uris` (one per
/// line), one `scope:<name>` checkbox per scope. Success shows the page
/// with the secret of a confidential client, once.
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
    let (redirects, post_logout) = (
        form.text("redirect_uris"),
        form.text("post_logout_redirect_uris"),
    );
    let scopes: Vec<String> = SUPPORTED_SCOPES
        .iter()
        .filter(|s| form.get(&format!("scope:{s}")).is_some())
        .map(|s| (*s).to_owned())
        .collect();
    let spec = OidcClientSpec {
        name: name.clone(),
        public: form.get("public").is_some(),
        redirect_uris: lines(&redirects),
        post_logout_redirect_uris: lines(&post_logout),
        scopes: scopes.clone(),
        first_party: form.get("first_party").is_some(),
    };
    let (public, first_party) = (spec.public, spec.first_party);
    let outcome = state
        .auth
        .create_oidc_client(Some(&admin.caller), spec, &origin)
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
                secret: created.secret.as_ref().map(|s| s.to_string()),
            });
            return render(StatusCode::CREATED, &page);
        }
        Err(AuthError::InvalidInput { field, reason }) => {
            page.error = Some((field, reason));
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(AuthError::InsufficientScope) => return admin.error(&state, StatusCode::FORBIDDEN),
        Err(e) => return admin.failure(&state, &e),
    };
    page.name = name.chars().take(MAX_KEPT).collect();
    page.redirect_uris = redirects.chars().take(MAX_KEPT).collect();
    page.post_logout_redirect_uris = post_logout.chars().take(MAX_KEPT).collect();
    page.public = public;
    page.first_party = first_party;
    for scope in &mut page.scopes {
        scope.checked = scopes.iter().any(|s| s == scope.name);
    }
    render(status, &page)
}

/// `POST /admin/console/relying-parties/{id}/delete`.
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
        .delete_oidc_client(Some(&admin.caller), &id, &origin)
        .await
    {
        Ok(()) => see_other("/admin/console/relying-parties?done=deleted"),
        Err(AuthError::NotFound) => admin.error(&state, StatusCode::NOT_FOUND),
        Err(AuthError::InsufficientScope) => admin.error(&state, StatusCode::FORBIDDEN),
        Err(e) => admin.failure(&state, &e),
    }
}
