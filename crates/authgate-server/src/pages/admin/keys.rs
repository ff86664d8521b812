//! The console's signing keys: every key's state and dates (`keys:read`,
//! never key material), and "rotate now" (`keys:write`).

use askama::Template;
use authgate_proto::permissions::names;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;

use super::{Admin, Sections, done_notice};
use crate::origin::RequestOrigin;
use crate::pages::form::PageForm;
use crate::pages::guard::see_other;
use crate::pages::view::{Layout, render, timestamp};
use crate::state::AppState;

/// One key in the table.
#[derive(Debug)]
pub(crate) struct KeyRow {
    pub(crate) kid: String,
    pub(crate) alg: String,
    /// `next`, `active`, `retired` or `expired`.
    pub(crate) state: String,
    pub(crate) created: String,
    pub(crate) activates: String,
    pub(crate) retires: String,
    pub(crate) expires: String,
}

/// The keys page.
#[derive(Template)]
#[template(path = "pages/admin_keys.html")]
pub(crate) struct KeysPage {
    pub(crate) layout: Layout,
    pub(crate) sections: Sections,
    pub(crate) csrf: String,
    pub(crate) notice: Option<&'static str>,
    pub(crate) keys: Vec<KeyRow>,
    /// Whether the visitor may rotate (`keys:write`).
    pub(crate) can_rotate: bool,
}

/// `GET /admin/console/keys`: newest first.
pub(crate) async fn show(State(state): State<AppState>, admin: Admin, uri: Uri) -> Response {
    if let Some(refused) = admin.refusal(&state, names::KEYS_READ) {
        return refused;
    }
    let when = |t: Option<time::OffsetDateTime>| t.map(timestamp).unwrap_or_else(|| "—".into());
    let ring = state.keys.ring();
    let keys = ring
        .infos
        .iter()
        .rev()
        .map(|k| KeyRow {
            kid: k.kid.clone(),
            alg: k.alg.clone(),
            state: serde_json::to_value(k.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            created: when(k.created_at),
            activates: when(k.activates_at),
            retires: when(k.retires_at),
            expires: when(k.expires_at),
        })
        .collect();
    let page = KeysPage {
        layout: admin.layout(&state, "Signing keys"),
        sections: admin.sections(&state, "keys"),
        csrf: admin.visitor.csrf(),
        notice: done_notice(
            &uri,
            &[(
                "rotated",
                "The keys were rotated: the next key now signs, and a new next key waits.",
            )],
        ),
        keys,
        can_rotate: admin.may(&state, names::KEYS_WRITE),
    };
    render(StatusCode::OK, &page)
}

/// `POST /admin/console/keys/rotate`: as `POST /admin/keys/rotate`, the
/// visitor recorded as the actor of `key.rotated`.
pub(crate) async fn rotate(
    State(state): State<AppState>,
    admin: Admin,
    RequestOrigin(origin): RequestOrigin,
    form: PageForm,
) -> Response {
    if let Some(refused) = admin.form_refusal(&state, &form, names::KEYS_WRITE) {
        return refused;
    }
    match state
        .rotate_keys_by(Some(&admin.caller.actor_id()), &origin)
        .await
    {
        Ok(()) => see_other("/admin/console/keys?done=rotated"),
        Err(e) => admin.failure(&state, &e),
    }
}
