//! The OAuth endpoints' error answers: RFC 6749's `{"error", "error_description"}` body (GoTrue's
//! `OAuthError`, always 400), and the union with GoTrue's own envelope that the token endpoint
//! answers in before a grant runs (client authentication failures are `invalid_credentials`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::gotrue::errors::ApiError;

/// One RFC 6749 §5.2 error, rendered as GoTrue renders its `OAuthError`: status 400 whatever
/// the code (GoTrue never answers 401 `invalid_client` here).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {description}")]
pub struct OAuthError {
    /// The RFC 6749 error code (`invalid_grant`, `invalid_client`, ...).
    pub error: &'static str,
    /// The human-readable `error_description`.
    pub description: String,
}

impl OAuthError {
    /// An error with any code.
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            description: description.into(),
        }
    }

    /// `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", description)
    }

    /// `invalid_grant`.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new("invalid_grant", description)
    }

    /// `invalid_client`.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new("invalid_client", description)
    }

    /// `unsupported_grant_type`.
    pub fn unsupported_grant_type(description: impl Into<String>) -> Self {
        Self::new("unsupported_grant_type", description)
    }

    /// `access_denied`.
    pub fn access_denied(description: impl Into<String>) -> Self {
        Self::new("access_denied", description)
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&Body {
            error: self.error,
            error_description: &self.description,
        })
        .unwrap_or_default();
        let mut response = (StatusCode::BAD_REQUEST, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

/// What the token endpoint can fail with: GoTrue's envelope (body limits, client
/// authentication) or an RFC 6749 error (everything the grant itself decides).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// GoTrue's `HTTPError` (rendered in the envelope the request asked for).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// RFC 6749's error body.
    #[error(transparent)]
    OAuth(#[from] OAuthError),
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        match self {
            Self::Api(e) => e.into_response(),
            Self::OAuth(e) => e.into_response(),
        }
    }
}
