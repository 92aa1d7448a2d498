//! `POST /v1/external_segment/update_membership`.
//!
//! A call is validated whole before anything changes, so a 400 or 413 leaves the state untouched.
//! Then the `add` entries apply in body order, then the `remove` entries in body order (an identity
//! both added and removed in one call ends up removed). Identities need not be PX users: what PX
//! does with unknown identities is not public, and recording them keeps pipeline effects visible.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use time::OffsetDateTime;

use super::{json_body, validation_failed};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::segments::{ChangeKind, parse_qualification_time};
use crate::store::{Sim, SubRuntime};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MembershipBody {
    identity_type: Option<String>,
    add: Option<Vec<Entry>>,
    remove: Option<Vec<Entry>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    segment_id: Option<String>,
    last_qualification_time: Option<String>,
    identities: Option<Vec<String>>,
}

/// An entry that passed validation.
struct Change<'a> {
    kind: ChangeKind,
    segment: &'a str,
    raw_time: &'a str,
    time: OffsetDateTime,
    identities: &'a [String],
}

pub(super) async fn update(
    State(sim): State<Arc<Sim>>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let body: MembershipBody = json_body(&headers, &body)?;

    let max = sim.config_of(principal.sub).limits.max_identities_per_call;
    let received: usize = [&body.add, &body.remove]
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.identities.as_ref().map_or(0, Vec::len))
        .sum();
    if max != 0 && received > max {
        return Err(ApiError::too_large(format!(
            "Too many identities in one call: {received}, the limit is {max}"
        )));
    }

    let keep_newest = sim.config_of(principal.sub).keep_newest;
    let mut sub = sim.sub(principal.sub);
    let changes = validate(&body, &sub)?;
    for change in &changes {
        // Validation proved the segment exists, and the lock is held throughout.
        if let Some(segment) = sub.segments.get_mut(change.segment) {
            for identity in change.identities {
                segment.apply(
                    change.kind,
                    identity,
                    change.raw_time,
                    change.time,
                    keep_newest,
                );
            }
        }
    }
    sub.membership_changes_received += received as u64;
    Ok(StatusCode::OK)
}

fn validate<'a>(body: &'a MembershipBody, sub: &SubRuntime) -> Result<Vec<Change<'a>>, ApiError> {
    let mut errors = Vec::new();
    match body.identity_type.as_deref() {
        Some("IDENTIFY_ID" | "GLOBAL_ID") => {}
        _ => errors.push("identityType must be IDENTIFY_ID or GLOBAL_ID".to_owned()),
    }
    let lists = [
        ("add", ChangeKind::Add, &body.add),
        ("remove", ChangeKind::Remove, &body.remove),
    ];
    let mut changes = Vec::new();
    for (list_name, kind, list) in lists {
        let Some(entries) = list else {
            errors.push(format!("{list_name} is required"));
            continue;
        };
        for (i, entry) in entries.iter().enumerate() {
            let at = format!("{list_name}[{i}]");
            let segment = match entry.segment_id.as_deref() {
                Some(id) if sub.segments.contains_key(id) => Some(id),
                Some(id) if !id.is_empty() => {
                    errors.push(format!(
                        "{at}.segmentId: no external segment with externalId {id}"
                    ));
                    None
                }
                _ => {
                    errors.push(format!("{at}.segmentId must not be empty"));
                    None
                }
            };
            let raw_time = entry.last_qualification_time.as_deref().unwrap_or_default();
            let time = parse_qualification_time(raw_time);
            if time.is_none() {
                errors.push(format!(
                    "{at}.lastQualificationTime must be an ISO-8601 date-time"
                ));
            }
            let identities = match &entry.identities {
                Some(identities) => {
                    if identities.iter().any(String::is_empty) {
                        errors.push(format!("{at}.identities must not contain empty values"));
                    }
                    identities.as_slice()
                }
                None => {
                    errors.push(format!("{at}.identities is required"));
                    &[]
                }
            };
            if let (Some(segment), Some(time)) = (segment, time) {
                changes.push(Change {
                    kind,
                    segment,
                    raw_time,
                    time,
                    identities,
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(validation_failed(errors))
    }
}
