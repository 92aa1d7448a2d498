//! Credentials for PX calls: an API key header, or an OAuth 2.0 password grant (RFC 6749 §4.3) with a
//! cached, refreshed bearer token.
//!
//! One token serves every call until shortly before it expires; the token lock is held while a new one is
//! fetched, so concurrent callers never log in twice. Nothing here is ever logged with its value.

use std::time::{Duration, Instant};

use pxstream_core::Secret;
use pxstream_core::config::AuthConfig;
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Client, Url};
use serde::Deserialize;
use tokio::sync::Mutex;

use super::error::{Endpoint, PxError, classify_token, describe_body};
use crate::metrics;

/// Used when the token answer has no `expires_in`; a 401 still forces a refresh if the guess is long.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
/// Refresh this long before expiry at most, so a call never leaves with a token that dies on the way.
const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub(crate) enum Credentials {
    ApiKey(Secret),
    OAuth(Box<TokenSource>),
}

/// The header that authenticates one call.
#[derive(Debug, Clone)]
pub(crate) struct AuthHeader {
    pub name: HeaderName,
    pub value: HeaderValue,
    /// The bearer token used, so a 401 can invalidate exactly that one.
    pub token: Option<Secret>,
}

impl Credentials {
    pub(crate) fn new(config: &AuthConfig, http: Client) -> Self {
        match config {
            AuthConfig::ApiKey { api_key } => Credentials::ApiKey(api_key.clone()),
            AuthConfig::OauthPassword {
                token_url,
                username,
                password,
                client_id,
                client_secret,
            } => Credentials::OAuth(Box::new(TokenSource {
                http,
                token_url: token_url.clone(),
                username: username.clone(),
                password: password.clone(),
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
                state: Mutex::new(TokenState::default()),
            })),
        }
    }

    pub(crate) fn is_oauth(&self) -> bool {
        matches!(self, Credentials::OAuth(_))
    }

    /// Every credential value, for scrubbing messages.
    pub(crate) fn secrets(&self) -> Vec<String> {
        match self {
            Credentials::ApiKey(key) => vec![key.expose().to_owned()],
            Credentials::OAuth(source) => vec![
                source.password.expose().to_owned(),
                source.client_secret.expose().to_owned(),
            ],
        }
    }

    pub(crate) async fn header(&self) -> Result<AuthHeader, PxError> {
        match self {
            Credentials::ApiKey(key) => Ok(AuthHeader {
                // `X-APTRINSIC-API-KEY`; header names are case-insensitive and `from_static` wants lower case.
                name: HeaderName::from_static("x-aptrinsic-api-key"),
                value: sensitive(key.expose())?,
                token: None,
            }),
            Credentials::OAuth(source) => {
                let token = source.access_token().await?;
                Ok(AuthHeader {
                    name: reqwest::header::AUTHORIZATION,
                    value: sensitive(&format!("Bearer {}", token.expose()))?,
                    token: Some(token),
                })
            }
        }
    }

    /// Called after a 401: the next `header` fetches a new token unless someone already replaced this one.
    pub(crate) async fn invalidate(&self, used: &AuthHeader) {
        if let (Credentials::OAuth(source), Some(token)) = (self, &used.token) {
            source.invalidate(token).await;
        }
    }
}

fn sensitive(value: &str) -> Result<HeaderValue, PxError> {
    let mut header = HeaderValue::from_str(value).map_err(|_| {
        PxError::new(
            Endpoint::Token,
            None,
            pxstream_core::ErrorClass::FailFast,
            "a credential contains characters that cannot travel in an HTTP header",
        )
    })?;
    header.set_sensitive(true);
    Ok(header)
}

#[derive(Debug, Default)]
struct TokenState {
    access: Option<(Secret, Instant)>,
    refresh: Option<Secret>,
}

#[derive(Debug)]
pub(crate) struct TokenSource {
    http: Client,
    token_url: Url,
    username: String,
    password: Secret,
    client_id: String,
    client_secret: Secret,
    state: Mutex<TokenState>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
}

impl TokenSource {
    async fn access_token(&self) -> Result<Secret, PxError> {
        let mut state = self.state.lock().await;
        if let Some((token, refresh_at)) = &state.access
            && Instant::now() < *refresh_at
        {
            return Ok(token.clone());
        }
        let answer = match state.refresh.take() {
            Some(refresh) => match self
                .grant(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.expose()),
                ])
                .await
            {
                Ok(answer) => answer,
                // A refused refresh token (expired, rotated away) is not a reason to stop: log in again.
                Err(error) if error.class == pxstream_core::ErrorClass::FailFast => {
                    tracing::info!("refresh token refused, logging in again");
                    self.login().await?
                }
                Err(error) => {
                    state.refresh = Some(refresh);
                    return Err(error);
                }
            },
            None => self.login().await?,
        };
        let lifetime = answer
            .expires_in
            .map_or(DEFAULT_LIFETIME, Duration::from_secs);
        let margin = MAX_REFRESH_MARGIN.min(lifetime / 5);
        let token = Secret::new(answer.access_token);
        state.access = Some((token.clone(), Instant::now() + lifetime - margin));
        state.refresh = answer
            .refresh_token
            .filter(|t| !t.is_empty())
            .map(Secret::new);
        tracing::debug!(
            lifetime_s = lifetime.as_secs(),
            "obtained a PX access token"
        );
        Ok(token)
    }

    async fn login(&self) -> Result<TokenAnswer, PxError> {
        self.grant(&[
            ("grant_type", "password"),
            ("username", &self.username),
            ("password", self.password.expose()),
        ])
        .await
    }

    async fn invalidate(&self, rejected: &Secret) {
        let mut state = self.state.lock().await;
        if state
            .access
            .as_ref()
            .is_some_and(|(token, _)| token == rejected)
        {
            state.access = None;
        }
    }

    async fn grant(&self, form: &[(&str, &str)]) -> Result<TokenAnswer, PxError> {
        // RFC 6749 §2.3.1: client id and secret are form-encoded before they go into HTTP Basic.
        let encode =
            |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let sent = self
            .http
            .post(self.token_url.clone())
            .basic_auth(
                encode(&self.client_id),
                Some(encode(self.client_secret.expose())),
            )
            .form(form)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                metrics::px_request(Endpoint::Token, None);
                return Err(PxError::transport(Endpoint::Token, &error));
            }
        };
        let status = response.status();
        metrics::px_request(Endpoint::Token, Some(status));
        let retry_after = super::client::retry_after(response.headers());
        let content_type = super::client::content_type(response.headers());
        let body = response
            .bytes()
            .await
            .map_err(|e| PxError::transport(Endpoint::Token, &e))?;
        if !status.is_success() {
            let message = describe_body(status, content_type.as_deref(), &body);
            return Err(PxError::new(
                Endpoint::Token,
                Some(status),
                classify_token(status, retry_after),
                format!("OAuth token request refused: {message}"),
            ));
        }
        serde_json::from_slice(&body).map_err(|_| {
            PxError::new(
                Endpoint::Token,
                Some(status),
                pxstream_core::ErrorClass::FailFast,
                "the token endpoint answered 200 without an access_token: check the token URL",
            )
        })
    }
}
