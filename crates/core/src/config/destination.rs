//! PX destinations: one PX subscription each, with its region and credentials.

use serde::de;
use serde::{Deserialize, Deserializer};
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
    #[serde(default, deserialize_with = "optional_url")]
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
#[serde(try_from = "RawAuth")]
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

/// `AuthConfig` as written: one flat table whose `mode` says which keys belong. Read flat rather than as a
/// serde-tagged enum so that an error inside it names its key (`auth.api_key`), not only `auth`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    mode: AuthMode,
    api_key: Option<Secret>,
    #[serde(default, deserialize_with = "optional_url")]
    token_url: Option<Url>,
    username: Option<String>,
    password: Option<Secret>,
    client_id: Option<String>,
    client_secret: Option<Secret>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum AuthMode {
    ApiKey,
    OauthPassword,
}

impl TryFrom<RawAuth> for AuthConfig {
    type Error = String;

    fn try_from(raw: RawAuth) -> Result<Self, String> {
        fn needed<T>(value: Option<T>, key: &str, mode: &str) -> Result<T, String> {
            value.ok_or_else(|| format!("mode {mode} needs {key}"))
        }
        fn unused<T>(value: &Option<T>, key: &str, mode: &str) -> Result<(), String> {
            match value {
                Some(_) => Err(format!("{key} is not used by mode {mode}")),
                None => Ok(()),
            }
        }
        match raw.mode {
            AuthMode::ApiKey => {
                let mode = "api_key";
                unused(&raw.token_url, "token_url", mode)?;
                unused(&raw.username, "username", mode)?;
                unused(&raw.password, "password", mode)?;
                unused(&raw.client_id, "client_id", mode)?;
                unused(&raw.client_secret, "client_secret", mode)?;
                Ok(AuthConfig::ApiKey {
                    api_key: needed(raw.api_key, "api_key", mode)?,
                })
            }
            AuthMode::OauthPassword => {
                let mode = "oauth_password";
                unused(&raw.api_key, "api_key", mode)?;
                Ok(AuthConfig::OauthPassword {
                    token_url: needed(raw.token_url, "token_url", mode)?,
                    username: needed(raw.username, "username", mode)?,
                    password: needed(raw.password, "password", mode)?,
                    client_id: needed(raw.client_id, "client_id", mode)?,
                    client_secret: needed(raw.client_secret, "client_secret", mode)?,
                })
            }
        }
    }
}

/// `url`'s own deserializer quotes the refused text, which may be a credential pasted into the wrong key;
/// its parse error alone says what is wrong.
fn optional_url<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Url>, D::Error> {
    let Some(text) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    Url::parse(&text)
        .map(Some)
        .map_err(|e| de::Error::custom(format!("not a URL: {e}")))
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
