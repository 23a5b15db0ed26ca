//! The MCP tools (an rmcp `#[tool]` router): `list_content`, the items of `GET /api/content`,
//! and `upstream_status`, the HTTP status of the configured upstream. Both run only after the
//! gate ([`super::auth`]) admitted the request; the principal it put in the request's
//! extensions reaches the tools through the HTTP parts rmcp hands them.

use axum::http::header;
use axum::http::request::Parts;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::Extension;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ErrorData, ServerHandler, tool, tool_handler, tool_router};
use serde_json::json;

use super::auth::McpPrincipal;
use super::upstream::Upstream;

/// The MCP server of one request (rmcp builds one per request in stateless mode).
#[derive(Debug, Clone)]
pub struct McpTools {
    #[allow(dead_code, reason = "read by the code #[tool_handler] generates")]
    tool_router: ToolRouter<Self>,
    upstream: Upstream,
}

impl McpTools {
    /// The tools, calling `upstream` for `upstream_status`.
    pub fn new(upstream: Upstream) -> Self {
        McpTools {
            tool_router: Self::tool_router(),
            upstream,
        }
    }
}

fn principal(parts: &Parts) -> Result<&McpPrincipal, ErrorData> {
    // The gate inserts it before rmcp sees the request; its absence is a wiring bug.
    parts
        .extensions
        .get::<McpPrincipal>()
        .ok_or_else(|| ErrorData::internal_error("request not authenticated", None))
}

#[tool_router]
impl McpTools {
    /// The same items as `GET /api/content`, for the authenticated principal.
    #[tool(description = "List the content items (the same as GET /api/content).")]
    async fn list_content(
        &self,
        Extension(parts): Extension<Parts>,
    ) -> Result<CallToolResult, ErrorData> {
        let who = principal(&parts)?;
        Ok(CallToolResult::structured(json!({
            "items": crate::routes::content_items(),
            "subject": who.sub,
            "role": who.role,
        })))
    }

    /// The upstream's HTTP status, fetched with the service's own identity.
    #[tool(description = "Report the HTTP status of the configured upstream service.")]
    async fn upstream_status(
        &self,
        Extension(parts): Extension<Parts>,
    ) -> Result<CallToolResult, ErrorData> {
        principal(&parts)?;
        match self
            .upstream
            .status(parts.headers.get(header::AUTHORIZATION))
            .await
        {
            Ok(status) => Ok(CallToolResult::structured(json!({ "status": status }))),
            Err(e) => Ok(CallToolResult::error(vec![ContentBlock::text(
                e.to_string(),
            )])),
        }
    }
}

#[tool_handler]
impl ServerHandler for McpTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_server_info(
            Implementation::new("xauth-reference", env!("CARGO_PKG_VERSION")),
        )
    }
}
