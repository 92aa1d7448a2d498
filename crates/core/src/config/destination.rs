//! PX destinations: one PX subscription each, with its region and credentials.

use serde::Deserialize;
use url::Url;

use super::ConfigError;
use crate::ids::DestinationName;
use crate::redact::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    #[default]
    Us,
    Eu,
    Us2,
}

impl Region {
    pub fn base_url(self) -> &'static str {
        match self {
            Region::Us => "https://api.aptrinsic.com",
            Region::Eu => "https://api-eu.aptrinsic.com",
            Region::Us2 => "https://api-us2.aptrinsic.com",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum IdentityType {
    #[default]
    #[serde(rename = "IDENTIFY_ID")]
    IdentifyId,
    #[serde(rename = "GLOBAL_ID")]
    GlobalId,
}

impl IdentityType {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityType::IdentifyId => "IDENTIFY_ID",
            IdentityType::GlobalId => "GLOBAL_ID",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationConfig {
    pub name: DestinationName,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub region: Region,
    /// Overrides the region's API host (a proxy, or the simulator).
    #[serde(default)]
    pub base_url: Option<Url>,
    #[serde(default, rename = "identityType", alias = "identity_type")]
    pub identity_type: IdentityType,
    pub auth: AuthConfig,
}

impl DestinationConfig {
    pub fn api_base(&self) -> String {
        match &self.base_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => self.region.base_url().to_owned(),
        }
    }

    pub(super) fn validate(&self, field: &str) -> Result<(), ConfigError> {
        if let Some(url) = &self.base_url {
            check_http_url(&format!("{field}.base_url"), url)?;
        }
        self.auth.validate(&format!("{field}.auth"))
    }
}

/// How pxstream authenticates to PX. Secret fields accept a literal or `{ env = "VAR" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthConfig {
    /// `X-APTRINSIC-API-KEY` on every call; the key needs Write permission.
    ApiKey { api_key: Secret },
    /// OAuth 2.0 password grant, as the AEP destination asks for: tokens are cached and refreshed.
    OauthPassword {
        token_url: Url,
        username: String,
        password: Secret,
        /// The PX subscription id.
        client_id: String,
        client_secret: Secret,
    },
}

impl AuthConfig {
    fn validate(&self, field: &str) -> Result<(), ConfigError> {
        match self {
            AuthConfig::ApiKey { api_key } => {
                if api_key.is_empty() {
                    return Err(ConfigError::invalid(
                        format!("{field}.api_key"),
                        "must not be empty",
                    ));
                }
            }
            AuthConfig::OauthPassword {
                token_url,
                username,
                password,
                client_id,
                client_secret,
            } => {
                check_http_url(&format!("{field}.token_url"), token_url)?;
                for (name, empty) in [
                    ("username", username.is_empty()),
                    ("password", password.is_empty()),
                    ("client_id", client_id.is_empty()),
                    ("client_secret", client_secret.is_empty()),
                ] {
                    if empty {
                        return Err(ConfigError::invalid(
                            format!("{field}.{name}"),
                            "must not be empty",
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

fn check_http_url(field: &str, url: &Url) -> Result<(), ConfigError> {
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::invalid(
            field,
            "must be an absolute http(s) URL",
        ));
    }
    Ok(())
}
