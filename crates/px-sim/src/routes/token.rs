//! `POST /oauth/token`: the RFC 6749 password and refresh-token grants. The gate has already
//! authenticated the OAuth client (client id == subscription id).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::auth::{Principal, parse_form};
use crate::error::OAuthError;
use crate::store::Sim;

pub(super) async fn issue(
    State(sim): State<Arc<Sim>>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match grant(&sim, principal, &headers, &body) {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

fn grant(
    sim: &Sim,
    principal: Principal,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, OAuthError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return Err(OAuthError::invalid_request(
            "The token request must be application/x-www-form-urlencoded",
        ));
    }
    let form = parse_form(body);
    let field = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let config = sim.config_of(principal.sub);
    let now = Instant::now();
    match field("grant_type") {
        Some("password") => {
            let (Some(username), Some(password)) = (field("username"), field("password")) else {
                return Err(OAuthError::invalid_request(
                    "username and password are required",
                ));
            };
            let known = config
                .users
                .iter()
                .any(|login| login.username == username && login.password == password);
            if !known {
                return Err(OAuthError::invalid_grant("Bad credentials"));
            }
        }
        Some("refresh_token") => {
            let Some(token) = field("refresh_token") else {
                return Err(OAuthError::invalid_request("refresh_token is required"));
            };
            if !sim.tokens().take_refresh(token, principal.sub, now) {
                return Err(OAuthError::invalid_grant("Invalid refresh token"));
            }
        }
        Some(_) => return Err(OAuthError::unsupported_grant_type()),
        None => return Err(OAuthError::invalid_request("grant_type is required")),
    }
    let issued = sim.tokens().issue(
        principal.sub,
        Duration::from_secs(config.token_lifetime_secs),
        Duration::from_secs(config.refresh_token_lifetime_secs),
        now,
    );
    let body = json!({
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "refresh_token": issued.refresh_token,
    });
    let mut response = axum::Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
