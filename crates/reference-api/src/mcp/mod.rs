//! The MCP endpoint (`--mcp`, off by default): a Model Context Protocol server on the official
//! Rust SDK (rmcp, Streamable HTTP transport), protected like the rest of the API.
//!
//! - **Routes**: `POST /mcp` (stateless Streamable HTTP with JSON answers: no `Mcp-Session-Id`,
//!   each POST stands alone; `GET`/`DELETE` are 405 since there are no sessions or server-sent
//!   streams); `GET /.well-known/oauth-protected-resource/mcp` and the root form, the RFC 9728
//!   metadata ([`metadata`]).
//! - **Gate** ([`auth`]): Origin, then the bearer (header only; JWTs with the mode's audience
//!   and the `client_id` allow-list, PATs with the `mcp:tools` scope), the rate limiters and
//!   the scope, all before rmcp sees the request.
//! - **Tools** ([`tools`]): `list_content` and `upstream_status` ([`upstream`]: the service's
//!   own identity, never the client's token).
//! - **Seeded defects** ([`defect`], side `mcp`).

pub mod auth;
pub mod config;
pub mod defect;
pub mod metadata;
pub mod tools;
pub mod upstream;

use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::routing::get;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use xauth_verifier::{Defect, Verifier};

pub use auth::McpPrincipal;
pub use config::{AudienceMode, McpArgs, McpConfig, McpConfigError};
pub use defect::{McpDefect, McpDefects};

use crate::config::{Config, ConfigError};
use crate::state::AppState;
use upstream::Upstream;

/// The MCP endpoint of one server, its configuration resolved.
#[derive(Debug)]
pub struct McpState {
    /// The configuration.
    pub config: McpConfig,
    /// The resource identifier.
    pub resource: String,
    /// The resource's origin (`scheme://host[:port]`): always an allowed `Origin`.
    pub origin: String,
    /// `<origin>/.well-known/oauth-protected-resource/mcp`, named in every challenge.
    pub metadata_url: String,
    /// `<SUPABASE_URL>/auth/v1`.
    pub authorization_server: String,
    /// The audience a JWT must carry: `authenticated`, or the resource in resource mode.
    pub audience: String,
    /// The verifier for `/mcp`: the API's own in supabase mode, one with the resource as its
    /// audience in resource mode (its own JWKS cache).
    pub verifier: Verifier,
    /// What `upstream_status` calls.
    pub upstream: Upstream,
    /// Largest accepted JSON-RPC body (the API's body limit).
    pub max_body_bytes: usize,
}

impl McpState {
    /// Resolves `mcp` for a server running `config`; `api_verifier` is the rest of the API's.
    pub fn new(
        config: &Config,
        mcp: &McpConfig,
        api_verifier: &Verifier,
    ) -> Result<Self, ConfigError> {
        let bad = |e: &dyn std::fmt::Display| ConfigError::Mcp(e.to_string());
        let resource = mcp.resource_for(std::net::SocketAddr::new(config.bind, config.port));
        let parsed = config::check_url("mcp-resource", &resource).map_err(|e| bad(&e))?;
        let origin = parsed.origin().ascii_serialization();
        let audience = match mcp.audience_mode {
            AudienceMode::Supabase => "authenticated".to_owned(),
            AudienceMode::Resource => resource.clone(),
        };
        let audience_defect =
            mcp.defects.has(McpDefect::AnyAudience) || mcp.defects.has(McpDefect::IdTokenAccepted);
        let verifier = if mcp.audience_mode == AudienceMode::Supabase && !audience_defect {
            api_verifier.clone()
        } else {
            let mut vc = config.verifier_config()?.audience(audience.clone());
            if audience_defect {
                // SEEDED DEFECT mcp-any-audience / mcp-id-token-accepted: the verifier checks no
                // audience; `auth::audience_and_client` applies what is left of the rule.
                vc = vc.defect(Defect::IgnoreAud);
            }
            Verifier::new(vc).map_err(|e| ConfigError::Verifier(e.to_string()))?
        };
        let upstream = Upstream::new(mcp).map_err(|e| bad(&e))?;
        if mcp.audience_mode == AudienceMode::Supabase && mcp.allowed_client_ids.is_empty() {
            tracing::warn!(
                "--mcp in supabase audience mode without --mcp-allowed-client-id: no JWT is accepted on /mcp"
            );
        }
        if !mcp.defects.is_empty() {
            tracing::warn!(
                defects = ?mcp.defects.names(),
                "SEEDED MCP DEFECTS ARE ON: this server is deliberately insecure; never expose it"
            );
        }
        Ok(McpState {
            config: mcp.clone(),
            metadata_url: format!("{origin}{}", metadata::METADATA_PATH),
            resource,
            origin,
            authorization_server: config.issuer(),
            audience,
            verifier,
            upstream,
            max_body_bytes: config.limits.max_body_bytes,
        })
    }

    /// The seeded defects.
    pub fn defects(&self) -> &McpDefects {
        &self.config.defects
    }

    /// The hosts rmcp's DNS-rebinding check accepts: loopback and the resource's host.
    fn allowed_hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        if let Ok(url) = url::Url::parse(&self.resource)
            && let Some(host) = url.host_str()
        {
            hosts.push(host.trim_matches(['[', ']']).to_owned());
        }
        hosts
    }
}

/// The MCP routes of `state` (empty without `--mcp`).
pub fn routes(state: &AppState) -> Router<AppState> {
    let Some(mcp) = state.mcp.clone() else {
        return Router::new();
    };
    let upstream = mcp.upstream.clone();
    let service = StreamableHttpService::new(
        move || Ok(tools::McpTools::new(upstream.clone())),
        Arc::new(NeverSessionManager::default()),
        StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_sse_keep_alive(None)
            .with_allowed_hosts(mcp.allowed_hosts())
            .with_max_request_body_bytes(mcp.max_body_bytes),
    );
    Router::new()
        .route_service("/mcp", service)
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::gate))
        .route(metadata::METADATA_PATH, get(metadata::serve))
        .route(metadata::ROOT_METADATA_PATH, get(metadata::serve))
}
