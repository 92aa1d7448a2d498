//! What a PX answer means for the work that caused it, and a message an operator can act on.
//!
//! PX answers errors in several shapes (`externalapierror`, a top-level `errorMessage`, RFC 6749 bodies on
//! the token endpoint, HTML from edge proxies); all of them become one short message. Messages never carry
//! credentials: the client scrubs every secret it knows before a message leaves this module.

use std::fmt;
use std::time::Duration;

use pxstream_core::{Classify, ErrorClass};
use reqwest::StatusCode;
use serde_json::Value;

/// The PX endpoints delivery calls; also the `endpoint` label of request metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Token,
    Metadata,
    UpdateMembership,
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Token => "token",
            Endpoint::Metadata => "metadata",
            Endpoint::UpdateMembership => "update_membership",
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed PX request, classified.
///
/// A `Retry` class coming out of the client means the client stopped retrying because shutdown asked it to:
/// the work is still to be done, by this process after a restart or by another consumer.
#[derive(Debug, Clone, thiserror::Error)]
#[error("PX {endpoint}{}: {message}", status.map(|s| format!(" answered {}", s.as_u16())).unwrap_or_default())]
pub struct PxError {
    pub endpoint: Endpoint,
    /// None when no answer came (timeout, connection refused or dropped).
    pub status: Option<StatusCode>,
    pub class: ErrorClass,
    pub message: String,
}

impl Classify for PxError {
    fn class(&self) -> ErrorClass {
        self.class
    }
}

impl PxError {
    pub(crate) fn new(
        endpoint: Endpoint,
        status: Option<StatusCode>,
        class: ErrorClass,
        message: impl Into<String>,
    ) -> Self {
        Self {
            endpoint,
            status,
            class,
            message: message.into(),
        }
    }

    /// A request that got no answer at all: always worth retrying.
    pub(crate) fn transport(endpoint: Endpoint, error: &reqwest::Error) -> Self {
        let what = if error.is_timeout() {
            "no answer within the request timeout"
        } else if error.is_connect() {
            "could not connect"
        } else {
            "the connection failed"
        };
        // reqwest's own text names the URL, which carries no secret (credentials travel in headers).
        let detail = std::error::Error::source(error)
            .map(|source| source.to_string())
            .unwrap_or_else(|| error.to_string());
        Self::new(
            endpoint,
            None,
            ErrorClass::RETRY,
            format!("{what} ({})", truncate(&detail)),
        )
    }

    pub(crate) fn is_rate_limited(&self) -> bool {
        self.status == Some(StatusCode::TOO_MANY_REQUESTS)
    }

    pub(crate) fn is_unauthorized(&self) -> bool {
        self.status == Some(StatusCode::UNAUTHORIZED)
    }

    /// Whether PX refused the content of the request, so that a smaller request may still go through.
    pub(crate) fn refuses_content(&self) -> bool {
        self.class == ErrorClass::DeadLetter
    }
}

/// Classifies a non-2xx answer of the REST API (not the token endpoint).
///
/// 401 is FailFast here: with an API key nothing will change until someone fixes the key; in OAuth mode
/// the client re-authenticates once before it lets this verdict stand.
pub(crate) fn classify(status: StatusCode, retry_after: Option<Duration>) -> ErrorClass {
    match status.as_u16() {
        429 | 408 => ErrorClass::Retry { after: retry_after },
        500..=599 => ErrorClass::Retry { after: retry_after },
        // Refusals of this request's content: a smaller or different request may go through.
        400 | 413 | 422 => ErrorClass::DeadLetter,
        // 401, 403, and 404 (the wrong region answers 404 for objects that exist): every call would fail
        // the same way, so dead-lettering would only empty the topic into the dead-letter one.
        _ => ErrorClass::FailFast,
    }
}

/// Classifies a non-2xx answer of the token endpoint: refused credentials need an operator.
pub(crate) fn classify_token(status: StatusCode, retry_after: Option<Duration>) -> ErrorClass {
    match status.as_u16() {
        429 | 408 | 500..=599 => ErrorClass::Retry { after: retry_after },
        _ => ErrorClass::FailFast,
    }
}

/// Longest message kept from an answer body: enough for PX's validation messages, bounded for HTML pages.
const MAX_MESSAGE: usize = 400;

/// Reads PX's error shapes into one line.
pub(crate) fn describe_body(status: StatusCode, content_type: Option<&str>, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let reason = status.canonical_reason().unwrap_or("error");
    if text.trim().is_empty() {
        return reason.to_owned();
    }
    if let Ok(json) = serde_json::from_str::<Value>(&text)
        && let Some(message) = describe_json(&json)
    {
        return truncate(&message);
    }
    let looks_html =
        content_type.is_some_and(|ct| ct.contains("html")) || text.trim_start().starts_with('<');
    if looks_html {
        return match html_title(&text) {
            Some(title) => format!("HTML error page: {}", truncate(&title)),
            None => format!("HTML error page ({reason})"),
        };
    }
    truncate(text.trim())
}

fn describe_json(json: &Value) -> Option<String> {
    if let Some(error) = json.get("externalapierror") {
        let status = error.get("status").and_then(Value::as_str);
        let message = error.get("message").and_then(Value::as_str);
        let sub_errors: Vec<&str> = error
            .get("subErrors")
            .and_then(Value::as_array)
            .map(|subs| {
                subs.iter()
                    .filter_map(|sub| sub.get("message").and_then(Value::as_str).or(sub.as_str()))
                    .collect()
            })
            .unwrap_or_default();
        let mut line = match (status, message) {
            (Some(status), Some(message)) => format!("{status}: {message}"),
            (None, Some(message)) => message.to_owned(),
            (Some(status), None) => status.to_owned(),
            (None, None) => "error without a message".to_owned(),
        };
        if !sub_errors.is_empty() {
            line.push_str(" (");
            line.push_str(&sub_errors.join("; "));
            line.push(')');
        }
        return Some(line);
    }
    if let Some(message) = json.get("errorMessage").and_then(Value::as_str) {
        return Some(message.to_owned());
    }
    // RFC 6749 §5.2, from the token endpoint.
    if let Some(code) = json.get("error").and_then(Value::as_str) {
        return Some(
            match json.get("error_description").and_then(Value::as_str) {
                Some(description) => format!("{code}: {description}"),
                None => code.to_owned(),
            },
        );
    }
    json.get("message")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn html_title(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = start + lower[start..].find("</title>")?;
    let title = text[start..end].trim();
    (!title.is_empty()).then(|| title.to_owned())
}

fn truncate(text: &str) -> String {
    let single_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if single_line.chars().count() <= MAX_MESSAGE {
        return single_line;
    }
    let mut cut: String = single_line.chars().take(MAX_MESSAGE).collect();
    cut.push('…');
    cut
}

/// Replaces every known secret in a message. PX has no reason to echo credentials, but a proxy or a future
/// version might, and a message ends up in logs and dead-letter headers.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scrubber {
    secrets: Vec<String>,
}

impl Scrubber {
    pub(crate) fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        Self {
            // Very short values would blank out ordinary words; they are not worth protecting this way.
            secrets: secrets.into_iter().filter(|s| s.len() >= 4).collect(),
        }
    }

    pub(crate) fn scrub(&self, mut error: PxError) -> PxError {
        for secret in &self.secrets {
            if error.message.contains(secret.as_str()) {
                error.message = error.message.replace(secret.as_str(), "***");
            }
        }
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn px_error_bodies_become_one_line_with_their_sub_errors() {
        let body = br#"{"externalapierror":{"status":"BAD_REQUEST","message":"Validation error","debugMessage":null,
            "subErrors":[{"message":"add[0].segmentId: no external segment with externalId a-9"}]}}"#;
        assert_eq!(
            describe_body(StatusCode::BAD_REQUEST, Some("application/json"), body),
            "BAD_REQUEST: Validation error (add[0].segmentId: no external segment with externalId a-9)"
        );
        let body = br#"{"errorMessage":"possible duplicate"}"#;
        assert_eq!(
            describe_body(StatusCode::BAD_REQUEST, None, body),
            "possible duplicate"
        );
        let body = br#"{"error":"invalid_grant","error_description":"Bad credentials"}"#;
        assert_eq!(
            describe_body(StatusCode::BAD_REQUEST, None, body),
            "invalid_grant: Bad credentials"
        );
    }

    #[test]
    fn an_html_page_is_reduced_to_its_title() {
        let page = b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head><body>nginx</body></html>";
        assert_eq!(
            describe_body(StatusCode::SERVICE_UNAVAILABLE, Some("text/html"), page),
            "HTML error page: 503 Service Temporarily Unavailable"
        );
        assert_eq!(
            describe_body(StatusCode::BAD_GATEWAY, Some("text/html"), b"<html></html>"),
            "HTML error page (Bad Gateway)"
        );
        assert_eq!(
            describe_body(StatusCode::BAD_GATEWAY, None, b""),
            "Bad Gateway"
        );
    }

    #[test]
    fn a_long_body_is_cut() {
        let long = "x".repeat(5_000);
        let message = describe_body(StatusCode::INTERNAL_SERVER_ERROR, None, long.as_bytes());
        assert!(message.chars().count() <= MAX_MESSAGE + 1);
    }

    #[test]
    fn statuses_map_to_what_the_caller_must_do() {
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, None),
            ErrorClass::RETRY
        );
        assert_eq!(classify(StatusCode::BAD_GATEWAY, None), ErrorClass::RETRY);
        assert_eq!(
            classify(StatusCode::BAD_REQUEST, None),
            ErrorClass::DeadLetter
        );
        assert_eq!(
            classify(StatusCode::PAYLOAD_TOO_LARGE, None),
            ErrorClass::DeadLetter
        );
        assert_eq!(classify(StatusCode::FORBIDDEN, None), ErrorClass::FailFast);
        assert_eq!(
            classify(StatusCode::UNAUTHORIZED, None),
            ErrorClass::FailFast
        );
        assert_eq!(classify(StatusCode::NOT_FOUND, None), ErrorClass::FailFast);
        assert_eq!(
            classify_token(StatusCode::BAD_REQUEST, None),
            ErrorClass::FailFast
        );
        assert_eq!(
            classify_token(StatusCode::SERVICE_UNAVAILABLE, None),
            ErrorClass::RETRY
        );
    }

    #[test]
    fn known_secrets_never_survive_in_a_message() {
        let scrubber = Scrubber::new(["k-123456".to_owned(), "pw".to_owned()]);
        let error = PxError::new(
            Endpoint::Metadata,
            Some(StatusCode::UNAUTHORIZED),
            ErrorClass::FailFast,
            "invalid API key k-123456, pw",
        );
        let scrubbed = scrubber.scrub(error);
        assert_eq!(scrubbed.message, "invalid API key ***, pw");
        assert!(!scrubbed.to_string().contains("k-123456"));
    }
}
