//! Bounded HTTP requests to the implementation under test: per-request timeout from the run
//! context, redirects never followed, response bodies capped, optional loopback source address.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::net::evidence::{Exchange, Response};

/// Largest response body kept (the rest is discarded and the body marked truncated).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Why the HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct ClientError(#[from] reqwest::Error);

/// A client builder that loads the platform's CA roots only when `base` needs TLS. Loading
/// them costs about 13 ms of CPU per client in a debug build (every scenario builds its own
/// clients); a plain-HTTP client without them builds in microseconds.
pub fn client_builder_for(base: &url::Url) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder();
    if base.scheme() == "https" {
        builder
    } else {
        builder.tls_certs_only(Vec::<reqwest::Certificate>::new())
    }
}

/// A client for the target. Cheap to clone.
#[derive(Debug, Clone)]
pub struct TargetClient {
    client: reqwest::Client,
    source: Option<IpAddr>,
}

impl TargetClient {
    /// A client for URLs under `base` (its scheme decides whether TLS roots are loaded),
    /// bounded by `timeout`, binding `source` as local address when given.
    pub fn new(
        base: &url::Url,
        timeout: Duration,
        source: Option<IpAddr>,
    ) -> Result<Self, ClientError> {
        let client = client_builder_for(base)
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .local_address(source)
            .pool_max_idle_per_host(2)
            .build()?;
        Ok(Self { client, source })
    }

    /// The bound source address, if any.
    pub fn source(&self) -> Option<IpAddr> {
        self.source
    }

    /// Sends one request; transport failures are recorded in the exchange, never raised.
    /// Header values are raw bytes; a value HTTP cannot carry is reported as a transport error.
    pub async fn send(
        &self,
        method: reqwest::Method,
        url: url::Url,
        headers: Vec<(String, Vec<u8>)>,
        token: Option<String>,
    ) -> Exchange {
        self.send_with_body(method, url, headers, None, token).await
    }

    /// [`send`](Self::send) with a request body.
    pub async fn send_with_body(
        &self,
        method: reqwest::Method,
        url: url::Url,
        headers: Vec<(String, Vec<u8>)>,
        body: Option<Vec<u8>>,
        token: Option<String>,
    ) -> Exchange {
        let started = Instant::now();
        let mut exchange = Exchange {
            method: method.to_string(),
            url: url.to_string(),
            request_headers: headers
                .iter()
                .map(|(n, v)| (n.clone(), String::from_utf8_lossy(v).into_owned()))
                .collect(),
            token,
            outcome: Err(TransportError::Suite("no request sent".into())),
            elapsed: Duration::ZERO,
        };
        let mut req = self.client.request(method, url);
        if let Some(body) = body {
            req = req.body(body);
        }
        for (name, value) in &headers {
            let name = match reqwest::header::HeaderName::from_bytes(name.as_bytes()) {
                Ok(n) => n,
                Err(e) => {
                    exchange.outcome = Err(TransportError::HeaderName {
                        name: name.clone(),
                        detail: e.to_string(),
                    });
                    return exchange;
                }
            };
            let value = match reqwest::header::HeaderValue::from_bytes(value) {
                Ok(v) => v,
                Err(e) => {
                    exchange.outcome = Err(TransportError::HeaderValue(e.to_string()));
                    return exchange;
                }
            };
            req = req.header(name, value);
        }
        exchange.outcome = match req.send().await {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let headers = resp
                    .headers()
                    .iter()
                    .map(|(n, v)| {
                        (
                            n.to_string(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect();
                let mut body = Vec::new();
                let mut truncated = false;
                loop {
                    match resp.chunk().await {
                        Ok(Some(chunk)) => {
                            let room = MAX_BODY_BYTES.saturating_sub(body.len());
                            if chunk.len() > room {
                                body.extend_from_slice(&chunk[..room]);
                                truncated = true;
                                break;
                            }
                            body.extend_from_slice(&chunk);
                        }
                        Ok(None) => break,
                        Err(e) => {
                            truncated = true;
                            tracing::debug!("response body read failed: {e}");
                            break;
                        }
                    }
                }
                Ok(Response {
                    status,
                    headers,
                    body,
                    body_truncated: truncated,
                })
            }
            Err(e) => Err(describe_error(&e)),
        };
        exchange.elapsed = started.elapsed();
        exchange
    }
}

/// The error of an exchange without a response (defined with the evidence it is part of).
pub use crate::net::evidence::TransportError;

fn describe_error(e: &reqwest::Error) -> TransportError {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(&format!(": {s}"));
        source = s.source();
    }
    if e.is_timeout() {
        TransportError::Timeout(msg)
    } else if e.is_connect() {
        TransportError::Connect(msg)
    } else if e.is_request() {
        TransportError::Request(msg)
    } else {
        TransportError::Transport(msg)
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    /// A one-shot HTTP server answering `response` and reporting the client's address.
    async fn server(response: Vec<u8>) -> (SocketAddr, tokio::task::JoinHandle<SocketAddr>) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let (mut s, peer) = l.accept().await.unwrap();
            let mut buf = vec![0u8; 8192];
            let mut n = 0;
            while !buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                n += s.read(&mut buf[n..]).await.unwrap();
            }
            let _ = s.write_all(&response).await;
            let _ = s.shutdown().await;
            peer
        });
        (addr, task)
    }

    fn url(addr: SocketAddr) -> url::Url {
        format!("http://{addr}/x").parse().unwrap()
    }

    /// A client for a loopback target with `timeout` and an optional source address.
    fn client(timeout: Duration, source: Option<IpAddr>) -> TargetClient {
        TargetClient::new(&"http://127.0.0.1/".parse().unwrap(), timeout, source).unwrap()
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        let (addr, task) = server(
            b"HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:1/elsewhere\r\ncontent-length: 0\r\n\r\n".to_vec(),
        )
        .await;
        let c = client(Duration::from_secs(5), None);
        let ex = c.send(reqwest::Method::GET, url(addr), vec![], None).await;
        let r = ex.outcome.unwrap();
        assert_eq!(r.status, 302);
        assert_eq!(r.header("location"), Some("http://127.0.0.1:1/elsewhere"));
        task.await.unwrap();
    }

    #[tokio::test]
    async fn bodies_are_capped() {
        let body = "x".repeat(MAX_BODY_BYTES * 2);
        let resp = format!(
            "HTTP/1.1 401 Unauthorized\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let (addr, task) = server(resp.into_bytes()).await;
        let c = client(Duration::from_secs(5), None);
        let ex = c.send(reqwest::Method::GET, url(addr), vec![], None).await;
        let r = ex.outcome.unwrap();
        assert_eq!(r.body.len(), MAX_BODY_BYTES);
        assert!(r.body_truncated);
        task.await.unwrap();
    }

    #[tokio::test]
    async fn the_source_address_is_bound_and_bad_headers_are_reported() {
        let (addr, task) = server(b"HTTP/1.1 204 No Content\r\n\r\n".to_vec()).await;
        let source: IpAddr = "127.0.0.77".parse().unwrap();
        let c = client(Duration::from_secs(5), Some(source));
        let bad = c
            .send(
                reqwest::Method::GET,
                url(addr),
                vec![("authorization".into(), b"a\nb".to_vec())],
                None,
            )
            .await;
        assert!(matches!(
            bad.outcome.unwrap_err(),
            TransportError::HeaderValue(_)
        ));
        let ex = c.send(reqwest::Method::GET, url(addr), vec![], None).await;
        assert_eq!(ex.outcome.unwrap().status, 204);
        assert_eq!(task.await.unwrap().ip(), source);
    }

    #[tokio::test]
    async fn a_silent_server_times_out_within_the_bound() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let _hold = tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(s);
        });
        let c = client(Duration::from_millis(300), None);
        let ex = c.send(reqwest::Method::GET, url(addr), vec![], None).await;
        let err = ex.outcome.unwrap_err();
        assert!(matches!(err, TransportError::Timeout(_)));
        assert!(err.to_string().starts_with("timeout error: "));
        assert!(ex.elapsed < Duration::from_secs(5));
    }
}
