//! MCP helpers: the API with `--mcp` on, tokens for the MCP resource, and a minimal Streamable
//! HTTP client (POST JSON-RPC, answers parsed from JSON or from SSE `data:` lines).

use serde_json::{Value, json};
use xauth_reference::mcp::McpConfig;
use xauth_reference::{Config, McpArgs};

use super::{Env, start};

/// The OAuth client the tests' tokens come from (in the allow-list).
pub const CLIENT: &str = "mcp-client-1";
/// A client that is not in the allow-list.
pub const FOREIGN_CLIENT: &str = "someone-else";
/// The protocol version the tests negotiate.
pub const PROTOCOL: &str = "2025-06-18";

/// The validated MCP configuration of `argv` (flags after the binary name, `--mcp` implied),
/// with `CLIENT` allowed unless `argv` names clients itself.
pub fn mcp_config(argv: &[&str], defects: &[&str]) -> McpConfig {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        mcp: McpArgs,
    }
    let mut full = vec!["x", "--mcp"];
    if !argv.contains(&"--mcp-allowed-client-id") {
        full.extend(["--mcp-allowed-client-id", CLIENT]);
    }
    full.extend_from_slice(argv);
    let names: Vec<String> = defects.iter().map(|d| (*d).to_owned()).collect();
    Cli::try_parse_from(full)
        .unwrap()
        .mcp
        .config(&names)
        .unwrap()
        .unwrap()
}

/// The issuer and the API with the MCP endpoint configured by `argv` and `defects`.
pub async fn start_mcp(argv: &[&str], defects: &[&str]) -> Env {
    let mcp = mcp_config(argv, defects);
    start(move |c: &mut Config| c.mcp = Some(mcp)).await
}

impl Env {
    /// The default resource identifier of this server.
    pub fn resource(&self) -> String {
        self.url("/mcp")
    }

    /// The metadata URL every challenge names.
    pub fn metadata_url(&self) -> String {
        self.url("/.well-known/oauth-protected-resource/mcp")
    }

    /// A token an MCP client of Supabase's OAuth server gets: the GoTrue claims plus
    /// `client_id` (`CLIENT`), `extra` merged over them (`null` removes a claim).
    pub fn mcp_token(&self, extra: Value) -> String {
        let mut claims = json!({ "client_id": CLIENT });
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        self.token(claims)
    }

    /// POSTs one JSON-RPC message to `/mcp` (`path_suffix` e.g. `?access_token=…`), with the
    /// bearer and extra headers given.
    pub async fn mcp_post_to(
        &self,
        path_suffix: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        message: &Value,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .post(self.url(&format!("/mcp{path_suffix}")))
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(message.to_string());
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.expect("request completes")
    }

    pub async fn mcp_post(&self, token: Option<&str>, message: &Value) -> reqwest::Response {
        self.mcp_post_to("", token, &[], message).await
    }

    /// `initialize` with `token`: the raw answer.
    pub async fn mcp_initialize(&self, token: Option<&str>) -> reqwest::Response {
        self.mcp_post(token, &initialize()).await
    }

    /// The whole handshake and a `tools/call` of `tool`: asserts each step succeeds and returns
    /// the call's JSON-RPC `result`.
    pub async fn mcp_call(&self, token: &str, tool: &str) -> Value {
        let resp = self.mcp_initialize(Some(token)).await;
        assert_eq!(resp.status(), 200, "initialize");
        let session = resp
            .headers()
            .get("mcp-session-id")
            .map(|v| v.to_str().unwrap().to_owned());
        let init = rpc_answer(resp).await;
        assert!(init["result"]["protocolVersion"].is_string(), "{init}");
        let mut headers = vec![("mcp-protocol-version", PROTOCOL)];
        if let Some(s) = &session {
            headers.push(("mcp-session-id", s));
        }
        let resp = self
            .mcp_post_to(
                "",
                Some(token),
                &headers,
                &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
            )
            .await;
        assert_eq!(resp.status(), 202, "notifications/initialized");
        let resp = self
            .mcp_post_to(
                "",
                Some(token),
                &headers,
                &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
            )
            .await;
        assert_eq!(resp.status(), 200, "tools/list");
        let list = rpc_answer(resp).await;
        let names: Vec<&str> = list["result"]["tools"]
            .as_array()
            .unwrap_or_else(|| panic!("{list}"))
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"list_content") && names.contains(&"upstream_status"));
        let resp = self
            .mcp_post_to("", Some(token), &headers, &call(tool))
            .await;
        assert_eq!(resp.status(), 200, "tools/call");
        let answer = rpc_answer(resp).await;
        assert_eq!(answer["id"], 3, "{answer}");
        answer["result"].clone()
    }

    /// The status of `initialize` with `token` (200 or the gate's refusal).
    pub async fn mcp_status(&self, token: Option<&str>) -> u16 {
        self.mcp_initialize(token).await.status().as_u16()
    }
}

/// An `initialize` request.
pub fn initialize() -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL,
            "capabilities": {},
            "clientInfo": {"name": "xauth-tests", "version": "0"}
        }
    })
}

/// A `tools/call` of `tool` without arguments (id 3).
pub fn call(tool: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
           "params": {"name": tool, "arguments": {}}})
}

/// The JSON-RPC message of an answer: the JSON body, or the last SSE `data:` event.
pub async fn rpc_answer(resp: reqwest::Response) -> Value {
    let sse = resp
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap().starts_with("text/event-stream"));
    let text = resp.text().await.unwrap();
    if !sse {
        return serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON-RPC body: {text}"));
    }
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .rfind(|v| v.get("id").is_some())
        .unwrap_or_else(|| panic!("SSE body without an answer: {text}"))
}

/// The JSON text content of a tool result.
pub fn tool_json(result: &Value) -> Value {
    let text = result["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("text content: {result}"));
    serde_json::from_str(text).unwrap()
}
