//! The HTTP surface: PX's endpoints behind the gate, and the simulator's own `/__sim/*`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::store::Sim;
use crate::{gate, inspect};

mod membership;
mod segments;
mod token;
mod users;

pub(crate) fn router(sim: Arc<Sim>) -> Router {
    let px = Router::new()
        .route("/oauth/token", post(token::issue))
        .route(
            "/v1/external_segment/metadata",
            post(segments::create).put(segments::update),
        )
        .route(
            "/v1/external_segment/update_membership",
            post(membership::update),
        )
        .route("/v1/users", post(users::create))
        .route(
            "/v1/users/{identify_id}",
            get(users::read).put(users::update),
        )
        .route("/v1/admin/model/user/attributes", get(users::attributes))
        .route("/v1/admin/subscription", get(users::subscription))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(sim.clone(), gate::gate))
        .with_state(sim.clone());
    Router::new()
        .nest("/__sim", inspect::router())
        .fallback_service(px)
        .with_state(sim)
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("No handler found for {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Request method '{method}' not supported"),
    )
}

/// Parses a JSON body the way PX's Spring stack does: 415 without a JSON content type, 400 when
/// the body does not fit the expected shape.
pub(crate) fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<T, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence != "application/json" && !essence.ends_with("+json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content type '{content_type}' not supported"),
        ));
    }
    serde_json::from_slice(body).map_err(|err| ApiError::malformed(&err))
}

/// A required, non-blank string field.
pub(crate) fn required(value: Option<String>, field: &str, errors: &mut Vec<String>) -> String {
    match value {
        Some(value) if !value.trim().is_empty() => value,
        _ => {
            errors.push(format!("{field} must not be empty"));
            String::new()
        }
    }
}

pub(crate) fn validation_failed(errors: Vec<String>) -> ApiError {
    ApiError::bad_request("Validation error").with_sub_errors(errors)
}
