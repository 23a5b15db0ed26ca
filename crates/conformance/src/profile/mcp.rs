//! The profile's `[mcp]` section: an MCP server (Streamable HTTP) protected by the issuer's
//! tokens, as an OAuth 2.1 resource server (`features/mcp.feature`).
//!
//! ```
//! use xauth_conformance::profile::Profile;
//!
//! let p = Profile::from_toml_str("[mcp]\nenabled = true\n", "p.toml").unwrap();
//! let base: url::Url = "http://127.0.0.1:8080/".parse().unwrap();
//! assert_eq!(p.mcp.resource_for(&base), "http://127.0.0.1:8080/mcp");
//! assert_eq!(p.mcp.client_id(), Some("xauth-mcp-client"));
//! ```

use serde::{Deserialize, Serialize};

/// How the MCP server decides that a token was issued for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudienceMode {
    /// The Supabase way: `aud` is `authenticated` and the `client_id` claim is in
    /// `allowed_client_ids`.
    Supabase,
    /// The MCP way (RFC 8707): `aud` is the resource identifier (a Custom Access Token Hook
    /// sets it).
    Resource,
}

/// An MCP server as the implementation declares it. Off by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mcp {
    /// Whether the implementation has an MCP endpoint; false skips the MCP family.
    pub enabled: bool,
    /// The MCP endpoint's path (Streamable HTTP: `POST` JSON-RPC). Default `/mcp`.
    pub path: String,
    /// The resource identifier (RFC 8707/9728); `""`: the target's base URL joined with
    /// `path`. With replicas, each instance's own URL.
    pub resource: String,
    /// `supabase` or `resource`. Default `supabase`.
    pub audience_mode: AudienceMode,
    /// The OAuth client ids whose tokens the server accepts (the `client_id` claim). The
    /// first is used for valid tokens; a token of any other client must be refused.
    /// Default `["xauth-mcp-client"]`.
    pub allowed_client_ids: Vec<String>,
    /// The scope that grants the tools (403 `insufficient_scope` names it). Default
    /// `mcp:tools`.
    pub scope: String,
    /// A harmless tool a valid token may call. Default `list_content`.
    pub tool: String,
    /// A tool that calls the upstream at `MCP_UPSTREAM_URL` (the suite's canary); `""`: none,
    /// and the no-passthrough scenario is skipped. Default `upstream_status`.
    pub upstream_tool: String,
    /// Whether PATs (the profile's `[pat]`, created with the scope `mcp.scope`) are accepted on
    /// the MCP endpoint. Default true (it only matters when `[pat]` is enabled).
    pub accepts_pats: bool,
}

impl Default for Mcp {
    fn default() -> Self {
        Self {
            enabled: false,
            path: "/mcp".to_owned(),
            resource: String::new(),
            audience_mode: AudienceMode::Supabase,
            allowed_client_ids: vec!["xauth-mcp-client".to_owned()],
            scope: "mcp:tools".to_owned(),
            tool: "list_content".to_owned(),
            upstream_tool: "upstream_status".to_owned(),
            accepts_pats: true,
        }
    }
}

impl Mcp {
    /// The resource identifier of the instance at `base`.
    pub fn resource_for(&self, base: &url::Url) -> String {
        if self.resource.is_empty() {
            crate::net::urls::join(base, &self.path).to_string()
        } else {
            self.resource.clone()
        }
    }

    /// The client id valid tokens carry.
    pub fn client_id(&self) -> Option<&str> {
        self.allowed_client_ids.first().map(String::as_str)
    }

    /// Checks an enabled section; `Err((field, message))` names the field.
    pub(super) fn validate(&self) -> Result<(), (&'static str, String)> {
        if !self.enabled {
            return Ok(());
        }
        super::RoutePath::new(self.path.as_str()).map_err(|m| ("mcp.path", m))?;
        if !self.resource.is_empty() && url::Url::parse(&self.resource).is_err() {
            return Err(("mcp.resource", format!("{:?} is not a URL", self.resource)));
        }
        if self.audience_mode == AudienceMode::Supabase && self.allowed_client_ids.is_empty() {
            return Err((
                "mcp.allowed_client_ids",
                "the supabase audience mode needs at least one allowed client id".into(),
            ));
        }
        if self.scope.is_empty() || self.scope.contains(char::is_whitespace) {
            return Err(("mcp.scope", "must be one scope name".into()));
        }
        if self.tool.is_empty() {
            return Err(("mcp.tool", "must name a tool".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::profile::Profile;

    #[test]
    fn an_enabled_section_is_checked() {
        let err = |t: &str| Profile::from_toml_str(t, "p.toml").unwrap_err().to_string();
        let e = err("[mcp]\nenabled = true\nallowed_client_ids = []\n");
        assert!(e.starts_with("p.toml:3: mcp.allowed_client_ids: "), "{e}");
        let e = err("[mcp]\nenabled = true\npath = \"mcp\"\n");
        assert!(e.contains("mcp.path"), "{e}");
        let e = err("[mcp]\naudience_mode = \"aud\"\n");
        assert!(e.contains("unknown variant"), "{e}");
        let ok = Profile::from_toml_str(
            "[mcp]\nenabled = true\naudience_mode = \"resource\"\nallowed_client_ids = []\nresource = \"https://api.example/mcp\"\n",
            "p.toml",
        )
        .unwrap();
        let base: url::Url = "http://127.0.0.1:1/".parse().unwrap();
        assert_eq!(ok.mcp.resource_for(&base), "https://api.example/mcp");
        assert_eq!(ok.mcp.client_id(), None);
    }
}
