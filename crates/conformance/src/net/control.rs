//! A typed client for the issuer's control API (`/_control/v1`, see ARCHITECTURE.md): keys,
//! minting, counters, JWKS faults, extra JWKS entries and the clock. Any issuer implementing
//! the contract works.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use xauth_issuer::control::{AddKey, Rotate, SetClock};
pub use xauth_issuer::{
    ClockInfo, CountersSnapshot, KeyAlg, KeyInfo, KeyState, MintRequest, Minted,
};

/// Why a control call failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The request could not be sent, or its response body could not be read.
    #[error("control API request {what} failed: {source}")]
    Transport {
        /// The control call attempted (method and path).
        what: String,
        /// The HTTP client error.
        #[source]
        source: reqwest::Error,
    },
    /// The issuer answered with a non-success status.
    #[error("control API {what} answered {status}: {body}")]
    Status {
        /// The control call attempted (method and path).
        what: String,
        /// The HTTP status code received.
        status: u16,
        /// The response body, as text.
        body: String,
    },
    /// The response body did not deserialize into the expected type.
    #[error("control API {what} answered an unexpected body: {detail}")]
    Body {
        /// The control call attempted (method and path).
        what: String,
        /// The deserialization error.
        detail: String,
    },
}

/// `GET /info`. Declared here rather than taken from `xauth_issuer::IssuerInfo`: an issuer
/// attached with `--issuer` may have no legacy secret, so `jwt_secret` is optional.
#[derive(Debug, Clone, Deserialize)]
pub struct Info {
    /// Base URL of the issuer (`SUPABASE_URL`).
    pub api_url: String,
    /// The auth base URL, `<api_url>/auth/v1`.
    pub auth_url: String,
    /// The `iss` of the access tokens it mints.
    pub issuer: String,
    /// Where the issuer publishes its JWKS.
    pub jwks_url: String,
    /// The anon API key clients send as `apikey`.
    pub anon_key: String,
    /// The service_role API key, also the control API's credential.
    pub service_role_key: String,
    /// The legacy HS256 secret, if the issuer has one (absent or empty: none).
    #[serde(default)]
    pub jwt_secret: Option<String>,
}

#[derive(Debug, Deserialize)]
struct KeyList {
    keys: Vec<KeyInfo>,
}

/// How much a step prefers an issuer key of the right algorithm by its state: the current key,
/// then a standby key, then the previous key; a revoked key is not published (`None`). The one
/// ranking every step and property uses.
pub fn published_preference(state: KeyState) -> Option<u8> {
    match state {
        KeyState::Current => Some(0),
        KeyState::Standby => Some(1),
        KeyState::Previous => Some(2),
        KeyState::Revoked => None,
    }
}

/// The published keys of `alg` in `keys`, most preferred first ([`published_preference`]).
pub fn published_keys(keys: &[KeyInfo], alg: KeyAlg) -> Vec<&KeyInfo> {
    let mut out: Vec<&KeyInfo> = keys
        .iter()
        .filter(|k| k.alg == alg && published_preference(k.state).is_some())
        .collect();
    out.sort_by_key(|k| published_preference(k.state));
    out
}

/// The control API client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct IssuerClient {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl IssuerClient {
    /// A client for `<base_url>/_control/v1` authenticating with `control_key`.
    pub fn new(
        base_url: &url::Url,
        control_key: &str,
        timeout: Duration,
    ) -> Result<Self, ControlError> {
        let http = crate::net::target::client_builder_for(base_url)
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .map_err(|source| ControlError::Transport {
                what: "client".into(),
                source,
            })?;
        Ok(Self {
            http,
            base: crate::net::urls::join(base_url, "/_control/v1").to_string(),
            key: control_key.to_owned(),
        })
    }

    async fn call<B: Serialize>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<(u16, String), ControlError> {
        let what = format!("{method} {path}");
        let url = format!("{}{path}", self.base);
        self.call_url(method, url, what, body).await
    }

    /// One request to `url` with the control key as apikey and bearer; a non-2xx answer is an
    /// error carrying (the start of) its body.
    async fn call_url<B: Serialize>(
        &self,
        method: reqwest::Method,
        url: String,
        what: String,
        body: Option<&B>,
    ) -> Result<(u16, String), ControlError> {
        let mut req = self
            .http
            .request(method, url)
            .header("apikey", &self.key)
            .header("authorization", format!("Bearer {}", self.key));
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|source| ControlError::Transport {
            what: what.clone(),
            source,
        })?;
        let status = resp.status().as_u16();
        let text = resp
            .text()
            .await
            .map_err(|source| ControlError::Transport {
                what: what.clone(),
                source,
            })?;
        if !(200..300).contains(&status) {
            return Err(ControlError::Status {
                what,
                status,
                body: text.chars().take(500).collect(),
            });
        }
        Ok((status, text))
    }

    async fn json<T: for<'de> Deserialize<'de>, B: Serialize>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ControlError> {
        let what = format!("{method} {path}");
        let (_, text) = self.call(method, path, body).await?;
        serde_json::from_str(&text).map_err(|e| ControlError::Body {
            what,
            detail: format!("{e}: {}", text.chars().take(300).collect::<String>()),
        })
    }

    /// `GET /info`.
    pub async fn info(&self) -> Result<Info, ControlError> {
        self.json(reqwest::Method::GET, "/info", None::<&()>).await
    }

    /// `GET /keys`.
    pub async fn keys(&self) -> Result<Vec<KeyInfo>, ControlError> {
        let list: KeyList = self
            .json(reqwest::Method::GET, "/keys", None::<&()>)
            .await?;
        Ok(list.keys)
    }

    /// `POST /keys` (`state` standby or current).
    pub async fn create_key(&self, alg: KeyAlg, state: KeyState) -> Result<KeyInfo, ControlError> {
        let body = AddKey { alg, state };
        self.json(reqwest::Method::POST, "/keys", Some(&body)).await
    }

    /// `POST /keys/rotate`.
    pub async fn rotate(&self, kid: Option<&str>) -> Result<KeyInfo, ControlError> {
        let body = Rotate {
            kid: kid.map(str::to_owned),
        };
        self.json(reqwest::Method::POST, "/keys/rotate", Some(&body))
            .await
    }

    /// `POST /keys/{kid}/revoke`.
    pub async fn revoke(&self, kid: &str) -> Result<(), ControlError> {
        self.call(
            reqwest::Method::POST,
            &format!("/keys/{kid}/revoke"),
            None::<&()>,
        )
        .await
        .map(|_| ())
    }

    /// `POST /keys/{kid}/standby`.
    pub async fn standby(&self, kid: &str) -> Result<(), ControlError> {
        self.call(
            reqwest::Method::POST,
            &format!("/keys/{kid}/standby"),
            None::<&()>,
        )
        .await
        .map(|_| ())
    }

    /// `POST /mint`.
    pub async fn mint(&self, req: &MintRequest) -> Result<Minted, ControlError> {
        self.json(reqwest::Method::POST, "/mint", Some(req)).await
    }

    /// `GET /counters`.
    pub async fn counters(&self) -> Result<CountersSnapshot, ControlError> {
        self.json(reqwest::Method::GET, "/counters", None::<&()>)
            .await
    }

    /// `POST /counters/reset`.
    pub async fn reset_counters(&self) -> Result<(), ControlError> {
        self.call(reqwest::Method::POST, "/counters/reset", None::<&()>)
            .await
            .map(|_| ())
    }

    /// `POST /faults/jwks` with a fault object such as `{"kind":"status","status":500}`.
    pub async fn set_jwks_fault(&self, fault: &Value) -> Result<(), ControlError> {
        self.call(reqwest::Method::POST, "/faults/jwks", Some(fault))
            .await
            .map(|_| ())
    }

    /// `DELETE /faults/jwks`.
    pub async fn clear_jwks_fault(&self) -> Result<(), ControlError> {
        self.call(reqwest::Method::DELETE, "/faults/jwks", None::<&()>)
            .await
            .map(|_| ())
    }

    /// `POST /faults/token` with a fault object such as `{"kind":"drop"}`: every grant of the
    /// issuer's token endpoint fails that way until cleared (or `count` runs out).
    pub async fn set_token_fault(&self, fault: &Value) -> Result<(), ControlError> {
        self.call(reqwest::Method::POST, "/faults/token", Some(fault))
            .await
            .map(|_| ())
    }

    /// `DELETE /faults`: clears the faults of every route (JWKS and token endpoint).
    pub async fn clear_faults(&self) -> Result<(), ControlError> {
        self.call(reqwest::Method::DELETE, "/faults", None::<&()>)
            .await
            .map(|_| ())
    }

    /// `PUT /jwks/extra`: publishes `keys` (JWK objects, as given) after the issuer's own keys
    /// in its JWKS, replacing earlier extras.
    pub async fn set_extra_jwks(&self, keys: &[Value]) -> Result<(), ControlError> {
        let body = serde_json::json!({ "keys": keys });
        self.call(reqwest::Method::PUT, "/jwks/extra", Some(&body))
            .await
            .map(|_| ())
    }

    /// `DELETE /jwks/extra`: the JWKS holds the issuer's own keys only again.
    pub async fn clear_extra_jwks(&self) -> Result<(), ControlError> {
        self.call(reqwest::Method::DELETE, "/jwks/extra", None::<&()>)
            .await
            .map(|_| ())
    }

    /// `GET /clock`.
    pub async fn clock(&self) -> Result<ClockInfo, ControlError> {
        self.json(reqwest::Method::GET, "/clock", None::<&()>).await
    }

    /// `POST /clock`.
    pub async fn set_clock_offset(&self, offset_seconds: i64) -> Result<ClockInfo, ControlError> {
        let body = SetClock { offset_seconds };
        self.json(reqwest::Method::POST, "/clock", Some(&body))
            .await
    }

    /// `<supabase>/auth/v1<path>` (GoTrue's API, not the control API).
    fn gotrue_url(&self, path: &str) -> String {
        format!(
            "{}/auth/v1{path}",
            self.base.trim_end_matches("/_control/v1")
        )
    }

    /// `POST <supabase>/auth/v1/admin/users` (GoTrue's admin API, not the control API) with the
    /// control key as `apikey` and bearer (it is the service_role key): creates a user with
    /// `email` and `password`, email already confirmed. Returns GoTrue's user object.
    pub async fn create_user(&self, email: &str, password: &str) -> Result<Value, ControlError> {
        self.create_user_with(email, password, &Map::new()).await
    }

    /// [`create_user`](Self::create_user) with `extra` fields merged into the body (e.g.
    /// `role`, `app_metadata`).
    pub async fn create_user_with(
        &self,
        email: &str,
        password: &str,
        extra: &Map<String, Value>,
    ) -> Result<Value, ControlError> {
        let mut body =
            serde_json::json!({"email": email, "password": password, "email_confirm": true});
        if let Some(obj) = body.as_object_mut() {
            obj.extend(extra.clone());
        }
        self.gotrue_post("/admin/users", &body).await
    }

    /// `POST <supabase>/auth/v1<path>` with a JSON body; the answer as JSON.
    async fn gotrue_post(&self, path: &str, body: &Value) -> Result<Value, ControlError> {
        let what = format!("POST /auth/v1{path}");
        let (_, text) = self
            .call_url(
                reqwest::Method::POST,
                self.gotrue_url(path),
                what.clone(),
                Some(body),
            )
            .await?;
        serde_json::from_str(&text).map_err(|e| ControlError::Body {
            what,
            detail: format!("{e}: {}", text.chars().take(300).collect::<String>()),
        })
    }

    /// `DELETE <supabase>/auth/v1/admin/users/{id}`: the user and their sessions are gone.
    pub async fn delete_user(&self, id: &str) -> Result<(), ControlError> {
        let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
        self.call_url(
            reqwest::Method::DELETE,
            self.gotrue_url(&format!("/admin/users/{id}")),
            "DELETE /auth/v1/admin/users/{id}".to_owned(),
            None::<&()>,
        )
        .await
        .map(|_| ())
    }

    /// `POST <supabase>/auth/v1/token?grant_type=password` at the issuer itself: a session for
    /// the user, as supabase-js would get it. Returns GoTrue's token response.
    pub async fn sign_in_with_password(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Value, ControlError> {
        let body = serde_json::json!({"email": email, "password": password});
        self.gotrue_post("/token?grant_type=password", &body).await
    }

    /// `jwks_fetches` of `GET /counters`: how many times the issuer's JWKS was requested.
    pub async fn jwks_fetches(&self) -> Result<u64, ControlError> {
        Ok(self.counters().await?.jwks_fetches)
    }

    /// `jwks_last_served_unix_ms` of `GET /counters`: the wall-clock time (Unix ms) of the last
    /// JWKS request the issuer answered normally (no fault), `None` when there was none.
    pub async fn jwks_last_served_unix_ms(&self) -> Result<Option<u64>, ControlError> {
        Ok(self.counters().await?.jwks_last_served_unix_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forge::jws::Jws;

    async fn client() -> (xauth_issuer::IssuerHandle, IssuerClient) {
        let handle = xauth_issuer::Issuer::builder()
            .listen("127.0.0.1:0".parse().unwrap())
            .spawn()
            .await
            .unwrap();
        let info = handle.info();
        let c = IssuerClient::new(
            &info.api_url.parse().unwrap(),
            &info.service_role_key,
            Duration::from_secs(5),
        )
        .unwrap();
        (handle, c)
    }

    #[tokio::test]
    async fn info_keys_and_exact_raw_minting() {
        let (_issuer, c) = client().await;
        let info = c.info().await.unwrap();
        assert!(info.issuer.ends_with("/auth/v1"));
        let keys = c.keys().await.unwrap();
        let es = keys
            .iter()
            .find(|k| k.alg == KeyAlg::Es256 && k.state == KeyState::Current)
            .unwrap();
        assert!(
            keys.iter().any(|k| k.alg == KeyAlg::Rs256),
            "the suite needs a published RS256 key"
        );
        // the signature covers the exact texts given, even invalid JSON
        let minted = c
            .mint(&MintRequest {
                key: Some(es.kid.clone()),
                header_raw: Some(format!(r#"{{"alg":"ES256","kid":"{}"}} trailing"#, es.kid)),
                claims_raw: Some("[[[]]]".into()),
                ..MintRequest::default()
            })
            .await
            .unwrap();
        let jws = Jws::parse(&minted.token).unwrap();
        assert!(jws.header_text().unwrap().ends_with("} trailing"));
        assert_eq!(jws.payload_text().unwrap(), "[[[]]]");
        assert_eq!(jws.signature_bytes().unwrap().len(), 64);
    }

    #[tokio::test]
    async fn extra_jwks_are_published_after_the_issuers_keys_and_cleared() {
        let (issuer, c) = client().await;
        let own = c.keys().await.unwrap().len();
        let extra = serde_json::json!({"kty": "EC", "kid": "extra-1", "crv": "P-256"});
        c.set_extra_jwks(std::slice::from_ref(&extra))
            .await
            .unwrap();
        let jwks = || async {
            let body = reqwest::get(issuer.info().jwks_url).await.unwrap();
            body.json::<Value>().await.unwrap()["keys"]
                .as_array()
                .unwrap()
                .clone()
        };
        let keys = jwks().await;
        assert_eq!(keys.len(), own + 1);
        assert_eq!(keys[own], extra);
        c.clear_extra_jwks().await.unwrap();
        assert_eq!(jwks().await.len(), own);
        let too_many = vec![extra; 33];
        match c.set_extra_jwks(&too_many).await {
            Err(ControlError::Status { status: 400, .. }) => {}
            other => panic!("expected 400, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn control_errors_are_typed() {
        let (issuer, _) = client().await;
        let wrong = IssuerClient::new(
            &issuer.info().api_url.parse().unwrap(),
            "not-the-key",
            Duration::from_secs(5),
        )
        .unwrap();
        match wrong.keys().await {
            Err(ControlError::Status { status: 401, .. }) => {}
            other => panic!("expected 401, got {other:?}"),
        }
        let (_i2, c) = client().await;
        match c
            .mint(&MintRequest {
                alg: Some("XS999".into()),
                ..MintRequest::default()
            })
            .await
        {
            Err(ControlError::Status { status: 400, .. }) => {}
            other => panic!("expected 400, got {other:?}"),
        }
    }
}
