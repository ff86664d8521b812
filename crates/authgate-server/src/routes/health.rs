//! GET /healthz (the process serves) and GET /readyz (every store answers;
//! Redis, being optional, only degrades).

use std::collections::BTreeMap;
use std::time::Duration;

use authgate_proto as proto;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::state::AppState;

/// How long a store may take to answer a readiness probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Stores the instance serves without (docs/architecture.md: if Redis is down the
/// instances fall back to the database and keep serving).
const OPTIONAL: &[&str] = &["redis"];

/// Liveness: the process serves.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "`{\"status\": \"ok\"}`.", body = proto::HealthResponse)),
)]
pub(crate) async fn healthz() -> Json<proto::HealthResponse> {
    Json(proto::HealthResponse::default())
}

/// Readiness: every configured store answers; an optional one (Redis) that
/// does not makes the answer `degraded`, still 200.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready: every configured store answered (`ok`), or all but Redis, which the instance serves without (`degraded`).", body = proto::ReadyResponse),
        (status = 503, description = "`unavailable`: a store did not answer; `stores` says which.", body = crate::openapi::schemas::NotReady),
    ),
)]
pub(crate) async fn readyz(
    State(state): State<AppState>,
) -> (StatusCode, Json<proto::ReadyResponse>) {
    let mut stores = BTreeMap::new();
    for (name, probe) in state.probes.iter() {
        let ok = matches!(
            tokio::time::timeout(PROBE_TIMEOUT, probe.ping()).await,
            Ok(Ok(()))
        );
        if !ok {
            tracing::warn!(store = name, "readiness probe failed");
        }
        let status = if ok {
            proto::ProbeStatus::Ok
        } else {
            proto::ProbeStatus::Unavailable
        };
        stores.insert((*name).to_owned(), status);
    }
    let response = proto::ReadyResponse::from_probes(stores, OPTIONAL);
    let status = if response.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(response))
}
