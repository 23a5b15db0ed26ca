//! Helpers shared by the key-side integration tests: a real issuer on an ephemeral port and a
//! reqwest client that talks HTTP to it.
#![allow(dead_code)]

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use xauth_issuer::{Issuer, IssuerBuilder, IssuerHandle};

pub const SEED_EMAIL: &str = "alice@example.com";
pub const SEED_PASSWORD: &str = "correct-horse-battery";

pub struct Running {
    pub issuer: IssuerHandle,
    pub http: reqwest::Client,
    pub base: String,
    pub service_key: String,
    pub anon_key: String,
}

pub async fn start() -> Running {
    start_with(Issuer::builder()).await
}

pub async fn start_with(builder: IssuerBuilder) -> Running {
    let issuer = builder
        .port(0)
        .user(SEED_EMAIL, SEED_PASSWORD)
        .spawn()
        .await
        .expect("issuer starts");
    let info = issuer.info();
    Running {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        base: issuer.base_url().to_string(),
        service_key: info.service_role_key,
        anon_key: info.anon_key,
        issuer,
    }
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn jwks_url(&self) -> String {
        self.url("/auth/v1/.well-known/jwks.json")
    }

    /// GET on the control API with the service_role key.
    pub async fn control_get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(&format!("/_control/v1{path}")))
            .header("apikey", &self.service_key)
            .send()
            .await
            .unwrap()
    }

    /// POST on the control API with the service_role key (as a Bearer token).
    pub async fn control_post(&self, path: &str, body: Option<Value>) -> reqwest::Response {
        let mut req = self
            .http
            .post(self.url(&format!("/_control/v1{path}")))
            .bearer_auth(&self.service_key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.unwrap()
    }

    /// DELETE on the control API with the service_role key.
    pub async fn control_delete(&self, path: &str) -> reqwest::Response {
        self.http
            .delete(self.url(&format!("/_control/v1{path}")))
            .header("apikey", &self.service_key)
            .send()
            .await
            .unwrap()
    }

    pub async fn control_json(&self, path: &str) -> Value {
        let resp = self.control_get(path).await;
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.unwrap()
    }

    pub async fn jwks_text(&self) -> String {
        let resp = self.http.get(self.jwks_url()).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        resp.text().await.unwrap()
    }

    pub async fn jwks(&self) -> JwkSet {
        serde_json::from_str(&self.jwks_text().await).unwrap()
    }

    pub async fn jwks_kids(&self) -> Vec<String> {
        let v: Value = serde_json::from_str(&self.jwks_text().await).unwrap();
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect()
    }

    /// Mints through the control API; asserts 200.
    pub async fn mint(&self, body: Value) -> Value {
        let resp = self.control_post("/mint", Some(body.clone())).await;
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert_eq!(status, 200, "mint {body}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// A password grant for the seeded user; returns the access token.
    pub async fn password_grant(&self) -> String {
        let resp = self
            .http
            .post(self.url("/auth/v1/token?grant_type=password"))
            .header("apikey", &self.anon_key)
            .json(&serde_json::json!({"email": SEED_EMAIL, "password": SEED_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }
}

/// Verifies `token` with jsonwebtoken using ONLY `jwks` (kid lookup), the given algorithm,
/// audience `authenticated` and issuer `iss`.
pub fn verify_with_jwks(
    token: &str,
    jwks: &JwkSet,
    alg: Algorithm,
    iss: &str,
) -> jsonwebtoken::errors::Result<Value> {
    let header = jsonwebtoken::decode_header(token)?;
    let kid = header.kid.expect("token has a kid");
    let jwk = jwks.find(&kid).expect("kid is published");
    let key = DecodingKey::from_jwk(jwk)?;
    let mut validation = Validation::new(alg);
    validation.set_audience(&["authenticated"]);
    validation.set_issuer(&[iss]);
    jsonwebtoken::decode::<Value>(token, &key, &validation).map(|d| d.claims)
}

/// Decodes one base64url segment of a token to text.
pub fn segment_text(token: &str, index: usize) -> String {
    use base64::Engine;
    let part = token.split('.').nth(index).unwrap();
    String::from_utf8(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

pub fn signature_len(token: &str) -> usize {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.split('.').nth(2).unwrap())
        .unwrap()
        .len()
}

/// A fresh temporary directory (removed by the caller with `remove_dir_all`).
pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("xauth-issuer-{tag}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
