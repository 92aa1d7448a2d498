//! `POST` and `PUT /v1/external_segment/metadata`: create and rename external segments.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, RawQuery, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

use super::{json_body, required, validation_failed};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::segments::{Segment, segment_px_id};
use crate::store::Sim;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetadataBody {
    external_id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    id: Option<String>,
}

/// `failIfExists` defaults to true, the usual meaning of a create; `false` makes it idempotent.
fn fail_if_exists(query: Option<&str>) -> Result<bool, ApiError> {
    let value = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == "failIfExists")
        .map(|(_, value)| value.into_owned());
    match value.as_deref() {
        None => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(ApiError::bad_request(
            "Failed to convert value of parameter 'failIfExists' to boolean",
        )),
    }
}

pub(super) async fn create(
    State(sim): State<Arc<Sim>>,
    Extension(principal): Extension<Principal>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let fail_if_exists = fail_if_exists(query.as_deref())?;
    let body: MetadataBody = json_body(&headers, &body)?;
    let mut errors = Vec::new();
    let external_id = required(body.external_id, "externalId", &mut errors);
    let name = required(body.name, "name", &mut errors);
    if !errors.is_empty() {
        return Err(validation_failed(errors));
    }

    let mut sub = sim.sub(principal.sub);
    if let Some(existing) = sub.segments.get(&external_id) {
        if fail_if_exists {
            return Err(ApiError::bad_request(format!(
                "External segment with externalId {external_id} already exists (possible duplicate)"
            )));
        }
        return Ok(Json(existing.to_json()));
    }
    let id = body
        .id
        .filter(|id| !id.trim().is_empty())
        .unwrap_or_else(|| segment_px_id(&sim.config_of(principal.sub).id, &external_id));
    if sub.segments.values().any(|segment| segment.id == id) {
        return Err(ApiError::bad_request(format!(
            "External segment with id {id} already exists (possible duplicate)"
        )));
    }
    let segment = Segment::new(id, external_id.clone(), name, body.description);
    let json = segment.to_json();
    sub.segments.insert(external_id, segment);
    Ok(Json(json))
}

/// Renames: `name` and `description` are replaced when present; `externalId` must exist.
pub(super) async fn update(
    State(sim): State<Arc<Sim>>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body: MetadataBody = json_body(&headers, &body)?;
    let mut errors = Vec::new();
    let external_id = required(body.external_id, "externalId", &mut errors);
    if body
        .name
        .as_deref()
        .is_some_and(|name| name.trim().is_empty())
    {
        errors.push("name must not be empty".into());
    }
    if !errors.is_empty() {
        return Err(validation_failed(errors));
    }

    let mut sub = sim.sub(principal.sub);
    let Some(segment) = sub.segments.get_mut(&external_id) else {
        return Err(ApiError::not_found(format!(
            "External segment was not found for parameters {{externalId={external_id}}}"
        )));
    };
    if let Some(id) = body.id.filter(|id| !id.trim().is_empty())
        && id != segment.id
    {
        return Err(ApiError::bad_request(format!(
            "id {id} does not match the segment with externalId {external_id}"
        )));
    }
    if let Some(name) = body.name {
        segment.name = name;
    }
    if let Some(description) = body.description {
        segment.description = Some(description);
    }
    Ok(Json(segment.to_json()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_if_exists_defaults_to_true_and_rejects_non_booleans() {
        assert!(fail_if_exists(None).expect("valid"));
        assert!(!fail_if_exists(Some("failIfExists=false")).expect("valid"));
        assert!(fail_if_exists(Some("failIfExists=TRUE")).expect("valid"));
        assert!(fail_if_exists(Some("failIfExists=maybe")).is_err());
    }
}
