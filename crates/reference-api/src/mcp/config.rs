//! The MCP command line ([`McpArgs`], flattened into the binary's arguments) and the validated
//! [`McpConfig`].

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use super::defect::McpDefects;

/// The scope that grants the MCP tools, by default (and the PAT scope of the same name).
pub const DEFAULT_SCOPE: &str = "mcp:tools";

/// The conformance suite's name for the upstream (its canary), read when neither
/// `--mcp-upstream` nor `XAUTH_MCP_UPSTREAM_URL` is given.
pub const SUITE_UPSTREAM_VAR: &str = "MCP_UPSTREAM_URL";

/// How long the `upstream_status` tool waits for the upstream.
pub const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(5);

/// Which `aud` a JWT must carry on `/mcp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AudienceMode {
    /// Supabase's OAuth 2.1 server: `aud` = `authenticated` and a `client_id` in the allow-list.
    Supabase,
    /// RFC 8707: `aud` = the resource identifier (`client_id` checked when an allow-list is set).
    Resource,
}

/// The MCP endpoint (`/mcp`): off unless `--mcp` (or `XAUTH_MCP=true`).
#[derive(Debug, Clone, clap::Args)]
pub struct McpArgs {
    /// Enable the MCP endpoint (`/mcp`) and its protected resource metadata.
    #[arg(id = "mcp", long = "mcp", env = "XAUTH_MCP", value_parser = clap::builder::BoolishValueParser::new(),
          num_args = 0..=1, default_value = "false", default_missing_value = "true")]
    pub enabled: bool,
    /// The resource identifier (default: http://127.0.0.1:<bound port>/mcp).
    #[arg(long, value_name = "URL")]
    pub mcp_resource: Option<String>,
    /// Which audience a JWT must carry: `supabase` (aud authenticated + an allowed client_id)
    /// or `resource` (aud = the resource identifier).
    #[arg(long, value_enum, default_value = "supabase")]
    pub mcp_audience_mode: AudienceMode,
    /// An OAuth client id whose tokens are accepted (repeatable; the environment takes a
    /// comma-separated list).
    #[arg(
        long = "mcp-allowed-client-id",
        value_name = "ID",
        env = "XAUTH_MCP_ALLOWED_CLIENT_IDS",
        value_delimiter = ','
    )]
    pub mcp_allowed_client_ids: Vec<String>,
    /// The scope that grants the tools (a JWT's `scope` claim, when it has one, must list it).
    #[arg(long, value_name = "S", default_value = DEFAULT_SCOPE)]
    pub mcp_scope: String,
    /// A browser Origin allowed besides the resource's own (repeatable).
    #[arg(long = "mcp-allowed-origin", value_name = "ORIGIN")]
    pub mcp_allowed_origins: Vec<String>,
    /// The upstream the `upstream_status` tool calls (GET). Unset: MCP_UPSTREAM_URL, the
    /// conformance suite's variable, if set.
    #[arg(long, value_name = "URL", env = "XAUTH_MCP_UPSTREAM_URL")]
    pub mcp_upstream: Option<String>,
    /// The service's own credential for the upstream (never the client's token).
    #[arg(long, env = "XAUTH_MCP_UPSTREAM_TOKEN", hide_env_values = true)]
    pub mcp_upstream_token: Option<String>,
}

/// An MCP configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum McpConfigError {
    /// Not an absolute http(s) URL without query or fragment.
    #[error("--{flag} must be an absolute http(s) URL without query, fragment or userinfo")]
    Url {
        /// The flag.
        flag: &'static str,
    },
    /// An Origin that is not `scheme://host[:port]`.
    #[error("--mcp-allowed-origin must be scheme://host[:port] (or null)")]
    Origin,
    /// An empty or malformed scope.
    #[error("--mcp-scope must be one non-empty scope token without spaces or quotes")]
    Scope,
    /// A `mcp-*` defect without `--mcp`.
    #[error("--defect {0} is an MCP defect: it needs --mcp")]
    DefectWithoutMcp(&'static str),
}

/// Everything the MCP endpoint runs with.
#[derive(Clone)]
pub struct McpConfig {
    /// The resource identifier; `None`: `http://<bound address>/mcp`, filled in at start.
    pub resource: Option<String>,
    /// Which audience a JWT must carry.
    pub audience_mode: AudienceMode,
    /// The accepted OAuth client ids.
    pub allowed_client_ids: Vec<String>,
    /// The scope that grants the tools.
    pub scope: String,
    /// Allowed browser Origins besides the resource's own, ASCII-serialized.
    pub allowed_origins: Vec<String>,
    /// What `upstream_status` calls.
    pub upstream: Option<url::Url>,
    /// The service's own bearer for the upstream (never logged).
    pub upstream_token: Option<String>,
    /// Bound on one upstream call.
    pub upstream_timeout: Duration,
    /// Seeded MCP defects.
    pub defects: McpDefects,
}

impl fmt::Debug for McpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpConfig")
            .field("resource", &self.resource)
            .field("audience_mode", &self.audience_mode)
            .field("allowed_client_ids", &self.allowed_client_ids)
            .field("scope", &self.scope)
            .field("allowed_origins", &self.allowed_origins)
            .field("upstream", &self.upstream.as_ref().map(url::Url::as_str))
            .field(
                "upstream_token",
                &self.upstream_token.as_ref().map(|_| "<redacted>"),
            )
            .field("defects", &self.defects)
            .finish_non_exhaustive()
    }
}

impl Default for McpConfig {
    fn default() -> Self {
        McpConfig {
            resource: None,
            audience_mode: AudienceMode::Supabase,
            allowed_client_ids: Vec::new(),
            scope: DEFAULT_SCOPE.to_owned(),
            allowed_origins: Vec::new(),
            upstream: None,
            upstream_token: None,
            upstream_timeout: UPSTREAM_TIMEOUT,
            defects: McpDefects::none(),
        }
    }
}

/// `url` parsed as an absolute http(s) URL without query, fragment or userinfo.
pub fn check_url(flag: &'static str, url: &str) -> Result<url::Url, McpConfigError> {
    let parsed = url::Url::parse(url.trim()).map_err(|_| McpConfigError::Url { flag })?;
    let ok = matches!(parsed.scheme(), "http" | "https")
        && parsed.host_str().is_some_and(|h| !h.is_empty())
        && parsed.fragment().is_none()
        && parsed.username().is_empty()
        && parsed.password().is_none();
    if ok && (flag != "mcp-resource" || parsed.query().is_none()) {
        Ok(parsed)
    } else {
        Err(McpConfigError::Url { flag })
    }
}

/// The ASCII serialization of an Origin value (`null` stays `null`), or `None` when it is not
/// an origin.
pub fn normalize_origin(origin: &str) -> Option<String> {
    let origin = origin.trim();
    if origin == "null" {
        return Some("null".to_owned());
    }
    let parsed = url::Url::parse(origin).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return None;
    }
    if !matches!(parsed.path(), "" | "/") || parsed.query().is_some() {
        return None;
    }
    Some(parsed.origin().ascii_serialization())
}

impl McpConfig {
    /// The resource identifier when the server is bound to `addr`.
    pub fn resource_for(&self, addr: SocketAddr) -> String {
        self.resource
            .clone()
            .unwrap_or_else(|| format!("http://{addr}/mcp"))
    }
}

impl McpArgs {
    /// The validated configuration, or `None` when the endpoint is off. `defect_names` is the
    /// whole `--defect` list; the MCP names are picked out of it (one without `--mcp` is an
    /// error).
    ///
    /// ```
    /// use clap::Parser;
    /// #[derive(Parser)]
    /// struct Cli { #[command(flatten)] mcp: xauth_reference::mcp::McpArgs }
    /// let cli = Cli::try_parse_from(["x", "--mcp", "--mcp-allowed-client-id", "c1"]).unwrap();
    /// let mcp = cli.mcp.config(&[]).unwrap().unwrap();
    /// assert_eq!(mcp.scope, "mcp:tools");
    /// assert_eq!(mcp.allowed_client_ids, vec!["c1"]);
    /// let off = Cli::try_parse_from(["x"]).unwrap();
    /// assert!(off.mcp.config(&[]).unwrap().is_none());
    /// ```
    pub fn config(&self, defect_names: &[String]) -> Result<Option<McpConfig>, McpConfigError> {
        let defects = McpDefects::from_names(defect_names);
        if !self.enabled {
            return match defects.names().first() {
                Some(d) => Err(McpConfigError::DefectWithoutMcp(d)),
                None => Ok(None),
            };
        }
        let resource = match self.mcp_resource.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(r) => Some(check_url("mcp-resource", r)?.to_string()),
        };
        let suite_upstream = std::env::var(SUITE_UPSTREAM_VAR).ok();
        let upstream = match self
            .mcp_upstream
            .as_deref()
            .or(suite_upstream.as_deref())
            .map(str::trim)
        {
            None | Some("") => None,
            Some(u) => Some(check_url("mcp-upstream", u)?),
        };
        let scope = self.mcp_scope.trim();
        if scope.is_empty() || scope.contains(|c: char| c.is_whitespace() || c == '"' || c == '\\')
        {
            return Err(McpConfigError::Scope);
        }
        let allowed_origins = self
            .mcp_allowed_origins
            .iter()
            .map(|o| normalize_origin(o).ok_or(McpConfigError::Origin))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(McpConfig {
            resource,
            audience_mode: self.mcp_audience_mode,
            allowed_client_ids: self
                .mcp_allowed_client_ids
                .iter()
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .collect(),
            scope: scope.to_owned(),
            allowed_origins,
            upstream,
            upstream_token: self
                .mcp_upstream_token
                .clone()
                .filter(|t| !t.trim().is_empty()),
            upstream_timeout: UPSTREAM_TIMEOUT,
            defects,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        mcp: McpArgs,
    }

    fn parse(args: &[&str]) -> Result<Option<McpConfig>, McpConfigError> {
        let mut argv = vec!["x"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).unwrap().mcp.config(&[])
    }

    #[test]
    fn off_by_default_and_validated_when_on() {
        assert!(parse(&[]).unwrap().is_none());
        let c = parse(&["--mcp"]).unwrap().unwrap();
        assert_eq!(c.audience_mode, AudienceMode::Supabase);
        assert_eq!(c.scope, DEFAULT_SCOPE);
        assert_eq!(
            c.resource_for("127.0.0.1:8080".parse().unwrap()),
            "http://127.0.0.1:8080/mcp"
        );
        let c = parse(&[
            "--mcp",
            "--mcp-audience-mode",
            "resource",
            "--mcp-resource",
            "https://api.example.com/mcp",
            "--mcp-allowed-origin",
            "https://app.example.com:443/",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(c.audience_mode, AudienceMode::Resource);
        assert_eq!(c.resource.as_deref(), Some("https://api.example.com/mcp"));
        assert_eq!(c.allowed_origins, vec!["https://app.example.com"]);
        for bad in [
            ["--mcp-resource", "ftp://x/mcp"],
            ["--mcp-resource", "http://h/mcp?x=1"],
            ["--mcp-upstream", "not a url"],
            ["--mcp-allowed-origin", "https://a/path"],
            ["--mcp-scope", "a b"],
        ] {
            assert!(parse(&["--mcp", bad[0], bad[1]]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_mcp_defect_needs_mcp() {
        let cli = Cli::try_parse_from(["x"]).unwrap();
        assert_eq!(
            cli.mcp.config(&["mcp-query-token".to_owned()]).unwrap_err(),
            McpConfigError::DefectWithoutMcp("mcp-query-token")
        );
        assert!(cli.mcp.config(&["alg-none".to_owned()]).unwrap().is_none());
    }

    #[test]
    fn debug_never_shows_the_upstream_token() {
        let c = McpConfig {
            upstream_token: Some("service-secret".into()),
            ..McpConfig::default()
        };
        assert!(!format!("{c:?}").contains("service-secret"));
    }
}
