//! The users fallback path and the admin look-ups that go with it.
//!
//! Users are stored as the JSON objects they were created with, plus `createDate` and
//! `lastModifiedDate` in epoch milliseconds. `customAttributes` keys must be declared custom
//! attributes of the subscription and values must fit their type (`null` clears), so a pipeline
//! that skips the attribute check sees 400s here rather than silently "working".

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Map, Value, json};

use super::{json_body, validation_failed};
use crate::auth::Principal;
use crate::config::SubscriptionConfig;
use crate::error::ApiError;
use crate::store::Sim;

/// Standard attributes every subscription lists, with their PX types.
const STANDARD_ATTRIBUTES: &[(&str, &str, &str)] = &[
    ("identifyId", "STRING", "Identify ID"),
    ("email", "STRING", "Email"),
    ("firstName", "STRING", "First Name"),
    ("lastName", "STRING", "Last Name"),
    ("signUpDate", "DATE", "Sign Up Date"),
    ("lastSeenDate", "DATE", "Last Seen Date"),
    ("createDate", "DATE", "Create Date"),
    ("lastModifiedDate", "DATE", "Last Modified Date"),
];

fn user_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("User was not found for parameters {{id={id}}}"))
}

fn now_millis() -> i64 {
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX)
}

pub(super) async fn read(
    State(sim): State<Arc<Sim>>,
    Extension(principal): Extension<Principal>,
    Path(identify_id): Path<String>,
) -> Result<Json<Map<String, Value>>, ApiError> {
    let sub = sim.sub(principal.sub);
    sub.users
        .get(&identify_id)
        .cloned()
        .map(Json)
        .ok_or_else(|| user_not_found(&identify_id))
}

/// `POST /v1/users`: creates, never upserts.
pub(super) async fn create(
    State(sim): State<Arc<Sim>>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Map<String, Value>>), ApiError> {
    let mut user: Map<String, Value> = json_body(&headers, &body)?;
    let identify_id = match user.get("identifyId") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        _ => {
            return Err(validation_failed(vec![
                "identifyId must not be empty".into(),
            ]));
        }
    };
    check_custom_attributes(sim.config_of(principal.sub), &user)?;
    let mut sub = sim.sub(principal.sub);
    if sub.users.contains_key(&identify_id) {
        return Err(ApiError::bad_request(format!(
            "User with identifyId {identify_id} already exists (possible duplicate)"
        )));
    }
    let now = now_millis();
    user.entry("createDate").or_insert(json!(now));
    user.insert("lastModifiedDate".into(), json!(now));
    sub.users.insert(identify_id, user.clone());
    Ok((StatusCode::CREATED, Json(user)))
}

/// `PUT /v1/users/{identifyId}`, and `PUT /v1/users/update` with the id in the body (for ids that
/// do not fit in a path).
pub(super) async fn update(
    State(sim): State<Arc<Sim>>,
    Extension(principal): Extension<Principal>,
    Path(path_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let patch: Map<String, Value> = json_body(&headers, &body)?;
    let body_id = patch.get("identifyId").and_then(Value::as_str);
    let identify_id = if path_id == "update" {
        match body_id {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => {
                return Err(validation_failed(vec![
                    "identifyId must not be empty".into(),
                ]));
            }
        }
    } else {
        if body_id.is_some_and(|id| id != path_id) {
            return Err(ApiError::bad_request(
                "identifyId in the body does not match the path",
            ));
        }
        path_id
    };
    if !patch.get("propertyKeys").is_some_and(Value::is_array) {
        return Err(validation_failed(vec![
            "propertyKeys must be provided".into(),
        ]));
    }
    check_custom_attributes(sim.config_of(principal.sub), &patch)?;

    let mut sub = sim.sub(principal.sub);
    let Some(user) = sub.users.get_mut(&identify_id) else {
        return Err(user_not_found(&identify_id));
    };
    for (field, value) in patch {
        match (field.as_str(), value) {
            ("identifyId", _) => {}
            ("customAttributes", Value::Object(attributes)) => {
                let stored = user
                    .entry("customAttributes")
                    .or_insert_with(|| Value::Object(Map::new()));
                if !stored.is_object() {
                    *stored = Value::Object(Map::new());
                }
                if let Value::Object(stored) = stored {
                    stored.extend(attributes);
                }
            }
            (_, value) => {
                user.insert(field, value);
            }
        }
    }
    user.insert("lastModifiedDate".into(), json!(now_millis()));
    Ok(StatusCode::NO_CONTENT)
}

fn check_custom_attributes(
    config: &SubscriptionConfig,
    user: &Map<String, Value>,
) -> Result<(), ApiError> {
    let attributes = match user.get("customAttributes") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Object(attributes)) => attributes,
        Some(_) => {
            return Err(validation_failed(vec![
                "customAttributes must be an object".into(),
            ]));
        }
    };
    let mut errors = Vec::new();
    for (name, value) in attributes {
        let Some(declared) = config.user_attributes.iter().find(|a| &a.api_name == name) else {
            errors.push(format!("customAttributes.{name}: no such custom attribute"));
            continue;
        };
        let fits = match declared.kind.as_str() {
            "BOOLEAN" => value.is_boolean(),
            "STRING" => value.is_string(),
            "NUMBER" | "DATE" => value.is_number(),
            _ => true,
        };
        if !fits && !value.is_null() {
            errors.push(format!(
                "customAttributes.{name} must be of type {}",
                declared.kind
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(validation_failed(errors))
    }
}

/// `GET /v1/admin/model/user/attributes`: standard attributes, then the configured custom ones.
pub(super) async fn attributes(
    State(sim): State<Arc<Sim>>,
    Extension(principal): Extension<Principal>,
) -> Json<Vec<Value>> {
    let standard = STANDARD_ATTRIBUTES.iter().map(|(api_name, kind, name)| {
        json!({ "apiName": api_name, "type": kind, "name": name, "attributeType": "STANDARD" })
    });
    let custom = sim
        .config_of(principal.sub)
        .user_attributes
        .iter()
        .map(|attribute| {
            json!({
                "apiName": attribute.api_name,
                "type": attribute.kind,
                "name": attribute.api_name,
                "attributeType": "CUSTOM",
            })
        });
    Json(standard.chain(custom).collect())
}

/// `GET /v1/admin/subscription`: the id doubles as the OAuth client id.
pub(super) async fn subscription(
    State(sim): State<Arc<Sim>>,
    Extension(principal): Extension<Principal>,
) -> Json<Value> {
    let id = &sim.config_of(principal.sub).id;
    Json(json!({ "id": id, "name": id }))
}
