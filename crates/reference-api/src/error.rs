//! The API's error envelope: `{"error":{"code":"<CODE>","message":"<text>"}}` with the RFC 6750
//! and rate-limit headers that go with each code.
//!
//! Messages are fixed strings: nothing from the request (least of all the token) is ever echoed,
//! so every 401 for an invalid token is byte-identical whatever was wrong with it (no oracle).

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::ratelimit::RateInfo;

/// `RateLimit` header name (draft-ietf-httpapi-ratelimit-headers).
pub static RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
/// `RateLimit-Policy` header name.
pub static RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// Every error the API answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 401 `UNAUTHENTICATED`: no token, or a token that is not valid. `token_presented` selects
    /// the `WWW-Authenticate` challenge (RFC 6750 §3.1); the body is the same either way.
    #[error("unauthenticated")]
    Unauthenticated {
        /// Whether an `Authorization` header was sent.
        token_presented: bool,
    },
    /// 401 `TOKEN_EXPIRED`: a token whose signature and claims are valid but whose `exp` passed.
    #[error("token expired")]
    TokenExpired,
    /// 401 `PAT_EXPIRED`: a personal access token that is otherwise valid but past its
    /// `expires_at`. Not `TOKEN_EXPIRED`, whose remedy ("refresh it") a PAT does not have: the
    /// owner must create or rotate a token, so clients must not enter a refresh loop.
    #[error("personal access token expired")]
    PatExpired,
    /// 403 `FORBIDDEN`: authenticated, but the policy does not allow this route.
    #[error("forbidden")]
    Forbidden,
    /// 429 `RATE_LIMITED`.
    #[error("rate limited")]
    RateLimited {
        /// The limiter's state; `retry_after` is `None` only under the `no-retry-after` defect.
        info: RateInfo,
        /// Whether to send `Retry-After` (off only under the `no-retry-after` defect).
        send_retry_after: bool,
    },
    /// 404 `NOT_FOUND`.
    #[error("not found")]
    NotFound,
    /// 405 `METHOD_NOT_ALLOWED`.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 413 `PAYLOAD_TOO_LARGE`.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 400 `BAD_REQUEST` (e.g. an unreadable request body).
    #[error("bad request")]
    BadRequest,
    /// 400 `BAD_REQUEST` with a fixed message saying which input is wrong (never echoing it).
    #[error("invalid request: {0}")]
    Invalid(&'static str),
    /// 409 `CONFLICT`: the request contradicts the resource's state.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// 503 `SERVICE_UNAVAILABLE`: a dependency of this service (its database) failed.
    #[error("service unavailable")]
    ServiceUnavailable,
    /// 408 `REQUEST_TIMEOUT`: the request took longer than the server's bound.
    #[error("request timeout")]
    RequestTimeout,
    /// 502 `UPSTREAM_UNAVAILABLE`: the auth server could not be reached or answered garbage.
    #[error("upstream unavailable")]
    UpstreamUnavailable,
    /// 504 `UPSTREAM_TIMEOUT`: the auth server did not answer in time.
    #[error("upstream timeout")]
    UpstreamTimeout,
    /// 403 `FORBIDDEN` for a browser request from an `Origin` the MCP endpoint does not allow
    /// (no `WWW-Authenticate`: no credential would help).
    #[error("origin not allowed")]
    OriginNotAllowed,
    /// 500 `INTERNAL_ERROR`: a bug. Only the catch-panic layer and seeded defects produce it.
    #[error("internal error")]
    Internal,
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated { .. } | ApiError::TokenExpired | ApiError::PatExpired => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Forbidden | ApiError::OriginNotAllowed => StatusCode::FORBIDDEN,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BadRequest => StatusCode::BAD_REQUEST,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::UpstreamUnavailable => StatusCode::BAD_GATEWAY,
            ApiError::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable error code of the envelope.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated { .. } => "UNAUTHENTICATED",
            ApiError::TokenExpired => "TOKEN_EXPIRED",
            ApiError::PatExpired => "PAT_EXPIRED",
            ApiError::Invalid(_) => "BAD_REQUEST",
            ApiError::Conflict(_) => "CONFLICT",
            ApiError::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            ApiError::Forbidden | ApiError::OriginNotAllowed => "FORBIDDEN",
            ApiError::RateLimited { .. } => "RATE_LIMITED",
            ApiError::NotFound => "NOT_FOUND",
            ApiError::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ApiError::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ApiError::BadRequest => "BAD_REQUEST",
            ApiError::RequestTimeout => "REQUEST_TIMEOUT",
            ApiError::UpstreamUnavailable => "UPSTREAM_UNAVAILABLE",
            ApiError::UpstreamTimeout => "UPSTREAM_TIMEOUT",
            ApiError::Internal => "INTERNAL_ERROR",
        }
    }

    /// The fixed, human-readable message.
    pub fn message(&self) -> &'static str {
        match self {
            // Shared with the verifier's own axum extractor, so both answer the same bytes.
            ApiError::Unauthenticated { .. } => xauth_verifier::axum::UNAUTHENTICATED_MESSAGE,
            ApiError::TokenExpired => xauth_verifier::axum::TOKEN_EXPIRED_MESSAGE,
            ApiError::PatExpired => {
                "The personal access token expired; create or rotate a token to continue"
            }
            ApiError::Invalid(message) | ApiError::Conflict(message) => message,
            ApiError::ServiceUnavailable => "The service is temporarily unavailable",
            ApiError::Forbidden => xauth_verifier::axum::FORBIDDEN_MESSAGE,
            ApiError::OriginNotAllowed => "Requests from this Origin are not allowed",
            ApiError::RateLimited { .. } => "Too many requests; retry later",
            ApiError::NotFound => "No such route",
            ApiError::MethodNotAllowed => "Method not allowed on this route",
            ApiError::PayloadTooLarge => "Request body too large",
            ApiError::BadRequest => "The request could not be read",
            ApiError::RequestTimeout => "The request took too long",
            ApiError::UpstreamUnavailable => "The auth server is unavailable",
            ApiError::UpstreamTimeout => "The auth server did not answer in time",
            ApiError::Internal => "Internal server error",
        }
    }

    /// The JSON body, byte-for-byte stable per variant.
    pub fn body(&self) -> String {
        serde_json::json!({"error": {"code": self.code(), "message": self.message()}}).to_string()
    }
}

/// Adds `RateLimit` and `RateLimit-Policy` for `info` to `headers`.
pub fn insert_rate_headers(headers: &mut HeaderMap, info: &RateInfo) {
    if let Ok(v) = HeaderValue::from_str(&info.policy_header()) {
        headers.insert(RATELIMIT_POLICY.clone(), v);
    }
    if let Ok(v) = HeaderValue::from_str(&info.limit_header()) {
        headers.insert(RATELIMIT.clone(), v);
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), self.body()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        match &self {
            ApiError::Unauthenticated {
                token_presented: false,
            } => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::Unauthenticated {
                token_presented: true,
            } => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            ApiError::TokenExpired => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(
                        "Bearer error=\"invalid_token\", error_description=\"The access token expired\"",
                    ),
                );
            }
            ApiError::PatExpired => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(
                        "Bearer error=\"invalid_token\", error_description=\"The personal access token expired\"",
                    ),
                );
            }
            ApiError::Forbidden => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"insufficient_scope\""),
                );
            }
            ApiError::RateLimited {
                info,
                send_retry_after,
            } => {
                if *send_retry_after {
                    let secs = info.retry_after.unwrap_or(1).max(1);
                    headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
                }
                insert_rate_headers(headers, info);
            }
            ApiError::MethodNotAllowed
            | ApiError::OriginNotAllowed
            | ApiError::NotFound
            | ApiError::PayloadTooLarge
            | ApiError::BadRequest
            | ApiError::Invalid(_)
            | ApiError::Conflict(_)
            | ApiError::ServiceUnavailable
            | ApiError::RequestTimeout
            | ApiError::UpstreamUnavailable
            | ApiError::UpstreamTimeout
            | ApiError::Internal => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_valid_json_envelopes() {
        for e in [
            ApiError::Unauthenticated {
                token_presented: true,
            },
            ApiError::TokenExpired,
            ApiError::PatExpired,
            ApiError::Forbidden,
            ApiError::OriginNotAllowed,
            ApiError::Invalid("bad"),
            ApiError::Conflict("conflict"),
            ApiError::ServiceUnavailable,
            ApiError::NotFound,
            ApiError::MethodNotAllowed,
            ApiError::PayloadTooLarge,
            ApiError::BadRequest,
            ApiError::RequestTimeout,
            ApiError::UpstreamUnavailable,
            ApiError::UpstreamTimeout,
            ApiError::Internal,
        ] {
            let v: serde_json::Value = serde_json::from_str(&e.body()).unwrap();
            assert_eq!(v["error"]["code"], e.code());
            assert_eq!(v["error"]["message"], e.message());
            assert_eq!(v.as_object().unwrap().len(), 1);
        }
    }

    #[test]
    fn unauthenticated_body_does_not_depend_on_presence() {
        assert_eq!(
            ApiError::Unauthenticated {
                token_presented: true
            }
            .body(),
            ApiError::Unauthenticated {
                token_presented: false
            }
            .body()
        );
    }
}
