//! Liveness and readiness probes: `GET /healthz` and `GET /readyz`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;

/// Whether something answers: `"ok"` or `"unavailable"`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ProbeStatus {
    /// It answers.
    #[default]
    Ok,
    /// It does not answer (or answered with an error).
    Unavailable,
    /// Only as the overall `status` of `GET /readyz`: an optional store
    /// (Redis) does not answer, and the instance serves without it (from
    /// the database, with per-instance login limits): still ready.
    Degraded,
}

/// Response of `GET /healthz`: `{"status": "ok"}` while the process serves.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthResponse {
    /// Always `"ok"`: a process that can answer is alive.
    pub status: ProbeStatus,
}

/// Response of `GET /readyz`: 200 when every configured store answers,
/// else 503 — except that an optional store (Redis) that does not answer
/// makes the status `"degraded"` and the answer still 200: the instance
/// serves without it, and taking every instance out of a load balancer
/// because Redis is down would turn a slowdown into an outage.
///
/// The 503 body also carries `error` and `error_description`, so it is an
/// error body of the one shape docs/http-api.md requires, with the per-store detail
/// added:
/// `{"status": "unavailable", "stores": {"database": "ok", "redis": "unavailable"},
///   "error": "unavailable", "error_description": "not ready: redis"}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyResponse {
    /// `"ok"` when every store answers; `"degraded"` when only optional
    /// stores do not; else `"unavailable"`.
    pub status: ProbeStatus,
    /// Each configured store (`"database"`, `"redis"`) and whether it
    /// answered; stores that are not configured are not listed.
    pub stores: BTreeMap<String, ProbeStatus>,
    /// `unavailable` when not ready; left out when ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorCode>,
    /// Names the stores that failed; left out when ready. Never the cause
    /// (that goes to the log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

impl ReadyResponse {
    /// The response for these store results: ready only if all are `ok`.
    pub fn from_stores(stores: BTreeMap<String, ProbeStatus>) -> Self {
        Self::from_probes(stores, &[])
    }

    /// The response for these store results, where the stores named in
    /// `optional` may fail without making the instance unready (`degraded`).
    pub fn from_probes(stores: BTreeMap<String, ProbeStatus>, optional: &[&str]) -> Self {
        let mut response = Self {
            status: ProbeStatus::Ok,
            stores,
            error: None,
            error_description: None,
        };
        let (optional, required): (Vec<&str>, Vec<&str>) =
            response.failed().partition(|name| optional.contains(name));
        if !required.is_empty() {
            let failed = required.join(", ");
            response.status = ProbeStatus::Unavailable;
            response.error = Some(ErrorCode::Unavailable);
            response.error_description = Some(format!("not ready: {failed}"));
        } else if !optional.is_empty() {
            response.status = ProbeStatus::Degraded;
        }
        response
    }

    /// Whether the instance serves: every required store answered (the
    /// server answers 200, else 503).
    pub fn is_ready(&self) -> bool {
        self.status != ProbeStatus::Unavailable
    }

    /// The names of the stores that did not answer.
    pub fn failed(&self) -> impl Iterator<Item = &str> {
        self.stores
            .iter()
            .filter(|(_, status)| **status != ProbeStatus::Ok)
            .map(|(name, _)| name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorBody;
    use serde_json::json;

    fn stores(redis: ProbeStatus) -> BTreeMap<String, ProbeStatus> {
        BTreeMap::from([
            ("database".to_owned(), ProbeStatus::Ok),
            ("redis".to_owned(), redis),
        ])
    }

    #[test]
    fn health_is_status_ok() {
        assert_eq!(
            serde_json::to_value(HealthResponse::default()).unwrap(),
            json!({"status": "ok"})
        );
    }

    #[test]
    fn ready_when_every_store_answers() {
        let ready = ReadyResponse::from_stores(stores(ProbeStatus::Ok));
        assert!(ready.is_ready());
        assert_eq!(
            serde_json::to_value(&ready).unwrap(),
            json!({"status": "ok", "stores": {"database": "ok", "redis": "ok"}})
        );
    }

    #[test]
    fn not_ready_names_the_failed_store_and_is_an_error_body() {
        let ready = ReadyResponse::from_stores(stores(ProbeStatus::Unavailable));
        assert!(!ready.is_ready());
        assert_eq!(ready.failed().collect::<Vec<_>>(), ["redis"]);
        let value = serde_json::to_value(&ready).unwrap();
        assert_eq!(
            value,
            json!({"status": "unavailable",
                   "stores": {"database": "ok", "redis": "unavailable"},
                   "error": "unavailable", "error_description": "not ready: redis"})
        );
        let as_error: ErrorBody = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(as_error.http_status(), 503);
        assert_eq!(
            serde_json::from_value::<ReadyResponse>(value).unwrap(),
            ready
        );
    }

    #[test]
    fn an_optional_store_that_fails_degrades_but_stays_ready() {
        let degraded = ReadyResponse::from_probes(stores(ProbeStatus::Unavailable), &["redis"]);
        assert!(degraded.is_ready());
        assert_eq!(
            serde_json::to_value(&degraded).unwrap(),
            json!({"status": "degraded", "stores": {"database": "ok", "redis": "unavailable"}})
        );
        let mut both = stores(ProbeStatus::Unavailable);
        both.insert("database".into(), ProbeStatus::Unavailable);
        let down = ReadyResponse::from_probes(both, &["redis"]);
        assert!(!down.is_ready());
        assert_eq!(
            down.error_description.as_deref(),
            Some("not ready: database")
        );
    }
}
