//! Reading a profile attribute used as an identity source.
//!
//! Two shapes exist: XDM paths (`person.crmId`, `_tenant.pxUserId`) and Destination SDK style
//! `attributes.<name>`, whose value is `{"value": ...}`, `{}` (absent) or a bare value.

use serde_json::{Map, Value};

/// The attribute's value as an identity string, or `None` when absent, empty or not a scalar.
pub fn attribute_value(record: &Map<String, Value>, path: &str) -> Option<String> {
    let mut segments = path.split('.');
    let mut current = record.get(segments.next()?)?;
    for segment in segments {
        current = current.as_object()?.get(segment)?;
    }
    // Destination SDK wraps values: {"value": v}; an empty object means the attribute is absent.
    if let Value::Object(wrapper) = current {
        current = wrapper.get("value")?;
    }
    match current {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn an_xdm_path_reads_a_nested_value() {
        let r = record(r#"{"_tenant":{"pxUserId":"u-1"}}"#);
        assert_eq!(
            attribute_value(&r, "_tenant.pxUserId").as_deref(),
            Some("u-1")
        );
    }

    #[test]
    fn destination_sdk_attributes_come_wrapped_bare_or_empty() {
        let r = record(r#"{"attributes":{"a":{"value":"u-1"},"b":"u-2","c":{},"d":{"value":17}}}"#);
        assert_eq!(attribute_value(&r, "attributes.a").as_deref(), Some("u-1"));
        assert_eq!(attribute_value(&r, "attributes.b").as_deref(), Some("u-2"));
        assert_eq!(attribute_value(&r, "attributes.c"), None);
        assert_eq!(attribute_value(&r, "attributes.d").as_deref(), Some("17"));
        assert_eq!(attribute_value(&r, "attributes.missing"), None);
    }
}
