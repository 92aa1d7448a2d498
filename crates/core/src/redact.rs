//! Keeping secrets and personal data out of logs, errors and metrics.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use sha2::{Digest, Sha256};

/// A short, stable, non-reversible tag for an identity value, so a log line can say "the same user again"
/// without saying who. Twelve hex digits of SHA-256 are enough to correlate and too few to matter.
pub fn fingerprint(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    hex::encode(&digest[..6])
}

/// A credential. Its `Debug` and `Display` never show the value; only `expose` does, at the point of use.
///
/// In configuration it is either a literal string or `{ env = "VAR" }`, read from the environment at load
/// time so the secret need not sit in a file.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A hand-written visitor rather than an untagged enum: its refusal names the two accepted forms
        // instead of the enum's internal name, and never quotes what was found.
        deserializer.deserialize_any(SecretVisitor)
    }
}

struct SecretVisitor;

impl<'de> Visitor<'de> for SecretVisitor {
    type Value = Secret;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"a string, or { env = "VAR" }"#)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Secret, E> {
        Ok(Secret(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Secret, E> {
        Ok(Secret(value))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Secret, A::Error> {
        let mut env: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            if key != "env" {
                return Err(de::Error::unknown_field(&key, &["env"]));
            }
            if env.is_some() {
                return Err(de::Error::duplicate_field("env"));
            }
            env = Some(map.next_value()?);
        }
        let env = env.ok_or_else(|| de::Error::missing_field("env"))?;
        // The variable's name is configuration, not the secret: safe to repeat.
        std::env::var(&env)
            .map(Secret)
            .map_err(|_| de::Error::custom(format!("environment variable {env} is not set")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints_its_value() {
        let secret = Secret::new("hunter2");
        assert!(!format!("{secret:?} {secret}").contains("hunter2"));
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn a_fingerprint_is_stable_and_hides_the_value() {
        assert_eq!(fingerprint("CRM-1"), fingerprint("CRM-1"));
        assert_ne!(fingerprint("CRM-1"), fingerprint("CRM-2"));
        assert_eq!(fingerprint("CRM-1").len(), 12);
    }

    #[test]
    fn a_secret_can_come_from_the_environment() {
        // SAFETY of the test: a variable name no other test uses.
        let name = "PXSTREAM_TEST_SECRET_FROM_ENV";
        // Edition 2024 marks set_var unsafe; read a variable the process already has instead.
        let path = std::env::var("PATH").unwrap();
        let secret: Secret = serde_json::from_str(r#"{"env":"PATH"}"#).unwrap();
        assert_eq!(secret.expose(), path);
        let missing: Result<Secret, _> = serde_json::from_str(&format!(r#"{{"env":"{name}"}}"#));
        assert!(missing.unwrap_err().to_string().contains(name));
    }

    #[test]
    fn a_secret_of_the_wrong_type_names_both_accepted_forms() {
        let message = serde_json::from_str::<Secret>("4242")
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(r#"a string, or { env = "VAR" }"#),
            "{message}"
        );
        let message = serde_json::from_str::<Secret>(r#"{"var":"PATH"}"#)
            .unwrap_err()
            .to_string();
        assert!(message.contains("env"), "{message}");
    }
}
