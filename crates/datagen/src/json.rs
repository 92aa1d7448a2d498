//! JSON output that looks like the fixture files, byte for byte in layout.
//!
//! Export lines use `", "` and `": "` separators and files use a one-space indent, as the fixture
//! does. Maps keep insertion order through [`Ordered`] instead of relying on `serde_json`'s
//! `preserve_order` feature, which would change map ordering for every crate of the workspace.

use std::io;

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::ser::{Formatter, PrettyFormatter, Serializer};

/// A JSON object whose keys are written in the order they were pushed.
#[derive(Debug, Clone, PartialEq)]
pub struct Ordered<K, V>(pub Vec<(K, V)>);

impl<K, V> Ordered<K, V> {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    pub fn push(&mut self, key: K, value: V) {
        self.0.push((key, value));
    }
}

impl<K, V> Default for Ordered<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Serialize, V: Serialize> Serialize for Ordered<K, V> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Single-line layout with a space after `,` and `:`.
#[derive(Debug, Clone, Copy, Default)]
struct SpacedFormatter;

impl Formatter for SpacedFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }
}

fn write_with<T: Serialize, F: Formatter>(value: &T, formatter: F) -> String {
    let mut out = Vec::new();
    let mut ser = Serializer::with_formatter(&mut out, formatter);
    // Only plain structs, strings, numbers and string-keyed maps are serialized here.
    value
        .serialize(&mut ser)
        .expect("serializing in-memory data cannot fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// One export line (without the trailing newline).
pub fn to_line<T: Serialize>(value: &T) -> String {
    write_with(value, SpacedFormatter)
}

/// A whole JSON file, indented by one space per level.
pub fn to_pretty<T: Serialize>(value: &T) -> String {
    write_with(value, PrettyFormatter::with_indent(b" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_spaced_and_keep_key_order() {
        let mut inner = Ordered::new();
        inner.push("z", vec![1, 2]);
        inner.push("a", vec![]);
        let mut outer = Ordered::new();
        outer.push("name", "Åsa");
        let line = to_line(&(outer, inner));
        assert_eq!(line, r#"[{"name": "Åsa"}, {"z": [1, 2], "a": []}]"#);
    }

    #[test]
    fn files_use_a_one_space_indent() {
        let mut o = Ordered::new();
        o.push("records", 3);
        assert_eq!(to_pretty(&o), "{\n \"records\": 3\n}");
    }
}
