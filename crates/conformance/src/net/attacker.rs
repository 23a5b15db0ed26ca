//! The attacker's loopback listener: serves the attacker's JWKS (for `jku`/`x5u` spoofing) and
//! counts every TCP connection it receives. A correct implementation never contacts it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A running attacker listener; stopped when dropped.
#[derive(Debug)]
pub struct AttackerListener {
    addr: SocketAddr,
    /// A random first path segment, so that this listener's URLs are its own even when a later
    /// listener reuses the port.
    nonce: String,
    connections: Arc<AtomicUsize>,
    request_lines: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl AttackerListener {
    /// Binds `127.0.0.1:0` and serves `body` (JSON) to every request.
    pub async fn start(body: String) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let connections = Arc::new(AtomicUsize::new(0));
        let request_lines = Arc::new(Mutex::new(Vec::new()));
        let (c, lines) = (connections.clone(), request_lines.clone());
        let body = Arc::new(body);
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    continue;
                };
                c.fetch_add(1, Ordering::SeqCst);
                let (lines, body) = (lines.clone(), body.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    let mut len = 0;
                    let read = tokio::time::timeout(Duration::from_secs(2), async {
                        while len < buf.len() {
                            match stream.read(&mut buf[len..]).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => len += n,
                            }
                            if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                                break;
                            }
                        }
                    })
                    .await;
                    let _ = read;
                    let text = String::from_utf8_lossy(&buf[..len]);
                    lines.lock().push(
                        text.lines()
                            .next()
                            .unwrap_or("")
                            .chars()
                            .take(200)
                            .collect(),
                    );
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: max-age=600\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                        body.len(),
                        body
                    );
                    let _ = stream.write_all(resp.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Ok(Self {
            addr,
            nonce: format!("x{}", uuid::Uuid::new_v4().simple()),
            connections,
            request_lines,
            task,
        })
    }

    /// `http://127.0.0.1:PORT/<this listener's nonce>` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}{path}", self.addr, self.nonce)
    }

    /// Connections received so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// First lines of the requests received so far (for the failure report).
    pub fn request_lines(&self) -> Vec<String> {
        self.request_lines.lock().clone()
    }
}

impl Drop for AttackerListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_and_serves() {
        let l = AttackerListener::start(r#"{"keys":[]}"#.into())
            .await
            .unwrap();
        assert_eq!(l.connections(), 0);
        let body = reqwest::get(l.url("/jwks.json"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(body, r#"{"keys":[]}"#);
        assert_eq!(l.connections(), 1);
        // The listener's URLs carry its own nonce: a late request for another listener's URL
        // on a reused port is told apart in the report.
        let path = l.url("/jwks.json");
        let path = path.trim_start_matches(&format!("http://{}", l.addr));
        assert!(
            path.starts_with("/x") && path.ends_with("/jwks.json"),
            "{path}"
        );
        assert!(l.request_lines()[0].starts_with(&format!("GET {path} ")));
    }
}
