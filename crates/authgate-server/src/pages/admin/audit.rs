//! The console's audit trail (`audit:read`): filter by kind, user (id,
//! email or username) and time range (UTC), newest first, page by page.

use askama::Template;
use authgate_core::{AuditCursor, AuditFilter, LoginName};
use authgate_proto::permissions::names;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use time::{
    OffsetDateTime, PrimitiveDateTime, format_description::FormatItem, macros::format_description,
};
use uuid::Uuid;

use super::{Admin, Sections};
use crate::pages::login::query_param;
use crate::pages::view::{Layout, render, timestamp};
use crate::state::AppState;

/// Events per page.
const PAGE: u32 = 50;
/// Longest kind or user searched for.
const MAX_FIELD: usize = 254;
/// `datetime-local`'s value, minutes (what browsers send) or seconds.
const MINUTES: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]T[hour]:[minute]");
const SECONDS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");

/// The audit kinds authgate records, offered as suggestions.
const KINDS: &[&str] = &[
    "user.registered",
    "login.succeeded",
    "login.failed",
    "login.rate_limited",
    "token.refreshed",
    "refresh.reuse_detected",
    "session.revoked",
    "logout",
    "password.change",
    "user.roles_changed",
    "user.disabled",
    "user.enabled",
    "key.rotated",
    "client.created",
    "client.deleted",
    "client.disabled",
    "client.enabled",
    "token.introspected",
];

/// One event in the table.
#[derive(Debug)]
pub(crate) struct EventRow {
    pub(crate) at: String,
    pub(crate) kind: String,
    pub(crate) user: String,
    pub(crate) actor: String,
    pub(crate) ip: String,
    pub(crate) user_agent: String,
    pub(crate) details: String,
}

/// The audit page.
#[derive(Template)]
#[template(path = "pages/admin_audit.html")]
pub(crate) struct AuditPage {
    pub(crate) layout: Layout,
    pub(crate) sections: Sections,
    pub(crate) kinds: &'static [&'static str],
    /// The filter as typed, and what was wrong with each field.
    pub(crate) kind: String,
    pub(crate) kind_error: Option<&'static str>,
    pub(crate) user: String,
    pub(crate) user_error: Option<&'static str>,
    pub(crate) from: String,
    pub(crate) from_error: Option<&'static str>,
    pub(crate) to: String,
    pub(crate) to_error: Option<&'static str>,
    pub(crate) events: Vec<EventRow>,
    /// The query of the next (older) page, when there may be one.
    pub(crate) next: Option<String>,
    /// Whether this is a later page (a link back to the newest).
    pub(crate) paged: bool,
    /// The query of the newest page of this filter.
    pub(crate) newest: String,
}

impl AuditPage {
    /// The query string of this filter, from `after` when given.
    fn query(&self, after: Option<&str>) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("kind", &self.kind),
            ("user", &self.user),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !value.is_empty() {
                query.append_pair(name, value);
            }
        }
        if let Some(after) = after {
            query.append_pair("after", after);
        }
        query.finish()
    }

    fn has_errors(&self) -> bool {
        self.kind_error.is_some()
            || self.user_error.is_some()
            || self.from_error.is_some()
            || self.to_error.is_some()
    }
}

/// `GET /admin/console/audit?kind=&user=&from=&to=&after=`.
pub(crate) async fn show(State(state): State<AppState>, admin: Admin, uri: Uri) -> Response {
    if let Some(refused) = admin.refusal(&state, names::AUDIT_READ) {
        return refused;
    }
    let field = |name: &str| -> String {
        query_param(&uri, name)
            .unwrap_or_default()
            .trim()
            .chars()
            .take(MAX_FIELD + 1)
            .collect()
    };
    let mut page = AuditPage {
        layout: admin.layout(&state, "Audit trail"),
        sections: admin.sections(&state, "audit"),
        kinds: KINDS,
        kind: field("kind"),
        kind_error: None,
        user: field("user"),
        user_error: None,
        from: field("from"),
        from_error: None,
        to: field("to"),
        to_error: None,
        events: Vec::new(),
        next: None,
        paged: false,
        newest: String::new(),
    };
    let mut filter = AuditFilter {
        limit: PAGE,
        ..AuditFilter::default()
    };
    if !page.kind.is_empty() {
        if page.kind.len() > 64 || !authgate_core::text::is_opaque_id(&page.kind) {
            page.kind_error = Some("An event kind is visible ASCII, such as login.failed.");
        } else {
            filter.kind = Some(page.kind.clone());
        }
    }
    match resolve_user(&state, &page.user).await {
        Ok(user) => filter.user_id = user,
        Err(Lookup::Invalid(why)) => page.user_error = Some(why),
        Err(Lookup::Failed(e)) => return admin.failure(&state, &e),
    }
    match parse_time(&page.from) {
        Ok(t) => filter.since = t,
        Err(()) => page.from_error = Some("Give a date and time, such as 2026-12-06T21:05."),
    }
    match parse_time(&page.to) {
        Ok(t) => filter.until = t,
        Err(()) => page.to_error = Some("Give a date and time, such as 2026-12-06T22:00."),
    }
    if let (Some(from), Some(to)) = (filter.since, filter.until)
        && to <= from
    {
        page.to_error = Some("The end must come after the start.");
    }
    if page.has_errors() {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    // A cursor that is not ours starts from the newest page.
    filter.after = query_param(&uri, "after").and_then(|c| parse_cursor(&c));
    page.paged = filter.after.is_some();
    let events = match state.auth.audit_events(&filter).await {
        Ok(events) => events,
        Err(e) => return admin.failure(&state, &e),
    };
    page.newest = page.query(None);
    if events.len() == PAGE as usize
        && let Some(last) = events.last()
    {
        let cursor = format!("{}_{}", last.at.unix_timestamp_nanos(), last.id);
        page.next = Some(page.query(Some(&cursor)));
    }
    page.events = events
        .iter()
        .map(|e| EventRow {
            at: timestamp(e.at),
            kind: e.kind.as_str().to_owned(),
            user: e.user_id.map(|u| u.to_string()).unwrap_or_default(),
            actor: e.actor_id.clone().unwrap_or_default(),
            ip: e.ip.map(|ip| ip.to_string()).unwrap_or_default(),
            user_agent: e.user_agent.clone().unwrap_or_default(),
            details: if e.details.is_empty() {
                String::new()
            } else {
                serde_json::Value::Object(e.details.clone()).to_string()
            },
        })
        .collect();
    render(StatusCode::OK, &page)
}

/// Why a user filter found nobody to filter by.
enum Lookup {
    /// The text names no user (said next to the field).
    Invalid(&'static str),
    /// The store failed.
    Failed(authgate_core::AuthError),
}

/// The user a filter names: an id as is, else an exact email or username.
async fn resolve_user(state: &AppState, text: &str) -> Result<Option<Uuid>, Lookup> {
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(id) = Uuid::parse_str(text) {
        return Ok(Some(id));
    }
    let Ok(login) = LoginName::parse("user", text) else {
        return Err(Lookup::Invalid("Give a user id, an email or a username."));
    };
    match state.auth.find_user(&login).await {
        Ok(Some(user)) => Ok(Some(user.id)),
        Ok(None) => Err(Lookup::Invalid("No user has this email or username.")),
        Err(e) => Err(Lookup::Failed(e)),
    }
}

/// A `datetime-local` value read as UTC; empty is no bound.
fn parse_time(text: &str) -> Result<Option<OffsetDateTime>, ()> {
    if text.is_empty() {
        return Ok(None);
    }
    PrimitiveDateTime::parse(text, MINUTES)
        .or_else(|_| PrimitiveDateTime::parse(text, SECONDS))
        .map(|t| Some(t.assume_utc()))
        .map_err(|_| ())
}

/// A page cursor `<unix nanoseconds>_<event id>`.
fn parse_cursor(text: &str) -> Option<AuditCursor> {
    let (nanos, id) = text.split_once('_')?;
    Some(AuditCursor {
        at: OffsetDateTime::from_unix_timestamp_nanos(nanos.parse().ok()?).ok()?,
        id: Uuid::parse_str(id).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_as_utc_minutes_or_seconds_and_nothing_else() {
        let t = parse_time("2026-12-06T21:05").unwrap().unwrap();
        assert_eq!(t.unix_timestamp(), 1_796_591_100);
        assert!(parse_time("2026-12-06T21:05:09").unwrap().is_some());
        assert_eq!(parse_time(""), Ok(None));
        for bad in ["yesterday", "2026-13-01T00:00", "2026-12-06", "21:05"] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_cursor_reads_back_and_anything_else_is_no_cursor() {
        let id = Uuid::now_v7();
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_796_591_100_123_456_000).unwrap();
        let text = format!("{}_{id}", at.unix_timestamp_nanos());
        assert_eq!(parse_cursor(&text), Some(AuditCursor { at, id }));
        for bad in ["", "1_2", "x_y", "123"] {
            assert_eq!(parse_cursor(bad), None, "{bad}");
        }
    }
}
