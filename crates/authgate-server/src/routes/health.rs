//! GET /healthz (the process serves) and GET /readyz (every store answers).

use std::collections::BTreeMap;
use std::time::Duration;

use authgate_proto as proto;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::state::AppState;

/// How long a store may take to answer a readiness probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub(crate) async fn healthz() -> Json<proto::HealthResponse> {
    Json(proto::HealthResponse::default())
}

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
    let response = proto::ReadyResponse::from_stores(stores);
    let status = if response.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(response))
}
