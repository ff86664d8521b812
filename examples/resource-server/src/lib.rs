//! resource-server: a small axum service that trusts a running authgate.
//!
//! Everything it knows about authgate is a [`Guard`]: the issuer, the
//! audience it answers to, and the JWKS URL (see `main.rs`). [`app`] is the
//! router alone, so tests drive it without a socket.
//!
//! Routes:
//! - `GET /healthz`, `GET /public/…`: public ([`public_routes`]); `/public/hello`
//!   greets the caller by name when a valid token is sent anyway;
//! - `GET /api/me`: any valid token; answers the token's subject and roles;
//! - `GET /api/reports`: permission `reports:read` (role `analyst`, or `admin`);
//! - `GET /api/admin`: role `admin`;
//! - `GET /bench/open` and `GET /bench/guarded`: the same tiny answer, public
//!   and behind the guard, for the load comparison (`load.sh`).

use authgate_guard::{
    Claims, Guard, GuardLayer, Permissions, Principal, PublicRoutes, RequirePermission,
    RequireRole, permission, role,
};
use authgate_proto::AccessClaims;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

role!(
    /// The administrators: `GET /api/admin`.
    pub Admin = "admin"
);

permission!(
    /// May read reports: `GET /api/reports`.
    pub ReadReports = "reports:read"
);

/// What this service's roles may do; `admin` holds everything anyway. Give
/// authgate the same table (`[roles] analyst = ["reports:read"]`) so its
/// `user grant` accepts the role.
pub fn permissions() -> Permissions {
    Permissions::new([("analyst", ["reports:read"])])
}

/// The routes anyone may call, token or not.
pub fn public_routes() -> PublicRoutes {
    PublicRoutes::new()
        .exact("GET", "/healthz")
        .prefix("GET", "/public")
        .exact("GET", "/bench/open")
}

/// The router: every route behind the guard's layer, the public ones let
/// through by [`public_routes`], the others checked further by their
/// extractors.
pub fn app(guard: Guard) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/public/hello", get(hello))
        .route("/api/me", get(me))
        .route("/api/reports", get(reports))
        .route("/api/admin", get(admin))
        .route("/bench/open", get(bench))
        .route("/bench/guarded", get(bench_guarded))
        .layer(GuardLayer::new(guard.clone()).policy(public_routes()))
        .with_state(guard)
}

/// A short JSON answer.
#[derive(Debug, Serialize)]
struct Message {
    /// What happened.
    message: String,
}

fn message(text: impl Into<String>) -> Json<Message> {
    Json(Message {
        message: text.into(),
    })
}

async fn healthz() -> Json<Message> {
    message("ok")
}

/// Public; a caller who sends a valid token anyway is greeted by subject,
/// one who sends a broken token gets 401 rather than being taken for anonymous.
async fn hello(caller: Option<Principal>) -> Json<Message> {
    match caller {
        Some(principal) => message(format!("hello, {}", principal.subject())),
        None => message("hello, stranger"),
    }
}

/// Who the token says the caller is.
#[derive(Debug, Serialize)]
struct Me {
    /// The user (or client) id.
    sub: String,
    /// The roles the token carries.
    roles: Vec<String>,
    /// The authgate session, for user tokens.
    sid: Option<String>,
}

async fn me(Claims(claims): Claims<AccessClaims>) -> Json<Me> {
    Json(Me {
        sub: claims.sub,
        roles: claims.roles,
        sid: claims.sid.map(|sid| sid.to_string()),
    })
}

async fn reports(caller: RequirePermission<ReadReports>) -> Json<Message> {
    message(format!("reports for {}", caller.subject()))
}

async fn admin(caller: RequireRole<Admin>) -> Json<Message> {
    message(format!("welcome, administrator {}", caller.subject()))
}

async fn bench() -> &'static str {
    "ok"
}

async fn bench_guarded(_caller: Principal) -> &'static str {
    "ok"
}
