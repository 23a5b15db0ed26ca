//! The canary upstream: a loopback HTTP server the MCP server under test is told to call
//! (`MCP_UPSTREAM_URL`). It answers 200 to everything and records the credentials each request
//! carried, so a scenario can check that the client's token never reached it (MCP forbids token
//! passthrough: the server must use its own credential upstream). One per run, started before
//! the implementation; every scenario's tokens are its own, so one recorder serves them all.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use parking_lot::Mutex;

/// Most requests recorded (later ones are counted, not kept).
const MAX_RECORDED: usize = 10_000;

/// What one request to the canary carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanaryRequest {
    /// `METHOD path`.
    pub line: String,
    /// Every header value that could carry a credential (`authorization`, `cookie`, `apikey`,
    /// `x-api-key`, …), and the query string, as text.
    pub credentials: Vec<String>,
}

/// The running canary; stopped when dropped.
#[derive(Debug)]
pub struct Canary {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<CanaryRequest>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Canary {
    /// Binds `addr` (a loopback address; port 0 for an ephemeral one) and serves.
    pub async fn start(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new().fallback(record).with_state(seen.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!("the canary upstream stopped: {e}");
            }
        });
        Ok(Self { addr, seen, task })
    }

    /// `http://127.0.0.1:PORT/upstream`.
    pub fn url(&self) -> String {
        format!("http://{}/upstream", self.addr)
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<CanaryRequest> {
        self.seen.lock().clone()
    }

    /// The requests that carried `token` (anywhere in a credential header or the query).
    pub fn carrying(&self, token: &str) -> Vec<CanaryRequest> {
        if token.len() < 8 {
            return Vec::new();
        }
        self.requests()
            .into_iter()
            .filter(|r| r.credentials.iter().any(|c| c.contains(token)))
            .collect()
    }
}

impl Drop for Canary {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(
    State(seen): State<Arc<Mutex<Vec<CanaryRequest>>>>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> &'static str {
    let mut credentials: Vec<String> = headers
        .iter()
        .filter(|(name, _)| {
            let n = name.as_str();
            n == "authorization"
                || n == "cookie"
                || n == "apikey"
                || n.contains("token")
                || n.contains("api-key")
                || n.contains("auth")
        })
        .map(|(_, v)| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    if let Some(q) = uri.query() {
        credentials.push(q.to_owned());
    }
    let mut seen = seen.lock();
    if seen.len() < MAX_RECORDED {
        seen.push(CanaryRequest {
            line: format!("{method} {}", uri.path()),
            credentials,
        });
    }
    "{\"ok\":true}"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn records_the_credentials_a_request_carried() {
        let c = Canary::start("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let client = reqwest::Client::new();
        client
            .get(c.url())
            .bearer_auth("the-clients-token-123")
            .send()
            .await
            .unwrap();
        client
            .get(format!("{}?k=other-secret-456", c.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(c.requests().len(), 2);
        assert_eq!(c.carrying("the-clients-token-123").len(), 1);
        assert_eq!(c.carrying("other-secret-456").len(), 1);
        assert!(c.carrying("never-sent-789").is_empty());
        assert_eq!(c.requests()[0].line, "GET /upstream");
    }
}
