//! Shared test harness: the real `xauth-issuer` and the reference API, both in-process on
//! ephemeral loopback ports, and a plain HTTP client.
#![allow(dead_code)]

pub mod mcp;
pub mod pats;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use governor::clock::FakeRelativeClock;
use serde_json::{Map, Value, json};
use xauth_issuer::{Issuer, IssuerHandle, KeyAlg, MintRequest};
use xauth_reference::{Config, RateClock, ServerHandle};

pub const EMAIL: &str = "alice@example.com";
pub const PASSWORD: &str = "correct-horse-battery";

pub struct Env {
    pub issuer: IssuerHandle,
    pub api: ServerHandle,
    pub clock: FakeRelativeClock,
    pub http: reqwest::Client,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Starts an issuer (one seeded user) and the API on it, with a fake rate-limit clock and the
/// legacy HS256 secret configured. `tweak` adjusts the API config.
pub async fn start(tweak: impl FnOnce(&mut Config)) -> Env {
    let issuer = Issuer::builder()
        .port(0)
        .user(EMAIL, PASSWORD)
        .spawn()
        .await
        .expect("issuer starts");
    // Wait for the standby RS256 key so RS256 tokens can be minted.
    issuer.keys().await;
    let clock = FakeRelativeClock::default();
    let mut config = Config::new(issuer.base_url()).unwrap();
    config.jwt_secret = Some(issuer.info().jwt_secret);
    config.rate_clock = RateClock::Fake(clock.clone());
    tweak(&mut config);
    let api = xauth_reference::spawn(config).await.expect("api starts");
    Env {
        issuer,
        api,
        clock,
        http: client(),
    }
}

impl Env {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.api.url(), path)
    }

    pub fn mint(&self, req: MintRequest) -> String {
        self.issuer.mint(&req).expect("mint").token
    }

    /// A valid ES256 token (current key) with claims merged over the GoTrue template.
    pub fn token(&self, claims: Value) -> String {
        self.mint(MintRequest {
            claims: Some(as_map(claims)),
            ..Default::default()
        })
    }

    /// A valid token for a fresh user.
    pub fn user_token(&self) -> String {
        self.token(json!({}))
    }

    /// A valid token for subject `sub`.
    pub fn token_for(&self, sub: &str) -> String {
        self.token(json!({ "sub": sub }))
    }

    pub async fn rs256_token(&self, claims: Value) -> String {
        let keys = self.issuer.keys().await;
        let rsa = keys
            .iter()
            .find(|k| k.alg == KeyAlg::Rs256)
            .expect("an RS256 key");
        self.mint(MintRequest {
            key: Some(rsa.kid.clone()),
            claims: Some(as_map(claims)),
            ..Default::default()
        })
    }

    pub fn hs256_token(&self, claims: Value) -> String {
        self.mint(MintRequest {
            key: Some("legacy".into()),
            claims: Some(as_map(claims)),
            ..Default::default()
        })
    }

    pub fn expired_token(&self) -> String {
        self.mint(MintRequest {
            ttl: Some(-60),
            ..Default::default()
        })
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        req.send().await.expect("request completes")
    }

    pub async fn get_with(&self, path: &str, authorization: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .header("authorization", authorization)
            .send()
            .await
            .expect("request completes")
    }

    pub async fn shutdown(self) {
        self.api.shutdown().await;
        self.issuer.shutdown().await;
    }
}

pub fn as_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("claims must be an object"),
    }
}

/// `token` with its signature replaced (a forgery that keeps header and payload).
pub fn bad_signature(token: &str) -> String {
    let (head, _) = token.rsplit_once('.').unwrap();
    let other = "A".repeat(86);
    format!("{head}.{other}")
}

/// An unsigned token carrying the payload of `token` (header `{"alg":"none"}`).
pub fn alg_none(token: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    format!("{header}.{payload}.")
}

/// A token whose payload is replaced by `claims` (signature of the original kept: invalid).
pub fn with_payload(token: &str, claims: &Value) -> String {
    let mut parts = token.split('.');
    let header = parts.next().unwrap();
    parts.next();
    let sig = parts.next().unwrap();
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    format!("{header}.{payload}.{sig}")
}

/// Status, the auth/rate headers and the body, for snapshots.
pub async fn render(resp: reqwest::Response) -> String {
    let mut out = format!("{}\n", resp.status().as_u16());
    for name in [
        "content-type",
        "cache-control",
        "www-authenticate",
        "retry-after",
        "ratelimit-policy",
        "ratelimit",
        "allow",
    ] {
        for v in resp.headers().get_all(name) {
            out.push_str(&format!("{name}: {}\n", v.to_str().unwrap()));
        }
    }
    out.push('\n');
    out.push_str(&resp.text().await.unwrap());
    out
}

/// Asserts the error envelope and returns its code.
pub async fn error_code(resp: reqwest::Response) -> (u16, String, String) {
    let status = resp.status().as_u16();
    assert_eq!(
        resp.headers().get("content-type").unwrap(),
        "application/json",
        "status {status}"
    );
    let body = resp.text().await.unwrap();
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("JSON body: {body}"));
    let code = v["error"]["code"].as_str().expect("error.code").to_owned();
    assert!(v["error"]["message"].is_string());
    (status, code, body)
}
