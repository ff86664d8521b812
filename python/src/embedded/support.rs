//! What embedded auth's methods share: JSON out, the caller's origin,
//! the server's upkeep loop, and Bearer verification as the server does it.

use std::net::IpAddr;

use authgate_core::{Origin, SessionCaller};
use authgate_guard::{GuardError, Principal};
use authgate_jwt::Error as JwtError;
use authgate_server::AppState;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde::Serialize;
use tokio::task::JoinHandle;

use crate::errors::guard_error;

/// JSON text of a wire value.
pub(super) fn to_json<T: Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value)
        .map_err(|_| PyValueError::new_err("the value could not be serialised"))
}

/// Whole seconds of a token lifetime, as the API writes them.
pub(super) fn seconds(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// The origin of a call: the caller's address and user agent, for sessions and audit.
pub(super) fn origin(ip: Option<&str>, user_agent: Option<&str>) -> PyResult<Origin> {
    let ip = ip
        .map(|text| {
            text.parse::<IpAddr>()
                .map_err(|_| PyValueError::new_err("ip must be an IPv4 or IPv6 address"))
        })
        .transpose()?;
    Ok(Origin::new(ip, user_agent))
}

/// Runs the server's periodic upkeep (its `upkeep.rs` loop): the key
/// schedule (rotation, retirement) handed to the verifier, and purges.
pub(super) fn spawn_upkeep(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut upkeep = state.maintenance.upkeep();
        let mut tick = tokio::time::interval(upkeep.period());
        loop {
            tick.tick().await;
            upkeep.run_once().await;
            state.sync_keys().await;
        }
    })
}

/// Verifies an access token as the server does: the verifier, reloading
/// the keys once when the token names a key id it does not hold.
pub(super) async fn verify(state: &AppState, token: &str) -> Result<Principal, GuardError> {
    match state.verifier.verify_token(token, state.clock.unix()) {
        Err(GuardError::InvalidToken(JwtError::UnknownKey)) => {
            state.sync_keys().await;
            state.verifier.verify_token(token, state.clock.unix())
        }
        other => other,
    }
}

/// The session behind a verified access token, refusing revoked sessions
/// and tokens that are not a user's (client tokens).
pub(super) async fn session_caller(
    state: &AppState,
    token: &str,
) -> PyResult<(Principal, SessionCaller)> {
    let principal = verify(state, token).await.map_err(guard_error)?;
    match state.auth.authenticate(principal.claims()).await {
        Some(caller) => Ok((principal, caller)),
        None => Err(guard_error(GuardError::Inactive)),
    }
}
