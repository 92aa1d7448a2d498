//! The checks every PX API request goes through before its handler, in this order:
//!
//! 1. attribution: the credentials name a subscription (API key, bearer token, OAuth client id);
//!    attributed requests are counted, whatever their outcome;
//! 2. injected faults (they model the edge in front of PX, so they come before authentication);
//! 3. authentication (401);
//! 4. the subscription's rate limits (429) — every authenticated request consumes budget,
//!    token requests included, since PX counts API calls per subscription;
//! 5. permission: a read-only API key may only GET (403);
//! 6. the external-segment feature on the external_segment endpoints (403);
//! 7. the body size cap (413).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::{Authn, authenticate_api, authenticate_client, parse_form};
use crate::conn::ConnHandle;
use crate::error::ApiError;
use crate::faults::{FaultOutcome, add_retry_after, fault_response};
use crate::state::Endpoint;
use crate::store::Sim;

/// Token requests are tiny; their body is read before the subscription (and its cap) is known.
const TOKEN_BODY_CAP: usize = 64 * 1024;

pub(crate) async fn gate(State(sim): State<Arc<Sim>>, request: Request, next: Next) -> Response {
    let endpoint = Endpoint::classify(request.uri().path());
    let conn = request
        .extensions()
        .get::<ConnectInfo<ConnHandle>>()
        .map(|info| info.0.clone());
    let (parts, body) = request.into_parts();

    let (authn, early_body, body) = if endpoint == Endpoint::Token {
        let Ok(bytes) = read_body(body, TOKEN_BODY_CAP).await else {
            return ApiError::too_large("Request body too large").into_response();
        };
        let authn = authenticate_client(&sim, &parts.headers, &parse_form(&bytes));
        (authn, Some(bytes), None)
    } else {
        let authn = authenticate_api(&sim, &parts.headers, Instant::now());
        (authn, None, Some(body))
    };

    let sub = authn.subscription();
    let outcome = Outcome {
        sim: &sim,
        sub,
        endpoint,
    };
    if let Some(sub) = sub {
        sim.sub(sub).requests.record_arrival(endpoint);
    }

    let roll = {
        let sub_id = sub.map(|sub| sim.config_of(sub).id.as_str());
        sim.faults().roll(sub_id)
    };
    if let Some(delay) = roll.delay {
        tokio::time::sleep(delay).await;
    }
    match roll.outcome {
        Some(FaultOutcome::Drop) => {
            outcome.dropped();
            return cut(conn);
        }
        Some(fault) => return outcome.answer(fault_response(fault, roll.retry_after)),
        None => {}
    }

    let principal = match authn {
        Authn::Ok(principal) => principal,
        Authn::Failed { error, .. } => return outcome.answer(error),
    };
    let config = sim.config_of(principal.sub);

    let admitted = sim
        .sub(principal.sub)
        .limiter
        .try_acquire(Instant::now(), &config.limits);
    if let Err(refusal) = admitted {
        let message = if refusal.per_day {
            "Daily request limit exceeded for this subscription"
        } else {
            "Too many requests per second for this subscription"
        };
        let mut response = ApiError::new(StatusCode::TOO_MANY_REQUESTS, message).into_response();
        add_retry_after(&mut response, roll.retry_after, refusal.retry_in);
        return outcome.answer(response);
    }

    let reads_only = parts.method == Method::GET || parts.method == Method::HEAD;
    if !principal.write && !reads_only {
        let error =
            ApiError::forbidden("Access is denied: the API key does not have write permission");
        return outcome.answer(error.into_response());
    }

    if endpoint.needs_segment_feature() && !sim.feature_enabled(principal.sub) {
        let error = ApiError::forbidden(
            "External segments are not enabled for this subscription; contact Gainsight support to enable the feature",
        );
        return outcome.answer(error.into_response());
    }

    let bytes = match (early_body, body) {
        (Some(bytes), _) => bytes,
        (None, Some(body)) => {
            let cap = config.limits.max_body_bytes;
            let declared = parts
                .headers
                .get(header::CONTENT_LENGTH)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.parse::<usize>().ok());
            let over = |len: usize| cap != 0 && len > cap;
            let read = if declared.is_some_and(over) {
                Err(())
            } else {
                read_body(body, if cap == 0 { usize::MAX } else { cap }).await
            };
            match read {
                Ok(bytes) => bytes,
                Err(()) => {
                    let error = ApiError::too_large(format!(
                        "Request body exceeds the limit of {cap} bytes"
                    ));
                    return outcome.answer(error.into_response());
                }
            }
        }
        (None, None) => Bytes::new(),
    };

    let mut request = Request::from_parts(parts, Body::from(bytes));
    request.extensions_mut().insert(principal);
    outcome.answer(next.run(request).await)
}

async fn read_body(body: Body, cap: usize) -> Result<Bytes, ()> {
    axum::body::to_bytes(body, cap).await.map_err(|_| ())
}

/// Records how an attributed request ended and logs it (never with credentials or identities).
struct Outcome<'a> {
    sim: &'a Sim,
    sub: Option<usize>,
    endpoint: Endpoint,
}

impl Outcome<'_> {
    fn answer(&self, response: Response) -> Response {
        let status = response.status();
        self.record(&status.as_u16().to_string());
        tracing::debug!(
            endpoint = self.endpoint.label(),
            subscription = self.subscription_id(),
            status = status.as_u16(),
            "answered"
        );
        response
    }

    fn dropped(&self) {
        self.record("dropped");
        tracing::debug!(
            endpoint = self.endpoint.label(),
            subscription = self.subscription_id(),
            "dropped the connection"
        );
    }

    fn record(&self, outcome: &str) {
        if let Some(sub) = self.sub {
            self.sim.sub(sub).requests.record_outcome(outcome);
        }
    }

    fn subscription_id(&self) -> &str {
        self.sub
            .map(|sub| self.sim.config_of(sub).id.as_str())
            .unwrap_or("-")
    }
}

/// Cuts the connection; the response returned is never written.
fn cut(conn: Option<ConnHandle>) -> Response {
    match conn {
        Some(conn) => {
            conn.drop_connection();
            StatusCode::BAD_GATEWAY.into_response()
        }
        // Served without `DroppableListener` (e.g. a router driven in-process): a body that fails
        // makes hyper abort the connection mid-response instead.
        None => {
            let failing = futures::stream::once(async {
                tokio::time::sleep(Duration::from_millis(1)).await;
                Err::<Bytes, std::io::Error>(std::io::Error::other("dropped by fault injection"))
            });
            Response::new(Body::from_stream(failing))
        }
    }
}
