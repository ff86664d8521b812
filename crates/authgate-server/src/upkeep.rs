//! The background loop of a running server: the core's periodic upkeep
//! (see [`authgate_core::Upkeep`]), the metrics recorder's own, and handing
//! the verifier any new key set.

use tokio::task::JoinHandle;

use crate::state::AppState;

/// Runs the upkeep every period (1–10 s, the refresh grace window) until
/// aborted.
pub(crate) fn spawn(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut upkeep = state.maintenance.upkeep();
        let mut tick = tokio::time::interval(upkeep.period());
        loop {
            tick.tick().await;
            // The recorder keeps every latency sample until it is folded into
            // the histograms, which only a scrape or this does: without it a
            // server nobody scrapes grows by 8 bytes a request, without bound.
            // First, so that a store stalling the steps below cannot stop it.
            if let Some(metrics) = &state.metrics {
                metrics.run_upkeep();
            }
            // Ends with the key schedule, so the verifier is handed its result.
            upkeep.run_once().await;
            state.install_verifier_keys();
        }
    })
}
