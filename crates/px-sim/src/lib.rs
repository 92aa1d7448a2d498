//! A faithful simulator of the Gainsight PX REST API, for tests, the demo and benchmarks.
//!
//! Nobody can reach the real PX, so this crate implements the project's PX contract
//! (`gainsight-px-api.md`): external segment metadata and membership, the users fallback, API-key
//! and OAuth password-grant authentication, per-subscription rate limits, PX's error bodies and
//! fault injection. It deliberately depends on no other pxstream crate, so a misreading of the
//! contract in the client cannot be mirrored here and go unnoticed. When the contract and this
//! crate disagree, the contract is right.
//!
//! # Invariants
//!
//! - Every request is attributed to a subscription by its credentials alone (API key, bearer
//!   token, OAuth client id); requests whose credentials name no subscription are answered but
//!   counted nowhere.
//! - A request that fails validation changes nothing: `update_membership` is all or nothing.
//! - Membership changes apply in the order received, `add` list then `remove` list, each in body
//!   order, whatever their `lastQualificationTime` — unless the subscription sets `keep_newest`.
//! - `members` in the state holds current members only, each with the `lastQualificationTime`
//!   string exactly as received.
//! - Faults and limits touch the PX API only; `/__sim/*` always answers.
//! - Credentials and identity values are never logged.
//!
//! # Endpoints
//!
//! PX: `POST /oauth/token`, `POST|PUT /v1/external_segment/metadata`,
//! `POST /v1/external_segment/update_membership`, `GET|PUT /v1/users/{identifyId}`,
//! `PUT /v1/users/update`, `POST /v1/users`, `GET /v1/admin/model/user/attributes`,
//! `GET /v1/admin/subscription`. Simulator: `GET /__sim/state`, `GET|POST /__sim/faults`,
//! `POST /__sim/reset`, `GET /__sim/health`.
//!
//! # Fault injection
//!
//! `POST /__sim/faults` (or [`SimHandle::set_faults`]) takes a JSON object; every field is optional:
//!
//! ```json
//! {"rate429": 0.0, "rate5xx": 0.0, "status5xx": 500, "rateHtml": 0.0, "htmlStatus": 503,
//!  "rateSlow": 0.0, "slowMs": 5000, "rateDrop": 0.0, "retryAfter": false,
//!  "tokenExpiry": false, "featureOff": false, "subscription": null, "seed": null}
//! ```
//!
//! - Rates are probabilities in `[0, 1]`, rolled independently per request: first `rateSlow`
//!   (wait `slowMs`, then go on), then `rateDrop`, `rate429`, `rate5xx` (JSON error body with
//!   status `status5xx`), `rateHtml` (a `text/html` page with status `htmlStatus`, as edge
//!   proxies answer 502/503/504); the first that hits decides the answer.
//! - A drop closes the TCP connection without writing any byte: the accepted stream carries a
//!   flag the handler sets, after which writes fail and hyper closes the socket.
//! - `retryAfter`: `false` (none, as PX documents), `true` (seconds until the limit window reopens;
//!   1 for injected faults) or a number of seconds; sent on 429 and 503 answers, whether injected
//!   or from the rate limiter.
//! - `tokenExpiry: true` expires every access token of the scope now (refresh tokens keep working);
//!   it acts once and is not stored.
//! - `featureOff: true` makes the external_segment endpoints answer 403 while the spec is in place.
//! - `subscription` scopes the spec to requests attributed to that subscription; such a spec
//!   replaces (does not add to) the global one for it. Without it the spec is the global one.
//! - `seed` reseeds the dice, for reproducible runs.
//! - Each POST replaces the spec of its scope; `{}` (or an empty body) clears it. Unknown fields
//!   are refused with 400. `GET /__sim/faults` answers `{"global": spec, "subscriptions": {..}}`.
//!
//! # Choices where the contract is silent
//!
//! - Order of checks: attribution, faults, authentication (401), rate limits (429), read-only key
//!   on a non-GET (403), external-segment feature (403), body size (413), then the endpoint.
//! - Rate limits: fixed one-second and one-day windows; every authenticated request consumes
//!   budget, token requests included; refused requests do not. A limit of 0 means none.
//! - `failIfExists` defaults to `true`; with `true` an existing `externalId` answers 400
//!   "possible duplicate", with `false` the stored object (unchanged). Segment PX ids derive from
//!   (subscription, externalId), so they are stable across resets and runs; a body `id` is used
//!   when given.
//! - `update_membership`: an unknown `segmentId`, a missing or non-ISO-8601
//!   `lastQualificationTime`, a bad `identityType` or a missing `add`/`remove` answer 400 with
//!   `subErrors`; more identities than `max_identities_per_call` (summed over both lists) or a
//!   body over `max_body_bytes` answer 413. Identities need not be PX users.
//!   `membershipChangesReceived` counts identities in accepted calls, stale or not.
//! - JSON endpoints answer 415 without a JSON content type, like PX's Spring stack.
//! - OAuth: the token endpoint answers RFC 6749 error bodies (`invalid_client` 401,
//!   `invalid_grant` 400, ...); refresh tokens rotate (each works once); access tokens carry write
//!   permission; an expired or unknown bearer token answers 401 with the login-aware message.
//! - Users: `customAttributes` must name declared custom attributes with values of their type;
//!   `PUT` requires `propertyKeys`; dates are epoch milliseconds.
//! - `/__sim/reset` clears segments, users, counters, rate windows and faults; configuration and
//!   issued tokens stay.
//! - `byEndpoint` always lists `update_membership`, `metadata`, `token`, `users`; `admin`
//!   (`/v1/admin/*`) and `other` (unknown paths) appear once used. `byStatus` counts a dropped
//!   connection as `dropped`.

mod auth;
mod config;
mod conn;
mod error;
mod faults;
mod gate;
mod inspect;
mod limits;
mod routes;
mod segments;
mod server;
mod state;
mod store;

pub use auth::API_KEY_HEADER;
pub use config::{
    ApiKeyConfig, Limits, LoginConfig, Permission, SimConfig, SubscriptionConfig,
    UserAttributeConfig,
};
pub use error::LOGIN_AWARE_MESSAGE;
pub use faults::{FaultSpec, RetryAfter};
pub use server::{SimHandle, spawn, spawn_at};
pub use state::{RequestStats, SegmentState, SimState, SubscriptionState};
