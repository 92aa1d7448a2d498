//! Configuration errors. Each names the field and the form expected there, never the offending value: a
//! secret pasted into the wrong key must not reach a terminal or a log through the message that refuses it.

use figment::error::{Actual, Kind};

/// A configuration (or activation file) that cannot be used. Nothing will run until an operator fixes it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Parse(String),
    #[error("configuration: {field}: {problem}")]
    Invalid { field: String, problem: String },
    /// The `activation.json` format; the message starts with the field path inside that file.
    #[error("activation file: {0}")]
    ActivationFile(String),
}

impl ConfigError {
    pub(crate) fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        ConfigError::Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl crate::Classify for ConfigError {
    fn class(&self) -> crate::ErrorClass {
        crate::ErrorClass::FailFast
    }
}

/// `parent.name`, or `name` at the top of a document.
pub(crate) fn child(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

/// Every problem figment found, each as `field: problem`, joined by `; `.
pub(crate) fn describe_figment_error(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| {
            let mut segments = e.path.as_slice();
            // Figment appends an unknown key to the path; whether it may be shown is decided below.
            if let (Kind::UnknownField(key, _), [parent @ .., last]) = (&e.kind, segments)
                && last == key
            {
                segments = parent;
            }
            let (field, problem) = describe_kind(field_path(segments), &e.kind);
            if field.is_empty() {
                problem
            } else {
                format!("{field}: {problem}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Figment's path holds list indexes as plain segments: `destinations.0.auth` is written
/// `destinations[0].auth`, the form the validation messages use.
fn field_path(segments: &[String]) -> String {
    let mut path = String::new();
    for segment in segments {
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            path.push_str(&format!("[{segment}]"));
        } else {
            path = child(&path, segment);
        }
    }
    path
}

fn describe_kind(path: String, kind: &Kind) -> (String, String) {
    match kind {
        Kind::MissingField(name) => (child(&path, name), "is missing".into()),
        Kind::DuplicateField(name) => (child(&path, name), "is given twice".into()),
        Kind::UnknownField(key, expected) => {
            let problem = format!("unknown key, expected {}", one_of(expected));
            // A key is the user's text too, but a typo'd key is what they need to see; only a key shaped
            // like an identifier is repeated.
            if looks_like_key(key) {
                (child(&path, key), problem)
            } else {
                (path, problem)
            }
        }
        Kind::UnknownVariant(_, expected) => (
            path,
            format!("unknown value, expected {}", one_of(expected)),
        ),
        Kind::InvalidType(actual, expected) => (
            path,
            format!("expected {expected}, found {}", actual_kind(actual)),
        ),
        Kind::InvalidValue(_, expected) => (path, format!("invalid value, expected {expected}")),
        Kind::InvalidLength(len, expected) => (path, format!("{len} items, expected {expected}")),
        Kind::ISizeOutOfRange(_) | Kind::USizeOutOfRange(_) => (path, "number out of range".into()),
        Kind::Unsupported(actual) => (path, format!("{} is not supported", actual_kind(actual))),
        Kind::UnsupportedKey(actual, expected) => (
            path,
            format!(
                "{} cannot be a key, expected {expected}",
                actual_kind(actual)
            ),
        ),
        Kind::Message(message) => (path, without_source_excerpt(message)),
    }
}

fn one_of(expected: &[&str]) -> String {
    match expected {
        [] => "none here".into(),
        [only] => (*only).to_owned(),
        many => format!("one of {}", many.join(", ")),
    }
}

fn looks_like_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// A TOML syntax error quotes the offending line under a `|` gutter, secret and all; keep its position and
/// its explanation only. Other messages (JSON syntax, this crate's own) carry no input text.
fn without_source_excerpt(message: &str) -> String {
    let is_excerpt = |line: &str| {
        line.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ')
            .starts_with('|')
    };
    message
        .lines()
        .filter(|line| !line.trim().is_empty() && !is_excerpt(line))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(": ")
}

fn actual_kind(actual: &Actual) -> &'static str {
    match actual {
        Actual::Bool(_) => "a boolean",
        Actual::Unsigned(_) | Actual::Signed(_) | Actual::Float(_) => "a number",
        Actual::Char(_) | Actual::Str(_) => "a string",
        Actual::Seq => "a list",
        Actual::Map => "a table",
        _ => "another type",
    }
}
