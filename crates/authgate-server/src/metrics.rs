//! Metrics: what the server counts and times, served at `GET /metrics` in
//! the Prometheus text format.
//!
//! Counters and histograms go through the `metrics` facade (the domain
//! flows in authgate-core count logins, refreshes and revocations the same
//! way), recorded by one process-wide Prometheus recorder installed the
//! first time an application is built; several applications in one process
//! (tests) share it. The facade's recorder is process-global by design,
//! which is why this is the one global the server keeps. Gauges that
//! describe state (the hashing queue, the age of the signing key, audit sink
//! failures) are read when scraped.

use std::sync::OnceLock;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

/// Request latency buckets, in seconds: from a cached `/me` (tens of µs)
/// to an argon2 login under load (hundreds of ms).
const LATENCY_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// The process-wide recorder's handle, once installed.
static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the Prometheus recorder (once per process) and returns its
/// handle; `None` when another recorder was installed first, in which case
/// `/metrics` answers 503 and the other recorder gets the measurements.
pub(crate) fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&LATENCY_BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            match metrics::set_global_recorder(recorder) {
                Ok(()) => {
                    describe();
                    Some(handle)
                }
                Err(_) => {
                    tracing::warn!("another metrics recorder is installed; /metrics is off");
                    None
                }
            }
        })
        .clone()
}

/// Help texts of every series.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!("authgate_logins_total", "Login attempts by outcome.");
    describe_counter!("authgate_registrations_total", "Registrations by outcome.");
    describe_counter!(
        "authgate_refreshes_total",
        "Refresh-token exchanges by outcome."
    );
    describe_counter!(
        "authgate_refresh_reuse_detected_total",
        "Rotated refresh tokens presented again: sessions revoked as stolen."
    );
    describe_counter!(
        "authgate_revocations_total",
        "Revocations by kind (session, token)."
    );
    describe_counter!(
        "authgate_token_verifications_total",
        "Bearer token checks by outcome and reason."
    );
    describe_histogram!(
        "authgate_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "Request latency by route, method and status."
    );
    describe_gauge!(
        "authgate_password_hash_queue_depth",
        "Password hashes waiting for a free hashing slot."
    );
    describe_gauge!(
        "authgate_audit_sink_failures",
        "Audit events a sink could not write, since start."
    );
    describe_gauge!(
        "authgate_audit_dropped",
        "Audit events dropped because a sink's queue was full, since start."
    );
    describe_gauge!(
        "authgate_active_key_age_seconds",
        "Seconds since the signing key in use (label `kid`) became active."
    );
}

/// Times every request by its route pattern (never the raw path, which
/// would make one series per user id), method and status.
pub(crate) async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(request.method());
    let start = Instant::now();
    let response = next.run(request).await;
    metrics::histogram!(
        "authgate_http_request_duration_seconds",
        "route" => route,
        "method" => method,
        "status" => response.status().as_u16().to_string(),
    )
    .record(start.elapsed().as_secs_f64());
    response
}

/// The method as a label: the standard ones by name, any other as
/// `other`. HTTP allows any token as a method, so labelling by the raw
/// name would let unauthenticated clients mint series without end.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Records one Bearer check: `ok`, or the reason it was rejected.
pub(crate) fn verification(result: Result<(), &'static str>) {
    let (outcome, reason) = match result {
        Ok(()) => ("ok", "none"),
        Err(reason) => ("rejected", reason),
    };
    metrics::counter!(
        "authgate_token_verifications_total",
        "outcome" => outcome,
        "reason" => reason,
    )
    .increment(1);
}

/// `GET /metrics`: the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Counters, gauges and latency histograms in the Prometheus \
            text format (`authgate_logins_total`, `authgate_http_request_duration_seconds`, …).",
            body = String, content_type = "text/plain"),
        (status = 503, description = "`unavailable`: another metrics recorder owns the process.",
            body = authgate_proto::ErrorBody),
    ),
)]
pub(crate) async fn scrape(State(state): State<AppState>) -> Response {
    let Some(handle) = state.metrics.as_ref() else {
        return crate::error::ApiError::new(
            authgate_proto::ErrorCode::Unavailable,
            "Metrics are not available in this process.",
        )
        .into_response();
    };
    metrics::gauge!("authgate_password_hash_queue_depth")
        .set(state.auth.password_hash_queue_depth() as f64);
    for (sink, counters) in state.auth.audit_counters() {
        metrics::gauge!("authgate_audit_sink_failures", "sink" => sink.clone())
            .set(counters.failures.load(Ordering::Relaxed) as f64);
        metrics::gauge!("authgate_audit_dropped", "sink" => sink)
            .set(counters.dropped.load(Ordering::Relaxed) as f64);
    }
    let ring = state.keys.ring();
    let active = ring
        .infos
        .iter()
        .find(|k| Some(k.kid.as_str()) == ring.signing.kid());
    if let Some(key) = active
        && let Some(since) = key.activates_at.or(key.created_at)
    {
        let age = (state.clock.now() - since).as_seconds_f64().max(0.0);
        // Labelled by kid (public, in JWKS): a rotation starts a new series.
        metrics::gauge!("authgate_active_key_age_seconds", "kid" => key.kid.clone()).set(age);
    }
    let mut response = handle.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_set_share_one_label() {
        let made_up = axum::http::Method::from_bytes(b"FOO1").unwrap();
        assert_eq!(method_label(&made_up), "other");
        assert_eq!(method_label(&axum::http::Method::POST), "POST");
        assert_eq!(method_label(&axum::http::Method::CONNECT), "other");
    }
}
