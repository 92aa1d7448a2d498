//! The simulator's own interface under `/__sim` (not PX's): state, faults, reset, health.
//! It needs no credentials and is never subject to faults or limits.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::faults::FaultSpec;
use crate::state::SimState;
use crate::store::Sim;

pub(crate) fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/state", get(state))
        .route("/faults", post(set_faults).get(faults))
        .route("/reset", post(reset))
        .route("/health", get(health))
}

async fn state(State(sim): State<Arc<Sim>>) -> Json<SimState> {
    Json(sim.snapshot())
}

/// Replaces the fault spec of the body's scope; an empty body clears it. Answers the live settings.
async fn set_faults(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let spec = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(FaultSpec::default())
    } else {
        serde_json::from_slice::<FaultSpec>(&body).map_err(|err| err.to_string())
    };
    match spec.and_then(|spec| sim.set_faults(spec)) {
        Ok(()) => {
            tracing::info!("fault injection changed");
            Json(sim.faults().view()).into_response()
        }
        Err(error) => (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response(),
    }
}

async fn faults(State(sim): State<Arc<Sim>>) -> Json<serde_json::Value> {
    Json(sim.faults().view())
}

async fn reset(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.reset();
    tracing::info!("state reset");
    StatusCode::NO_CONTENT
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}
