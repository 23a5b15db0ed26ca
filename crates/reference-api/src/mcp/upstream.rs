//! The upstream the `upstream_status` tool calls: a plain GET with the service's own identity
//! (no credential, or the fixed `--mcp-upstream-token`), never the client's token; bounded by a
//! timeout, redirects not followed.

use axum::http::{HeaderValue, header};

use super::config::McpConfig;
use super::defect::McpDefect;

/// Why the upstream call gave no status.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// No `--mcp-upstream` configured.
    #[error("no upstream is configured")]
    NotConfigured,
    /// The upstream did not answer within the bound.
    #[error("the upstream did not answer in time")]
    Timeout,
    /// Connection or protocol failure.
    #[error("the upstream could not be reached")]
    Unreachable,
}

/// The upstream client of one server.
#[derive(Debug, Clone)]
pub struct Upstream {
    url: Option<url::Url>,
    service_token: Option<String>,
    passthrough: bool,
    http: reqwest::Client,
}

impl Upstream {
    /// The client for `config` (timeout, no redirects, no proxy from the environment).
    pub fn new(config: &McpConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(config.upstream_timeout)
            .connect_timeout(config.upstream_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()?;
        Ok(Upstream {
            url: config.upstream.clone(),
            service_token: config.upstream_token.clone(),
            passthrough: config.defects.has(McpDefect::TokenPassthrough),
            http,
        })
    }

    /// GETs the upstream and returns its HTTP status. `client_authorization` is the MCP
    /// client's own `Authorization` header: it is never sent (except under the seeded defect).
    pub async fn status(
        &self,
        client_authorization: Option<&HeaderValue>,
    ) -> Result<u16, UpstreamError> {
        let url = self.url.clone().ok_or(UpstreamError::NotConfigured)?;
        let mut request = self.http.get(url);
        if self.passthrough
            && let Some(value) = client_authorization
        {
            // SEEDED DEFECT mcp-token-passthrough: the client's token goes to another service.
            request = request.header(header::AUTHORIZATION, value.clone());
        } else if let Some(token) = &self.service_token {
            request = request.bearer_auth(token);
        }
        match request.send().await {
            Ok(response) => Ok(response.status().as_u16()),
            Err(e) if e.is_timeout() => Err(UpstreamError::Timeout),
            Err(_) => Err(UpstreamError::Unreachable),
        }
    }
}
