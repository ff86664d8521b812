//! `GET /account` and its forms: who you are, the access token this
//! browser login was issued, your sessions (revoke one, log out
//! everywhere), and your last 20 audit events.

use askama::Template;
use authgate_core::{AuthError, LogoutScope};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use uuid::Uuid;

use super::cookies::{self, Jar};
use super::form::PageForm;
use super::guard::{RequireVisitor, Visitor, see_other};
use super::view::{Layout, error_page, failure_page, human_seconds, render, timestamp};
use crate::origin::RequestOrigin;
use crate::state::AppState;

/// Audit events shown.
const EVENTS: u32 = 20;

/// The account page.
#[derive(Template)]
#[template(path = "pages/account.html")]
pub(crate) struct AccountPage {
    pub(crate) layout: Layout,
    /// This session's form token.
    pub(crate) csrf: String,
    /// A notice after an action.
    pub(crate) notice: Option<&'static str>,
    pub(crate) email: String,
    /// Whether the address is verified (a badge beside it).
    pub(crate) email_verified: bool,
    pub(crate) username: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) roles: Vec<String>,
    pub(crate) member_since: String,
    /// The access token this browser login was issued, if known here.
    pub(crate) token: Option<TokenView>,
    pub(crate) sessions: Vec<SessionView>,
    pub(crate) events: Vec<EventView>,
    /// The change-password form.
    pub(crate) pw: super::password::PasswordForm,
    /// The second factor's state (its page is `/account/mfa`).
    pub(crate) mfa: authgate_core::MfaState,
}

/// An access token's claims, decoded.
#[derive(Debug)]
pub(crate) struct TokenView {
    /// Claim name → value as text, in the token's order.
    pub(crate) claims: Vec<(&'static str, String)>,
    /// Whether it has not expired.
    pub(crate) valid: bool,
    /// Time left, or since it expired.
    pub(crate) time_left: String,
    /// Expiry as unix seconds, for the script's live countdown.
    pub(crate) exp: i64,
}

/// One session in the list.
#[derive(Debug)]
pub(crate) struct SessionView {
    pub(crate) id: String,
    pub(crate) current: bool,
    pub(crate) created: String,
    pub(crate) last_used: String,
    pub(crate) ip: String,
    pub(crate) user_agent: String,
}

/// One audit event in the list.
#[derive(Debug)]
pub(crate) struct EventView {
    pub(crate) at: String,
    pub(crate) what: String,
    pub(crate) ip: String,
    pub(crate) user_agent: String,
}

/// `GET /account`.
pub(crate) async fn show(
    State(state): State<AppState>,
    RequireVisitor(visitor): RequireVisitor,
    uri: axum::http::Uri,
) -> Response {
    let who = visitor.browser.caller();
    // The newest sessions, as many as one page of `GET /auth/sessions`
    // holds, and the latest events: one read of the store, kept for a
    // second while nothing about this user happens here (see
    // `AuthService::account_overview`).
    let limit = authgate_proto::SessionsQuery::MAX_LIMIT;
    let overview = match state.auth.account_overview(&who, limit, EVENTS).await {
        Ok(overview) => overview,
        Err(e) => return failure_page(&state, Some(&visitor), &e),
    };
    let mfa = overview.mfa;
    let now = state.clock.now();
    let (sessions, events) = (&overview.sessions, &overview.events);
    let user = &visitor.browser.user;
    let notice = match super::login::query_param(&uri, "done").as_deref() {
        Some("revoked") => Some("The session was ended."),
        Some("password") => Some("Your password was changed and your other sessions were ended."),
        Some("email") => Some(super::email_change::SENT),
        _ => None,
    };
    let page = AccountPage {
        layout: Layout::new(&state, "Your account", Some(&visitor)),
        csrf: visitor.csrf(),
        notice,
        email: user.email.clone(),
        email_verified: user.email_verified_at.is_some(),
        username: user.username.clone(),
        name: user.name.clone(),
        roles: user.roles.clone(),
        member_since: timestamp(user.created_at),
        token: token_view(&state, &visitor),
        sessions: sessions
            .iter()
            .filter(|s| s.is_live(now))
            .map(|s| SessionView {
                id: s.id.to_string(),
                current: s.id == visitor.browser.session.id,
                created: timestamp(s.created_at),
                last_used: timestamp(s.last_used_at),
                ip: s.ip.clone().unwrap_or_else(|| "unknown".into()),
                user_agent: s.user_agent.clone().unwrap_or_else(|| "unknown".into()),
            })
            .collect(),
        events: events
            .iter()
            .map(|e| EventView {
                at: timestamp(e.at),
                what: describe(e),
                ip: e.ip.map_or_else(|| "—".into(), |ip| ip.to_string()),
                user_agent: e.user_agent.clone().unwrap_or_else(|| "—".into()),
            })
            .collect(),
        pw: super::password::PasswordForm::new(&state),
        mfa,
    };
    render(StatusCode::OK, &page)
}

/// The claims of the token this browser login was issued, with its state now.
fn token_view(state: &AppState, visitor: &Visitor) -> Option<TokenView> {
    let claims = state.web.claims.get(&visitor.browser.session.id)?;
    let now = state.clock.unix();
    let left = claims.exp - now;
    let when = |unix: i64| {
        time::OffsetDateTime::from_unix_timestamp(unix)
            .map(timestamp)
            .unwrap_or_else(|_| unix.to_string())
    };
    let aud = serde_json::to_value(&claims.aud)
        .map(|v| match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        })
        .unwrap_or_default();
    Some(TokenView {
        claims: vec![
            ("iss", claims.iss.clone()),
            ("sub", claims.sub.clone()),
            ("aud", aud),
            ("iat", format!("{} ({})", claims.iat, when(claims.iat))),
            ("nbf", format!("{} ({})", claims.nbf, when(claims.nbf))),
            ("exp", format!("{} ({})", claims.exp, when(claims.exp))),
            ("jti", claims.jti.clone()),
            ("sid", claims.sid.map(|s| s.to_string()).unwrap_or_default()),
            ("roles", claims.roles.join(", ")),
        ],
        valid: left > 0,
        time_left: if left > 0 {
            format!("{} left", human_seconds(left))
        } else {
            format!("expired {} ago", human_seconds(-left))
        },
        exp: claims.exp,
    })
}

/// An audit event in words.
fn describe(e: &authgate_proto::AuditEvent) -> String {
    let reason = e
        .details
        .get("reason")
        .and_then(|r| r.as_str())
        .unwrap_or_default();
    let what = match e.kind.as_str() {
        "user.registered" => "Account created",
        "login.succeeded" => "Logged in",
        "login.failed" => "Failed login",
        "login.rate_limited" => "Login attempts limited",
        "logout" => "Logged out",
        "session.revoked" if reason == "idle" => "Session ended after inactivity",
        "session.revoked" => "Session ended",
        "token.refreshed" => "Token refreshed",
        "refresh.reuse_detected" => "Refresh token reuse detected; session ended",
        "user.roles_changed" => "Roles changed",
        "user.disabled" => "Account disabled",
        "user.enabled" => "Account enabled",
        "user.password_changed" | "password.change" => "Password changed",
        "password.reset_requested" => "Password reset link asked for",
        "password.reset" => "Password reset through the emailed link",
        "email.verification_requested" => "Confirmation link sent",
        "email.verified" => "Email address confirmed",
        "mfa.enabled" => "Two-factor authentication turned on",
        "mfa.disabled" => "Two-factor authentication turned off",
        "mfa.reset" => "Two-factor authentication reset by an administrator",
        "mfa.recovery_code_used" => "Recovery code used",
        other => other,
    };
    match e.kind.as_str() {
        "user.roles_changed" => {
            let roles = e
                .details
                .get("roles")
                .and_then(|r| r.as_array())
                .map(|roles| {
                    roles
                        .iter()
                        .filter_map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            format!("{what}: {roles}")
        }
        _ => what.to_owned(),
    }
}

/// `POST /account/sessions/{id}/revoke`: ends another of your sessions.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    RequireVisitor(visitor): RequireVisitor,
    RequestOrigin(origin): RequestOrigin,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    form: PageForm,
) -> Response {
    if let Some(refused) = super::csrf::session_form_refusal(&state, &visitor, &form, "revoke") {
        return refused;
    }
    let Some(sid) = path.ok().and_then(|Path(id)| Uuid::parse_str(&id).ok()) else {
        return error_page(&state, Some(&visitor), StatusCode::NOT_FOUND);
    };
    match state
        .auth
        .revoke_own_session(&visitor.browser.caller(), sid, &origin)
        .await
    {
        Ok(()) => {
            state.web.claims.remove(&sid);
            see_other("/account?done=revoked")
        }
        Err(AuthError::NotFound) => error_page(&state, Some(&visitor), StatusCode::NOT_FOUND),
        Err(e) => failure_page(&state, Some(&visitor), &e),
    }
}

/// `POST /account/logout-everywhere`: ends every session of yours, this one too.
pub(crate) async fn logout_everywhere(
    State(state): State<AppState>,
    RequireVisitor(visitor): RequireVisitor,
    RequestOrigin(origin): RequestOrigin,
    form: PageForm,
) -> Response {
    if let Some(refused) =
        super::csrf::session_form_refusal(&state, &visitor, &form, "logout everywhere")
    {
        return refused;
    }
    if let Err(e) = state
        .auth
        .logout(&visitor.browser.caller(), LogoutScope::All, &origin)
        .await
    {
        return failure_page(&state, Some(&visitor), &e);
    }
    state.web.claims.remove(&visitor.browser.session.id);
    let mut response = see_other("/login");
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookies::clear(&state.web, Jar::Session));
    response
}
