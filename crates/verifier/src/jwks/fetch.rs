//! One bounded JWKS fetch: no redirects, a whole-request timeout, a streamed size cap.

use std::time::Duration;

use http::header::{ACCEPT, CACHE_CONTROL};

use super::JwksError;
use crate::config::JwksPolicy;
use crate::keys::KeySet;

/// A fetched and parsed key set plus the TTL its response asked for.
pub(crate) struct Fetched {
    pub(crate) keys: KeySet,
    /// `Cache-Control: max-age` in seconds, when present (`no-store`/`no-cache` count as 0).
    pub(crate) max_age: Option<u64>,
}

/// An HTTP client for JWKS fetches: redirects off, proxies off, no retries.
pub(crate) fn client(policy: &JwksPolicy) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .retry(reqwest::retry::never())
        // Fetches are minutes apart: a pooled connection is by then usually closed by the
        // issuer, and a request sent on it fails without reaching the issuer, after which the
        // cooldown delays the next attempt. A fresh connection per fetch costs nothing here.
        .pool_max_idle_per_host(0)
        .no_proxy()
        .timeout(policy.fetch_timeout)
        .connect_timeout(policy.fetch_timeout)
        .build()
}

/// Fetches `url` once, within `policy.fetch_timeout`, refusing bodies over `policy.max_bytes`.
pub(crate) async fn fetch(
    client: &reqwest::Client,
    url: &str,
    policy: &JwksPolicy,
) -> Result<Fetched, JwksError> {
    match tokio::time::timeout(policy.fetch_timeout, fetch_inner(client, url, policy)).await {
        Ok(r) => r,
        Err(_) => Err(JwksError::Timeout),
    }
}

async fn fetch_inner(
    client: &reqwest::Client,
    url: &str,
    policy: &JwksPolicy,
) -> Result<Fetched, JwksError> {
    let mut resp = client
        .get(url)
        .header(ACCEPT, "application/json, application/jwk-set+json")
        .send()
        .await
        .map_err(transport)?;
    let status = resp.status();
    if status != reqwest::StatusCode::OK {
        return Err(JwksError::Status(status.as_u16()));
    }
    let max_age = resp
        .headers()
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(parse_max_age);
    if resp
        .content_length()
        .is_some_and(|n| n > policy.max_bytes as u64)
    {
        return Err(JwksError::TooLarge(policy.max_bytes));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > policy.max_bytes {
            return Err(JwksError::TooLarge(policy.max_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    let doc: serde_json::Value = serde_json::from_slice(&body).map_err(|_| JwksError::Malformed)?;
    let keys = KeySet::from_document(&doc, policy.max_keys).ok_or(JwksError::Malformed)?;
    Ok(Fetched { keys, max_age })
}

fn transport(e: reqwest::Error) -> JwksError {
    if e.is_timeout() {
        JwksError::Timeout
    } else {
        // Only the error kind: URLs and bodies stay out of error text.
        JwksError::Transport(if e.is_connect() {
            "connect".to_owned()
        } else if e.is_body() || e.is_decode() {
            "body".to_owned()
        } else {
            "request".to_owned()
        })
    }
}

/// Reads the freshness lifetime from one `Cache-Control` value: `max-age=N` (or `s-maxage`
/// ignored), `no-store`/`no-cache` → 0. Returns `None` when the value says nothing.
pub(crate) fn parse_max_age(value: &str) -> Option<u64> {
    let mut out = None;
    for directive in value.split(',') {
        let d = directive.trim();
        let (name, arg) = match d.split_once('=') {
            Some((n, a)) => (n.trim(), Some(a.trim().trim_matches('"'))),
            None => (d, None),
        };
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return Some(0);
        }
        if name.eq_ignore_ascii_case("max-age")
            && let Some(a) = arg.filter(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()))
        {
            // Saturate absurd values; the policy clamps them anyway.
            out = Some(a.parse::<u64>().unwrap_or(u64::MAX));
        }
    }
    out
}

/// Clamps a response TTL into the policy bounds.
pub(crate) fn ttl(policy: &JwksPolicy, max_age: Option<u64>) -> Duration {
    let raw = max_age.map_or(policy.default_ttl, Duration::from_secs);
    raw.clamp(policy.min_ttl, policy.max_ttl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control() {
        assert_eq!(parse_max_age("max-age=60"), Some(60));
        assert_eq!(
            parse_max_age("public, Max-Age=600, must-revalidate"),
            Some(600)
        );
        assert_eq!(parse_max_age("no-store"), Some(0));
        assert_eq!(parse_max_age("public"), None);
        assert_eq!(parse_max_age("max-age=-1"), None);
        assert_eq!(
            parse_max_age("max-age=99999999999999999999999"),
            Some(u64::MAX)
        );
        let p = JwksPolicy::default();
        assert_eq!(ttl(&p, Some(1)), p.min_ttl);
        assert_eq!(ttl(&p, Some(u64::MAX)), p.max_ttl);
        assert_eq!(ttl(&p, None), p.default_ttl);
        assert_eq!(ttl(&p, Some(120)), Duration::from_secs(120));
    }
}
