//! Writes the pxstream configuration file a stack's services share.

use std::path::Path;

use pxstream_core::config::ActivationFile;
use serde_json::json;

/// Loopback endpoints of one stack.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub bootstrap: String,
    pub px_base_url: String,
    pub mapping_grpc: u16,
    pub mapping_admin: u16,
    pub ingest_admin: u16,
    pub delivery_admin: u16,
}

/// How the stack's delivery authenticates to the simulator's demo subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DemoAuth {
    #[default]
    ApiKey,
    OauthPassword,
}

pub fn render(
    activation: &ActivationFile,
    endpoints: &Endpoints,
    auth: DemoAuth,
    data_dir: &Path,
) -> anyhow::Result<String> {
    let auth = match auth {
        DemoAuth::ApiKey => json!({"mode": "api_key", "api_key": "demo-write-key"}),
        DemoAuth::OauthPassword => json!({
            "mode": "oauth_password",
            "token_url": format!("{}/oauth/token", endpoints.px_base_url),
            "username": "ops@example.com",
            "password": "demo-password",
            "client_id": "sub-demo",
            "client_secret": "demo-client-secret",
        }),
    };
    let activated = activation.to_activation();
    let audiences: Vec<_> = activated
        .audiences
        .iter()
        .map(|a| json!({"id": a.id.as_str(), "name": a.name, "description": a.description}))
        .collect();
    let source = match &activated.mapping.source {
        pxstream_core::config::MappingSource::Namespace(ns) => json!({"namespace": ns.as_str()}),
        pxstream_core::config::MappingSource::Attribute(path) => json!({"attribute": path}),
    };
    let store = |name: &str| format!("sqlite://{}", data_dir.join(name).display());
    let config = json!({
        "kafka": {"bootstrap_servers": endpoints.bootstrap},
        "ingest": {
            "admin_listen": format!("127.0.0.1:{}", endpoints.ingest_admin),
            "session_timeout_ms": 6000,
        },
        "mapping": {
            "listen": format!("127.0.0.1:{}", endpoints.mapping_grpc),
            "endpoint": format!("http://127.0.0.1:{}", endpoints.mapping_grpc),
            "admin_listen": format!("127.0.0.1:{}", endpoints.mapping_admin),
            "store": store("mapping.db"),
            // Short, so a change released to an ingest that then crashed is offered again quickly.
            "release_lease_ms": 3000,
        },
        "delivery": {
            "admin_listen": format!("127.0.0.1:{}", endpoints.delivery_admin),
            "store": store("delivery.db"),
            "session_timeout_ms": 6000,
        },
        "telemetry": {"log_format": "pretty", "log_filter": "info"},
        "destinations": [{
            "name": activated.destination.as_str(),
            "description": activation.destination.description,
            "base_url": endpoints.px_base_url,
            "auth": auth,
        }],
        "activations": [{
            "destination": activated.destination.as_str(),
            "mapping": {"source": source, "target": activated.mapping.target},
            "audiences": audiences,
        }],
    });
    Ok(toml::to_string(&config)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rendered_file_is_a_valid_configuration() {
        let activation = ActivationFile::from_json(include_str!(
            "../../../tests/fixtures/small/activation.json"
        ))
        .unwrap();
        let endpoints = Endpoints {
            bootstrap: "127.0.0.1:9092".into(),
            px_base_url: "http://127.0.0.1:8080".into(),
            mapping_grpc: 1,
            mapping_admin: 2,
            ingest_admin: 3,
            delivery_admin: 4,
        };
        for auth in [DemoAuth::ApiKey, DemoAuth::OauthPassword] {
            let text = render(&activation, &endpoints, auth, Path::new("data")).unwrap();
            let config = pxstream_core::config::Config::from_toml_str(&text).unwrap();
            assert_eq!(config.activations[0].audiences.len(), 8);
            assert_eq!(config.destinations[0].api_base(), "http://127.0.0.1:8080");
        }
    }
}
