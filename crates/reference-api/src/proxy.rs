//! The auth proxy: `POST /api/auth/v1/token?…` → `<SUPABASE_URL>/auth/v1/token?…`.
//!
//! The query string, the body and the headers a Supabase client sends (`apikey`,
//! `Authorization`, `Content-Type`, `X-Supabase-Api-Version`, `X-Client-Info`) go upstream
//! unchanged; the upstream status, body and end-to-end headers (including `x-sb-error-code` and
//! `X-Supabase-Api-Version`) come back unchanged. Only failures of the upstream itself are ours:
//! unreachable or garbled → 502 `UPSTREAM_UNAVAILABLE`, slower than the bound → 504
//! `UPSTREAM_TIMEOUT`. Request and response bodies are bounded.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Limited};

use crate::error::ApiError;

/// Request headers forwarded upstream.
const FORWARDED: [&str; 5] = [
    "apikey",
    "authorization",
    "content-type",
    "x-supabase-api-version",
    "x-client-info",
];

/// Hop-by-hop and framing headers never relayed back (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
];

/// A client for the upstream token endpoint.
#[derive(Debug, Clone)]
pub struct TokenProxy {
    client: reqwest::Client,
    token_url: String,
    max_body: usize,
    max_upstream_body: usize,
}

impl TokenProxy {
    /// A proxy to `token_url` with the given bounds. Redirects are not followed (a 3xx is
    /// relayed as is) and no environment proxy is used.
    pub fn new(
        token_url: String,
        timeout: Duration,
        max_body: usize,
        max_upstream_body: usize,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        Ok(TokenProxy {
            client,
            token_url,
            max_body,
            max_upstream_body,
        })
    }

    /// Reads the client's body within the bound: 413 if larger, 400 if unreadable.
    pub async fn read_body(&self, headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_body as u64) {
            return Err(ApiError::PayloadTooLarge);
        }
        match Limited::new(body, self.max_body).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::PayloadTooLarge),
            Err(_) => Err(ApiError::BadRequest),
        }
    }

    /// Forwards one request and relays the answer.
    pub async fn forward(
        &self,
        query: Option<&str>,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Response, ApiError> {
        let url = match query {
            Some(q) if !q.is_empty() => format!("{}?{}", self.token_url, q),
            _ => self.token_url.clone(),
        };
        // A query the URL parser refuses is the client's fault (400), never an upstream 502.
        let url = url::Url::parse(&url).map_err(|_| ApiError::BadRequest)?;
        let mut request = self.client.post(url).body(body);
        for name in FORWARDED {
            for value in headers.get_all(name) {
                request = request.header(name, value.clone());
            }
        }
        let upstream = request.send().await.map_err(map_error)?;
        let status = upstream.status();
        let mut out_headers = HeaderMap::new();
        for (name, value) in upstream.headers() {
            if !HOP_BY_HOP.contains(&name.as_str()) {
                out_headers.append(name.clone(), value.clone());
            }
        }
        let body = self.read_upstream(upstream).await?;
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = status;
        *response.headers_mut() = out_headers;
        Ok(response)
    }

    async fn read_upstream(&self, mut upstream: reqwest::Response) -> Result<Bytes, ApiError> {
        if upstream
            .content_length()
            .is_some_and(|n| n > self.max_upstream_body as u64)
        {
            return Err(ApiError::UpstreamUnavailable);
        }
        let mut buf = BytesMut::new();
        while let Some(chunk) = upstream.chunk().await.map_err(map_error)? {
            if buf.len() + chunk.len() > self.max_upstream_body {
                return Err(ApiError::UpstreamUnavailable);
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    }
}

fn map_error(e: reqwest::Error) -> ApiError {
    if e.is_timeout() {
        ApiError::UpstreamTimeout
    } else {
        tracing::warn!(error = %e, "auth server unreachable");
        ApiError::UpstreamUnavailable
    }
}

/// The `grant_type` of a raw query string, if present (first occurrence).
pub fn grant_type(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "grant_type")
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_type_is_read_from_the_query() {
        assert_eq!(
            grant_type(Some("grant_type=refresh_token")).as_deref(),
            Some("refresh_token")
        );
        assert_eq!(
            grant_type(Some("a=1&grant_type=password")).as_deref(),
            Some("password")
        );
        assert_eq!(grant_type(Some("a=1")), None);
        assert_eq!(grant_type(None), None);
    }
}
