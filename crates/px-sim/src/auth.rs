//! Credentials: API keys, OAuth tokens and client authentication. Nothing here is ever logged.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::config::Permission;
use crate::error::{ApiError, OAuthError};
use crate::store::Sim;

pub const API_KEY_HEADER: &str = "X-APTRINSIC-API-KEY";

/// Who is calling: the subscription (index into the configuration) and whether it may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Principal {
    pub sub: usize,
    pub write: bool,
}

/// The verdict on a request's credentials. A failed request is still attributed to a subscription
/// when its credentials name one (an expired token, a known client id), so it shows in the counts.
#[derive(Debug)]
pub(crate) enum Authn {
    Ok(Principal),
    Failed { sub: Option<usize>, error: Response },
}

impl Authn {
    pub(crate) fn subscription(&self) -> Option<usize> {
        match self {
            Self::Ok(principal) => Some(principal.sub),
            Self::Failed { sub, .. } => *sub,
        }
    }
}

/// Authenticates a REST API call by `X-APTRINSIC-API-KEY` (preferred when both are sent) or bearer token.
pub(crate) fn authenticate_api(sim: &Sim, headers: &HeaderMap, now: Instant) -> Authn {
    if let Some(key) = headers.get(API_KEY_HEADER) {
        return match key.to_str().ok().and_then(|key| sim.api_key(key)) {
            Some((sub, permission)) => Authn::Ok(Principal {
                sub,
                write: permission == Permission::Write,
            }),
            None => failed(None, ApiError::unauthorized("invalid API key")),
        };
    }
    let Some(token) = bearer(headers) else {
        return failed(None, ApiError::unauthorized("no API key or bearer token"));
    };
    match sim.tokens().check_access(token, now) {
        TokenCheck::Valid(sub) => Authn::Ok(Principal { sub, write: true }),
        TokenCheck::Expired(sub) => failed(Some(sub), invalid_token("access token expired")),
        TokenCheck::Unknown => failed(None, invalid_token("invalid access token")),
    }
}

/// Authenticates the OAuth client of a token request: HTTP Basic, or `client_id`/`client_secret`
/// form fields (RFC 6749 §2.3.1 allows both).
pub(crate) fn authenticate_client(
    sim: &Sim,
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Authn {
    let from_basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(basic_credentials);
    let (client_id, secret) = from_basic.unwrap_or_else(|| {
        let field = |name: &str| {
            form.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
                .unwrap_or_default()
        };
        (field("client_id"), field("client_secret"))
    });
    let Some(sub) = sim.subscription_index(&client_id) else {
        return Authn::Failed {
            sub: None,
            error: OAuthError::invalid_client().into_response(),
        };
    };
    if sim.config_of(sub).oauth_client_secrets.contains(&secret) {
        Authn::Ok(Principal { sub, write: true })
    } else {
        Authn::Failed {
            sub: Some(sub),
            error: OAuthError::invalid_client().into_response(),
        }
    }
}

/// Decodes an `application/x-www-form-urlencoded` body.
pub(crate) fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn failed(sub: Option<usize>, error: ApiError) -> Authn {
    Authn::Failed {
        sub,
        error: error.into_response(),
    }
}

fn invalid_token(detail: &str) -> ApiError {
    ApiError::unauthorized(detail).with_header(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    )
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

fn basic_credentials(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    let unescape = |part: &str| {
        url::form_urlencoded::parse(format!("x={part}").as_bytes())
            .next()
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

/// The state of a presented access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenCheck {
    Valid(usize),
    Expired(usize),
    Unknown,
}

#[derive(Debug, Clone, Copy)]
struct TokenEntry {
    sub: usize,
    expires_at: Instant,
}

/// Tokens handed out by the password and refresh grants.
#[derive(Debug, Default)]
pub(crate) struct TokenStore {
    access: HashMap<String, TokenEntry>,
    refresh: HashMap<String, TokenEntry>,
}

/// A freshly issued token pair.
#[derive(Debug, Clone)]
pub(crate) struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

/// Entries this long past expiry are forgotten (then a request with them is simply unattributed).
const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

impl TokenStore {
    pub(crate) fn issue(
        &mut self,
        sub: usize,
        lifetime: Duration,
        refresh_lifetime: Duration,
        now: Instant,
    ) -> IssuedTokens {
        self.forget_stale(now);
        let access_token = random_token();
        let refresh_token = random_token();
        self.access.insert(
            access_token.clone(),
            TokenEntry {
                sub,
                expires_at: now + lifetime,
            },
        );
        self.refresh.insert(
            refresh_token.clone(),
            TokenEntry {
                sub,
                expires_at: now + refresh_lifetime,
            },
        );
        IssuedTokens {
            access_token,
            refresh_token,
            expires_in: lifetime.as_secs(),
        }
    }

    pub(crate) fn check_access(&self, token: &str, now: Instant) -> TokenCheck {
        match self.access.get(token) {
            Some(entry) if now < entry.expires_at => TokenCheck::Valid(entry.sub),
            Some(entry) => TokenCheck::Expired(entry.sub),
            None => TokenCheck::Unknown,
        }
    }

    /// Consumes a refresh token: refresh tokens rotate, so each one works once.
    pub(crate) fn take_refresh(&mut self, token: &str, sub: usize, now: Instant) -> bool {
        match self.refresh.get(token) {
            Some(entry) if entry.sub == sub && now < entry.expires_at => {
                self.refresh.remove(token);
                true
            }
            _ => false,
        }
    }

    /// Expires the access tokens of one subscription, or of all when `sub` is `None`.
    pub(crate) fn expire_access(&mut self, sub: Option<usize>, now: Instant) {
        for entry in self.access.values_mut() {
            if sub.is_none_or(|sub| entry.sub == sub) && entry.expires_at > now {
                entry.expires_at = now;
            }
        }
    }

    fn forget_stale(&mut self, now: Instant) {
        let keep =
            |entry: &mut TokenEntry| now.saturating_duration_since(entry.expires_at) < FORGET_AFTER;
        self.access.retain(|_, entry| keep(entry));
        self.refresh.retain(|_, entry| keep(entry));
    }
}

fn random_token() -> String {
    hex::encode(rand::random::<[u8; 24]>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_decoded_and_unescaped() {
        let value = format!("Basic {}", STANDARD.encode("sub%2Done:s%3Acret"));
        assert_eq!(
            basic_credentials(&value),
            Some(("sub-one".to_owned(), "s:cret".to_owned()))
        );
        assert_eq!(basic_credentials("Bearer abc"), None);
    }

    #[test]
    fn refresh_tokens_work_once_and_only_for_their_subscription() {
        let mut store = TokenStore::default();
        let now = Instant::now();
        let hour = Duration::from_secs(3600);
        let issued = store.issue(0, hour, hour, now);
        assert!(!store.take_refresh(&issued.refresh_token, 1, now));
        assert!(store.take_refresh(&issued.refresh_token, 0, now));
        assert!(!store.take_refresh(&issued.refresh_token, 0, now));
    }

    #[test]
    fn expiring_access_tokens_keeps_them_attributable() {
        let mut store = TokenStore::default();
        let now = Instant::now();
        let hour = Duration::from_secs(3600);
        let issued = store.issue(3, hour, hour, now);
        assert_eq!(
            store.check_access(&issued.access_token, now),
            TokenCheck::Valid(3)
        );
        store.expire_access(None, now);
        assert_eq!(
            store.check_access(&issued.access_token, now),
            TokenCheck::Expired(3)
        );
    }
}
