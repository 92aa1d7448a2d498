//! Simulator configuration: the subscriptions one process hosts and their credentials and limits.
//!
//! Field names are snake_case in files. Everything but a subscription's `id` has a default, so a
//! minimal file only lists ids and credentials.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// Everything the simulator serves. Immutable once the simulator runs: `/__sim/reset` goes back to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// The PX subscriptions (tenants) hosted by this process.
    pub subscriptions: Vec<SubscriptionConfig>,
}

/// One PX subscription. Its `id` doubles as the OAuth client id, as on the real Company Details page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionConfig {
    pub id: String,
    #[serde(default)]
    pub api_keys: Vec<ApiKeyConfig>,
    /// OAuth client secrets accepted for client id == `id`; several allow testing secret rotation.
    #[serde(default)]
    pub oauth_client_secrets: Vec<String>,
    /// PX logins accepted by the password grant.
    #[serde(default)]
    pub users: Vec<LoginConfig>,
    /// Whether Gainsight support enabled external segments on this subscription.
    #[serde(default = "default_true")]
    pub feature_enabled: bool,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default = "default_token_lifetime")]
    pub token_lifetime_secs: u64,
    #[serde(default = "default_refresh_lifetime")]
    pub refresh_token_lifetime_secs: u64,
    /// Keep the change with the newest `lastQualificationTime` per (segment, identity) instead of
    /// applying changes in the order received.
    #[serde(default)]
    pub keep_newest: bool,
    /// Custom user attributes declared on the subscription (standard ones are always present).
    #[serde(default)]
    pub user_attributes: Vec<UserAttributeConfig>,
}

/// An API key and what it may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    pub key: String,
    pub permission: Permission,
}

/// PX key permissions. OAuth logins always act with `Write`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    Read,
    Write,
}

/// A PX login (e-mail and password) for the OAuth password grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginConfig {
    pub username: String,
    pub password: String,
}

/// A custom user attribute, as listed by `GET /v1/admin/model/user/attributes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserAttributeConfig {
    pub api_name: String,
    /// PX attribute type: `BOOLEAN`, `STRING`, `NUMBER` or `DATE`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// Limits enforced per subscription. A value of 0 disables that limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub per_second: u32,
    pub per_day: u64,
    /// Identities summed over all `add` and `remove` entries of one `update_membership` call.
    pub max_identities_per_call: usize,
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // The real caps on batch size are not public; these are the simulator's own defaults.
        Self {
            per_second: 200,
            per_day: 1_000_000,
            max_identities_per_call: 10_000,
            max_body_bytes: 5 * 1024 * 1024,
        }
    }
}

fn default_true() -> bool {
    true
}

fn default_token_lifetime() -> u64 {
    3600
}

fn default_refresh_lifetime() -> u64 {
    30 * 24 * 3600
}

impl SubscriptionConfig {
    /// A subscription with default limits and no credentials.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            api_keys: Vec::new(),
            oauth_client_secrets: Vec::new(),
            users: Vec::new(),
            feature_enabled: true,
            limits: Limits::default(),
            token_lifetime_secs: default_token_lifetime(),
            refresh_token_lifetime_secs: default_refresh_lifetime(),
            keep_newest: false,
            user_attributes: Vec::new(),
        }
    }

    /// The demo subscription `sub-demo` (see [`SimConfig::demo`]).
    pub fn demo() -> Self {
        let mut sub = Self::new("sub-demo");
        sub.api_keys = vec![
            ApiKeyConfig {
                key: "demo-write-key".into(),
                permission: Permission::Write,
            },
            ApiKeyConfig {
                key: "demo-read-key".into(),
                permission: Permission::Read,
            },
        ];
        sub.oauth_client_secrets = vec!["demo-client-secret".into()];
        sub.users = vec![LoginConfig {
            username: "ops@example.com".into(),
            password: "demo-password".into(),
        }];
        sub.user_attributes = vec![UserAttributeConfig {
            api_name: "pxstreamDemoAudience".into(),
            kind: "BOOLEAN".into(),
        }];
        sub
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        Self::demo()
    }
}

impl SimConfig {
    /// One subscription `sub-demo`: write key `demo-write-key`, read key `demo-read-key`, OAuth client
    /// secret `demo-client-secret`, login `ops@example.com` / `demo-password`, external segments on,
    /// and a BOOLEAN custom attribute `pxstreamDemoAudience` for the users fallback.
    pub fn demo() -> Self {
        Self {
            subscriptions: vec![SubscriptionConfig::demo()],
        }
    }

    /// Reads a `.toml` file as TOML and anything else as JSON, then validates it.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading simulator config {}", path.display()))?;
        let is_toml = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("toml"));
        let config: Self = if is_toml {
            toml::from_str(&text).with_context(|| format!("parsing TOML {}", path.display()))?
        } else {
            serde_json::from_str(&text)
                .with_context(|| format!("parsing JSON {}", path.display()))?
        };
        config.validate()?;
        Ok(config)
    }

    /// The subscription with this id, for tests that tweak the demo configuration.
    pub fn subscription_mut(&mut self, id: &str) -> Option<&mut SubscriptionConfig> {
        self.subscriptions.iter_mut().find(|sub| sub.id == id)
    }

    /// Rejects configurations that would make a request's subscription ambiguous.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.subscriptions.is_empty() {
            bail!("the simulator needs at least one subscription");
        }
        let mut ids = HashSet::new();
        let mut keys = HashSet::new();
        for sub in &self.subscriptions {
            if sub.id.is_empty() {
                bail!("a subscription id is empty");
            }
            if !ids.insert(sub.id.as_str()) {
                bail!("subscription id {} is listed twice", sub.id);
            }
            for key in &sub.api_keys {
                // The key alone attributes a request to its subscription, so keys must be unique.
                if key.key.is_empty() || !keys.insert(key.key.as_str()) {
                    bail!("subscription {} has an empty or duplicated API key", sub.id);
                }
            }
            for attr in &sub.user_attributes {
                if !matches!(attr.kind.as_str(), "BOOLEAN" | "STRING" | "NUMBER" | "DATE") {
                    bail!(
                        "attribute {} of subscription {} has unknown type {}",
                        attr.api_name,
                        sub.id,
                        attr.kind
                    );
                }
            }
        }
        Ok(())
    }
}
