//! Id newtypes, so an audience id can never be passed where a PX user id is expected.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string was refused as an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} must not be empty")]
pub struct EmptyId {
    kind: &'static str,
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Accepts any non-empty string; the value is otherwise opaque and case-sensitive.
            pub fn new(value: impl Into<String>) -> Result<Self, EmptyId> {
                let value = value.into();
                if value.is_empty() {
                    return Err(EmptyId { kind: $kind });
                }
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = EmptyId;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// An AEP audience id: an opaque string (not always a UUID), used as the PX segment's `externalId`.
    AudienceId,
    "audience id"
);
string_id!(
    /// A PX user id (IDENTIFY_ID). Case-sensitive, and personal data: never logged in clear.
    IdentifyId,
    "IDENTIFY_ID"
);
string_id!(
    /// The configured name of a PX destination (one PX subscription and its credentials).
    DestinationName,
    "destination name"
);

// Audience ids and destination names are configuration, not personal data: safe to print.
impl fmt::Display for AudienceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for AudienceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AudienceId({})", self.0)
    }
}
impl fmt::Display for DestinationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for DestinationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DestinationName({})", self.0)
    }
}
// A user id is personal data: its Debug form is a fingerprint, so `?change` in a log line leaks nothing.
impl fmt::Debug for IdentifyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdentifyId({})", crate::fingerprint(&self.0))
    }
}

/// An identity namespace (`ECID`, `Email`, `crmId`, ...), case-folded because AEP varies the case of keys.
/// Profile attributes used as identity sources live in the `attr:<path>` namespace, path case kept.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Namespace(String);

impl Namespace {
    const ATTRIBUTE_PREFIX: &'static str = "attr:";

    pub fn new(value: impl AsRef<str>) -> Result<Self, EmptyId> {
        let value = value.as_ref().trim();
        if value.is_empty() {
            return Err(EmptyId { kind: "namespace" });
        }
        if let Some(path) = value.strip_prefix(Self::ATTRIBUTE_PREFIX) {
            return Self::attribute(path);
        }
        Ok(Self(value.to_lowercase()))
    }

    /// The namespace of values read from a profile attribute path such as `person.crmId`.
    pub fn attribute(path: &str) -> Result<Self, EmptyId> {
        if path.trim().is_empty() {
            return Err(EmptyId {
                kind: "attribute path",
            });
        }
        Ok(Self(format!("{}{}", Self::ATTRIBUTE_PREFIX, path.trim())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Namespace {
    type Error = EmptyId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}
impl From<Namespace> for String {
    fn from(ns: Namespace) -> String {
        ns.0
    }
}
impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Namespace({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_differing_only_in_case_are_equal() {
        assert_eq!(
            Namespace::new("ECID").unwrap(),
            Namespace::new("ecid").unwrap()
        );
        assert_eq!(
            Namespace::new("crmId").unwrap(),
            Namespace::new("CRMID").unwrap()
        );
    }

    #[test]
    fn attribute_namespaces_keep_the_case_of_their_path() {
        let ns = Namespace::new("attr:_tenant.pxUserId").unwrap();
        assert_eq!(ns.as_str(), "attr:_tenant.pxUserId");
    }

    #[test]
    fn empty_ids_are_refused() {
        assert!(AudienceId::new("").is_err());
        assert!(IdentifyId::new("").is_err());
        assert!(Namespace::new("  ").is_err());
    }

    #[test]
    fn an_identify_id_never_prints_in_clear() {
        let id = IdentifyId::new("dana.kim@example.org").unwrap();
        assert!(!format!("{id:?}").contains("dana"));
    }
}
