//! GoTrue's error envelopes.
//!
//! Handlers return [`ApiError`]. Its `IntoResponse` renders the legacy envelope and stores a
//! copy of itself in the response extensions; the [`render_errors`] middleware (installed by
//! [`super::router`]) re-renders it in the envelope the request asked for with
//! `X-Supabase-Api-Version`. So a handler cannot pick the wrong envelope: it never chooses.
//!
//! - Legacy (no header, a date before 2024-01-01, or an unparseable value):
//!   `{"code": <status>, "error_code": "<code>", "msg": "<text>"}`.
//! - 2024-01-01 and later: `{"code": "<code>", "message": "<text>"}` and the response echoes
//!   `X-Supabase-Api-Version: 2024-01-01`.
//!
//! Both set `x-sb-error-code`. A weak password adds `"weak_password": {"reasons": [...]}`.
//!
//! ```
//! use axum::http::{HeaderMap, StatusCode};
//! use xauth_issuer::gotrue::errors::{ApiError, ApiVersion};
//!
//! let err = ApiError::bad_request("validation_failed", "missing email or phone");
//! assert_eq!(err.status, StatusCode::BAD_REQUEST);
//! let mut headers = HeaderMap::new();
//! headers.insert("x-supabase-api-version", "2024-01-01".parse().unwrap());
//! assert_eq!(ApiVersion::from_headers(&headers), ApiVersion::V2024_01_01);
//! let response = err.render(ApiVersion::V2024_01_01);
//! assert_eq!(response.headers()["x-sb-error-code"], "validation_failed");
//! ```

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The request and response header that selects the error envelope.
pub const API_VERSION_HEADER: &str = "x-supabase-api-version";

/// The error envelope a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// The legacy `{code:int, error_code, msg}` envelope.
    Initial,
    /// The `{code:string, message}` envelope of API version 2024-01-01.
    V2024_01_01,
}

impl ApiVersion {
    /// GoTrue's `DetermineClosestAPIVersion`: a strict `YYYY-MM-DD` date on or after
    /// 2024-01-01 selects the new envelope; anything else (absent, earlier, malformed) the legacy.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let Some(value) = headers.get(API_VERSION_HEADER) else {
            return Self::Initial;
        };
        let Ok(text) = value.to_str() else {
            return Self::Initial;
        };
        match parse_date(text) {
            Some(date) if date >= (2024, 1, 1) => Self::V2024_01_01,
            _ => Self::Initial,
        }
    }
}

/// Parses exactly `YYYY-MM-DD` (Go's layout `2006-01-02`) into a valid calendar date.
fn parse_date(text: &str) -> Option<(u32, u32, u32)> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = &text[range];
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    chrono::NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)?;
    Some((y, m, d))
}

/// One GoTrue `HTTPError` (or `WeakPasswordError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// GoTrue's `error_code`, e.g. `invalid_credentials`.
    pub code: &'static str,
    /// Human-readable text (`msg` / `message`).
    pub message: String,
    /// Reasons of a `weak_password` error (`length`, `characters`, `pwned`).
    pub weak_password: Option<Vec<String>>,
}

impl ApiError {
    /// An error with any status.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            weak_password: None,
        }
    }

    /// 400.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 403.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 404.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 422.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 422 `weak_password` with its reasons.
    pub fn weak_password(message: impl Into<String>, reasons: Vec<String>) -> Self {
        Self {
            weak_password: Some(reasons),
            ..Self::unprocessable("weak_password", message)
        }
    }

    /// 400 `bad_json` for a body that is not the expected JSON.
    pub fn bad_json(detail: impl std::fmt::Display) -> Self {
        Self::bad_request(
            "bad_json",
            format!("Could not parse request body as JSON: {detail}"),
        )
    }

    /// Renders this error in the envelope of `version`.
    pub fn render(&self, version: ApiVersion) -> Response {
        #[derive(Serialize)]
        struct Reasons<'a> {
            reasons: &'a [String],
        }
        #[derive(Serialize)]
        struct Legacy<'a> {
            code: u16,
            error_code: &'a str,
            msg: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            weak_password: Option<Reasons<'a>>,
        }
        #[derive(Serialize)]
        struct V20240101<'a> {
            code: &'a str,
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            weak_password: Option<Reasons<'a>>,
        }
        let weak = self
            .weak_password
            .as_deref()
            .map(|reasons| Reasons { reasons });
        let code = if self.code.is_empty() {
            if self.status == StatusCode::INTERNAL_SERVER_ERROR {
                "unexpected_failure"
            } else {
                "unknown"
            }
        } else {
            self.code
        };
        let body = match version {
            ApiVersion::Initial => serde_json::to_vec(&Legacy {
                code: self.status.as_u16(),
                error_code: code,
                msg: &self.message,
                weak_password: weak,
            }),
            ApiVersion::V2024_01_01 => serde_json::to_vec(&V20240101 {
                code,
                message: &self.message,
                weak_password: weak,
            }),
        }
        .unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Ok(value) = HeaderValue::from_str(code) {
            headers.insert("x-sb-error-code", value);
        }
        if version == ApiVersion::V2024_01_01 {
            headers.insert(API_VERSION_HEADER, HeaderValue::from_static("2024-01-01"));
        }
        response.extensions_mut().insert(self.clone());
        response
    }
}

impl IntoResponse for ApiError {
    /// Renders the legacy envelope and remembers the error so [`render_errors`] can switch it.
    fn into_response(self) -> Response {
        self.render(ApiVersion::Initial)
    }
}

/// Middleware: re-renders an [`ApiError`] response in the envelope the request asked for.
pub async fn render_errors(request: Request, next: Next) -> Response {
    let version = ApiVersion::from_headers(request.headers());
    let response = next.run(request).await;
    if version == ApiVersion::Initial {
        return response;
    }
    match response.extensions().get::<ApiError>() {
        Some(error) => error.render(version),
        None => response,
    }
}

/// 404 for routes that do not exist, in GoTrue's envelope (used as the global fallback too).
pub async fn not_found(headers: HeaderMap) -> Response {
    ApiError::not_found("not_found", "Not Found").render(ApiVersion::from_headers(&headers))
}

/// 405 for a known path with an unsupported method, in GoTrue's envelope.
pub async fn method_not_allowed(headers: HeaderMap) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method Not Allowed",
    )
    .render(ApiVersion::from_headers(&headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(value: &str) -> ApiVersion {
        let mut headers = HeaderMap::new();
        headers.insert(API_VERSION_HEADER, HeaderValue::from_str(value).unwrap());
        ApiVersion::from_headers(&headers)
    }

    #[test]
    fn version_parsing_is_strict() {
        assert_eq!(version("2024-01-01"), ApiVersion::V2024_01_01);
        assert_eq!(version("2030-12-31"), ApiVersion::V2024_01_01);
        assert_eq!(version("2023-12-31"), ApiVersion::Initial);
        assert_eq!(version("2024-1-01"), ApiVersion::Initial);
        assert_eq!(version("2024-02-30"), ApiVersion::Initial);
        assert_eq!(version("+024-01-01"), ApiVersion::Initial);
        assert_eq!(version("garbage"), ApiVersion::Initial);
        assert_eq!(
            ApiVersion::from_headers(&HeaderMap::new()),
            ApiVersion::Initial
        );
    }
}
