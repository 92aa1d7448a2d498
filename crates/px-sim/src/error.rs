//! PX's error bodies: `{"externalapierror":{...}}` on the REST API, RFC 6749 §5.2 on the token endpoint.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The text PX puts in every 401 of the REST API; clients match on it.
pub const LOGIN_AWARE_MESSAGE: &str = "Authentication failed in loginAwareAuthentication";

/// An error answered with PX's `externalapierror` body.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub debug_message: Option<String>,
    pub sub_errors: Vec<String>,
    /// Extra headers (few, so a vector keeps the error small).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            debug_message: None,
            sub_errors: Vec::new(),
            headers: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, message)
    }

    pub fn unauthorized(detail: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            format!("{LOGIN_AWARE_MESSAGE}: {detail}"),
        )
    }

    /// A body that is not valid JSON, or not the expected shape.
    pub fn malformed(err: &serde_json::Error) -> Self {
        let mut error = Self::bad_request("Malformed JSON request");
        error.debug_message = Some(err.to_string());
        error
    }

    pub fn with_sub_errors(mut self, sub_errors: Vec<String>) -> Self {
        self.sub_errors = sub_errors;
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// The Java `HttpStatus` enum name PX writes in `status`.
pub fn status_name(status: StatusCode) -> String {
    match status.as_u16() {
        413 => "PAYLOAD_TOO_LARGE".to_owned(),
        _ => status
            .canonical_reason()
            .unwrap_or("UNKNOWN")
            .to_ascii_uppercase()
            .replace([' ', '-'], "_")
            .replace('\'', ""),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let sub_errors = if self.sub_errors.is_empty() {
            serde_json::Value::Null
        } else {
            self.sub_errors
                .iter()
                .map(|message| json!({ "message": message }))
                .collect()
        };
        let body = json!({
            "externalapierror": {
                "status": status_name(self.status),
                "message": self.message,
                "debugMessage": self.debug_message,
                "subErrors": sub_errors,
            }
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// An OAuth token-endpoint error (RFC 6749 §5.2); PX's real shape is unknown, this is the standard one.
#[derive(Debug, Clone)]
pub struct OAuthError {
    pub status: StatusCode,
    pub code: &'static str,
    pub description: &'static str,
}

impl OAuthError {
    pub fn invalid_client() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: "invalid_client",
            description: "Bad client credentials",
        }
    }

    pub fn invalid_grant(description: &'static str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_grant",
            description,
        }
    }

    pub fn invalid_request(description: &'static str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_request",
            description,
        }
    }

    pub fn unsupported_grant_type() -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "unsupported_grant_type",
            description: "Only password and refresh_token grants are supported",
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.code, "error_description": self.description });
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"oauth\""),
            );
        }
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_follow_the_java_enum() {
        assert_eq!(status_name(StatusCode::BAD_REQUEST), "BAD_REQUEST");
        assert_eq!(status_name(StatusCode::NOT_FOUND), "NOT_FOUND");
        assert_eq!(
            status_name(StatusCode::PAYLOAD_TOO_LARGE),
            "PAYLOAD_TOO_LARGE"
        );
        assert_eq!(
            status_name(StatusCode::TOO_MANY_REQUESTS),
            "TOO_MANY_REQUESTS"
        );
        assert_eq!(
            status_name(StatusCode::INTERNAL_SERVER_ERROR),
            "INTERNAL_SERVER_ERROR"
        );
        assert_eq!(
            status_name(StatusCode::UNSUPPORTED_MEDIA_TYPE),
            "UNSUPPORTED_MEDIA_TYPE"
        );
    }
}
