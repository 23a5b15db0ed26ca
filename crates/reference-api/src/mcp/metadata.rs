//! RFC 9728 Protected Resource Metadata for the MCP endpoint, served at
//! `/.well-known/oauth-protected-resource/mcp` and `/.well-known/oauth-protected-resource`
//! without authentication.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::McpState;
use super::defect::McpDefect;
use crate::state::AppState;

/// The path of the metadata document for the `/mcp` resource (RFC 9728 §3.1: the well-known
/// prefix followed by the resource's path).
pub const METADATA_PATH: &str = "/.well-known/oauth-protected-resource/mcp";

/// The root form, for clients that only try it.
pub const ROOT_METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// The human-readable name in the document.
pub const RESOURCE_NAME: &str = "xauth reference";

/// How long clients and caches may keep the document.
const CACHE_CONTROL: &str = "public, max-age=300";

/// The metadata document of `mcp`. No `scopes_supported`: clients would ask the
/// authorization server for them, and Supabase's grants OpenID scopes only (see
/// [`super::auth::challenge`]).
pub fn document(mcp: &McpState) -> Value {
    let resource = if mcp.defects().has(McpDefect::MetadataResourceMismatch) {
        // SEEDED DEFECT mcp-metadata-resource-mismatch: the base URL, not the MCP resource.
        mcp.origin.clone()
    } else {
        mcp.resource.clone()
    };
    json!({
        "resource": resource,
        "authorization_servers": [mcp.authorization_server],
        "bearer_methods_supported": ["header"],
        "resource_name": RESOURCE_NAME,
    })
}

/// `GET` of either metadata path.
pub async fn serve(State(state): State<AppState>) -> Response {
    let Some(mcp) = state.mcp.as_deref() else {
        return crate::error::ApiError::NotFound.into_response();
    };
    let mut response = axum::Json(document(mcp)).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    response
}
