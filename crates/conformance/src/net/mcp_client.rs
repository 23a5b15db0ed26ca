//! A minimal MCP client over Streamable HTTP, on the target client (so every request is an
//! [`Exchange`] in the evidence): `initialize`, `notifications/initialized`, `tools/call`.
//! Answers may be JSON or an SSE stream (`data: {…}` lines); both are read.
//!
//! ```
//! use xauth_conformance::net::mcp_client::rpc_message;
//! let sse = b"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n";
//! assert_eq!(rpc_message(sse, 1).unwrap()["result"], serde_json::json!({}));
//! ```

use serde_json::{Value, json};

use crate::net::evidence::Exchange;
use crate::net::target::TargetClient;

/// The protocol revision the suite speaks.
pub const PROTOCOL_VERSION: &str = "2025-06-18";

/// Where and how to send: the endpoint, a bearer (or none), extra headers.
#[derive(Debug, Clone)]
pub struct McpRequest<'a> {
    /// The MCP endpoint.
    pub url: url::Url,
    /// `Authorization: Bearer …`, if any.
    pub bearer: Option<&'a str>,
    /// Extra headers (e.g. `origin`).
    pub headers: Vec<(String, String)>,
}

/// The JSON-RPC `initialize` request.
pub fn initialize(id: u64) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "xauth-conformance", "version": env!("CARGO_PKG_VERSION")}
        }
    })
}

/// POSTs one JSON-RPC message.
pub async fn post(
    client: &TargetClient,
    req: &McpRequest<'_>,
    session: Option<&str>,
    message: &Value,
) -> Exchange {
    let mut headers = vec![
        ("content-type".to_owned(), b"application/json".to_vec()),
        (
            "accept".to_owned(),
            b"application/json, text/event-stream".to_vec(),
        ),
    ];
    if let Some(b) = req.bearer {
        headers.push((
            "authorization".to_owned(),
            format!("Bearer {b}").into_bytes(),
        ));
    }
    if let Some(s) = session {
        headers.push(("mcp-session-id".to_owned(), s.as_bytes().to_vec()));
        headers.push((
            "mcp-protocol-version".to_owned(),
            PROTOCOL_VERSION.as_bytes().to_vec(),
        ));
    }
    for (n, v) in &req.headers {
        headers.push((n.clone(), v.clone().into_bytes()));
    }
    client
        .send_with_body(
            reqwest::Method::POST,
            req.url.clone(),
            headers,
            Some(message.to_string().into_bytes()),
            req.bearer.map(str::to_owned),
        )
        .await
}

/// The JSON-RPC message with `id` in a JSON or SSE body.
pub fn rpc_message(body: &[u8], id: u64) -> Option<Value> {
    let has_id = |v: &Value| v.get("id").and_then(Value::as_u64) == Some(id);
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return match v {
            Value::Array(items) => items.into_iter().find(has_id),
            v if has_id(&v) => Some(v),
            _ => None,
        };
    }
    let text = String::from_utf8_lossy(body);
    // SSE: events separated by blank lines; `data:` lines of one event are joined by "\n".
    text.split("\n\n").find_map(|event| {
        let data: Vec<&str> = event
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(|d| d.strip_prefix(' ').unwrap_or(d))
            .collect();
        serde_json::from_str::<Value>(&data.join("\n"))
            .ok()
            .filter(has_id)
    })
}

/// What a tool call saw: every exchange, and the `tools/call` answer's JSON-RPC message.
#[derive(Debug, Clone, Default)]
pub struct ToolCall {
    /// initialize, initialized, tools/call (as far as they got).
    pub exchanges: Vec<Exchange>,
    /// The `tools/call` response message, when one arrived.
    pub message: Option<Value>,
}

fn ok_body(ex: &Exchange) -> Option<&[u8]> {
    ex.outcome
        .as_ref()
        .ok()
        .filter(|r| (200..300).contains(&r.status))
        .map(|r| r.body.as_slice())
}

/// `initialize`, `notifications/initialized`, then `tools/call` of `tool` with no arguments;
/// stops at the first answer that is not a 2xx.
pub async fn call_tool(client: &TargetClient, req: &McpRequest<'_>, tool: &str) -> ToolCall {
    let mut out = ToolCall::default();
    let init = post(client, req, None, &initialize(1)).await;
    let session = init
        .outcome
        .as_ref()
        .ok()
        .and_then(|r| r.header("mcp-session-id").map(str::to_owned));
    let ok = ok_body(&init).and_then(|b| rpc_message(b, 1)).is_some();
    out.exchanges.push(init);
    if !ok {
        return out;
    }
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let ex = post(client, req, session.as_deref(), &initialized).await;
    let ok = ex
        .outcome
        .as_ref()
        .is_ok_and(|r| (200..300).contains(&r.status));
    out.exchanges.push(ex);
    if !ok {
        return out;
    }
    let call = json!({
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": tool, "arguments": {}}
    });
    let ex = post(client, req, session.as_deref(), &call).await;
    out.message = ok_body(&ex).and_then(|b| rpc_message(b, 2));
    out.exchanges.push(ex);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_found_in_json_and_sse_bodies() {
        let json = br#"{"jsonrpc":"2.0","id":2,"result":{"content":[]}}"#;
        assert!(rpc_message(json, 2).is_some());
        assert!(rpc_message(json, 1).is_none());
        let sse = b"id: 7\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\ndata: \"id\":2,\"result\":{}}\n\n";
        assert_eq!(rpc_message(sse, 2).unwrap()["result"], json!({}));
        assert!(rpc_message(b"not json", 1).is_none());
        let batch = br#"[{"jsonrpc":"2.0","id":1,"result":1},{"jsonrpc":"2.0","id":2,"result":2}]"#;
        assert_eq!(rpc_message(batch, 2).unwrap()["result"], 2);
    }
}
