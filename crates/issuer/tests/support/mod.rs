//! The one harness of the issuer's integration tests: a real issuer on an ephemeral port and a
//! reqwest client for its GoTrue routes (`/auth/v1`), its JWKS and its control API
//! (`/_control/v1`), plus helpers to read tokens and to redact snapshots.
//!
//! [`start`] / [`start_with`] start an issuer with no users (the GoTrue tests create their own);
//! [`start_seeded`] / [`start_seeded_with`] add the user [`SEED_EMAIL`] for tests that just need
//! a password grant ([`Harness::password_grant`]).
#![allow(dead_code)]

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use xauth_issuer::{Issuer, IssuerBuilder, IssuerHandle};

/// The password of the seeded user and of the users GoTrue tests sign up.
pub const PASSWORD: &str = "correct-horse-battery";
/// The user [`start_seeded`] creates.
pub const SEED_EMAIL: &str = "alice@example.com";
pub const SEED_PASSWORD: &str = PASSWORD;

/// A running issuer and a client for it.
pub struct Harness {
    pub issuer: IssuerHandle,
    pub http: reqwest::Client,
    /// `SUPABASE_URL`: the base, without `/auth/v1`.
    pub base: String,
    /// `<base>/auth/v1`.
    pub auth_url: String,
    pub anon_key: String,
    pub service_key: String,
}

/// One response, fully read.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The error code in whichever envelope the response uses.
    pub fn error_code(&self) -> String {
        let body = self.json();
        body.get("error_code")
            .or_else(|| body.get("code").filter(|c| c.is_string()))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }
}

/// An issuer with default settings and no users.
pub async fn start() -> Harness {
    start_with(|b| b).await
}

/// An issuer configured by `configure` (on top of an ephemeral port), no users.
pub async fn start_with(configure: impl FnOnce(IssuerBuilder) -> IssuerBuilder) -> Harness {
    let builder = configure(Issuer::builder().port(0));
    let issuer = builder.spawn().await.expect("issuer starts");
    let info = issuer.info();
    Harness {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        base: issuer.base_url().to_string(),
        auth_url: info.auth_url,
        anon_key: info.anon_key,
        service_key: info.service_role_key,
        issuer,
    }
}

/// An issuer with default settings and the user [`SEED_EMAIL`].
pub async fn start_seeded() -> Harness {
    start_seeded_with(|b| b).await
}

/// An issuer configured by `configure`, with the user [`SEED_EMAIL`].
pub async fn start_seeded_with(configure: impl FnOnce(IssuerBuilder) -> IssuerBuilder) -> Harness {
    start_with(|b| configure(b).user(SEED_EMAIL, SEED_PASSWORD)).await
}

impl Harness {
    // The control API, the JWKS and the seeded user (key-side tests).

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

    // The GoTrue routes.

    /// A request to `/auth/v1<path>` with the anon `apikey` (as supabase-js sends it).
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.auth_url))
            .header("apikey", &self.anon_key)
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("request completes");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body reads");
        assert!(!status.is_server_error(), "server error {status}: {text}");
        Reply {
            status,
            headers,
            text,
        }
    }

    pub async fn post_json(&self, path: &str, body: Value) -> Reply {
        self.send(self.request(Method::POST, path).json(&body))
            .await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Reply {
        self.post_json(
            "/token?grant_type=password",
            json!({"email": email, "password": password, "gotrue_meta_security": {}}),
        )
        .await
    }

    /// Signs in and returns the session JSON (asserting 200).
    pub async fn session(&self, email: &str, password: &str) -> Value {
        let reply = self.sign_in(email, password).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.json()
    }

    pub async fn refresh(&self, token: &str) -> Reply {
        self.post_json(
            "/token?grant_type=refresh_token",
            json!({"refresh_token": token}),
        )
        .await
    }

    pub async fn get_user(&self, access_token: &str) -> Reply {
        self.send(self.request(Method::GET, "/user").bearer_auth(access_token))
            .await
    }

    pub async fn logout(&self, access_token: &str, scope: Option<&str>) -> Reply {
        let path = match scope {
            Some(s) => format!("/logout?scope={s}"),
            None => "/logout".to_owned(),
        };
        self.send(self.request(Method::POST, &path).bearer_auth(access_token))
            .await
    }

    /// Moves the issuer's clock forward by `seconds` (on top of the current offset).
    pub fn advance(&self, seconds: i64) {
        let offset = self.issuer.clock().offset_seconds;
        self.issuer.set_clock_offset(offset + seconds);
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

/// The member names of a token's payload object, in the order the payload text has them.
pub fn claim_names(token: &str) -> Vec<String> {
    struct Names(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Names {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = Names;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Names, A::Error> {
                    let mut names = Vec::new();
                    while let Some(name) = map.next_key::<String>()? {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        names.push(name);
                    }
                    Ok(Names(names))
                }
            }
            d.deserialize_map(Visitor)
        }
    }
    let names: Names = serde_json::from_str(&segment_text(token, 1)).expect("a JSON payload");
    names.0
}

/// Decodes a JWT's payload without verifying it.
pub fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("three segments");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON payload")
}

/// Decodes a JWT's header without verifying it.
pub fn jwt_header(token: &str) -> Value {
    use base64::Engine;
    let header = token.split('.').next().expect("three segments");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON header")
}

/// Replaces ids, timestamps and tokens with placeholders so snapshots are stable.
pub fn redact(value: &Value) -> Value {
    fn walk(key: Option<&str>, value: &Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), walk(Some(k), v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(|v| walk(key, v)).collect()),
            Value::String(_) | Value::Number(_) => match key {
                Some("id" | "user_id" | "identity_id" | "sub" | "session_id") => {
                    Value::String("[uuid]".into())
                }
                Some(k) if k.ends_with("_at") || k == "timestamp" => {
                    Value::String(format!("[{k}]"))
                }
                Some("access_token") => Value::String("[jwt]".into()),
                Some("refresh_token") => Value::String("[refresh_token]".into()),
                Some("email") if value.as_str().is_some_and(|s| s.contains('@')) => {
                    Value::String("[email]".into())
                }
                _ => value.clone(),
            },
            other => other.clone(),
        }
    }
    walk(None, value)
}

/// A unique email for one test.
pub fn email(tag: &str) -> String {
    format!("{tag}-{}@example.com", uuid::Uuid::new_v4().simple())
}
