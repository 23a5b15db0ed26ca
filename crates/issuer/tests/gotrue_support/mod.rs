//! Test harness for the GoTrue routes: a real issuer on an ephemeral port and a small client.
#![allow(dead_code)]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use xauth_issuer::{Issuer, IssuerBuilder, IssuerHandle};

pub const PASSWORD: &str = "correct-horse-battery";

/// A running issuer and a client for its `/auth/v1` routes.
pub struct Harness {
    pub issuer: IssuerHandle,
    pub http: reqwest::Client,
    pub auth_url: String,
    pub anon: String,
    pub service: String,
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

pub async fn start() -> Harness {
    start_with(|b| b).await
}

pub async fn start_with(configure: impl FnOnce(IssuerBuilder) -> IssuerBuilder) -> Harness {
    let builder = configure(Issuer::builder().port(0));
    let issuer = builder.spawn().await.expect("issuer starts");
    let info = issuer.info();
    Harness {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        auth_url: info.auth_url,
        anon: info.anon_key,
        service: info.service_role_key,
        issuer,
    }
}

impl Harness {
    /// A request to `/auth/v1<path>` with the anon `apikey` (as supabase-js sends it).
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.auth_url))
            .header("apikey", &self.anon)
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
