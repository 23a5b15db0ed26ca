//! OAuth clients: RFC 7591 dynamic registration (`POST /oauth/clients/register`) with GoTrue's
//! validation, and the in-memory client store the other endpoints look clients up in.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use parking_lot::RwLock;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::gotrue::errors::ApiError;
use crate::gotrue::extract::read_body;
use crate::gotrue::models::timestamp;
use crate::state::AppState;

/// Most redirect URIs a client may register (GoTrue's bound).
pub const MAX_REDIRECT_URIS: usize = 10;
/// Longest redirect URI, client URI or logo URI accepted (GoTrue bounds the latter two only).
pub const MAX_URI_LEN: usize = 2048;
/// Longest `client_name` (GoTrue's bound, in bytes).
pub const MAX_CLIENT_NAME_LEN: usize = 1024;
/// Largest registration body read.
pub const MAX_REGISTRATION_BODY: usize = 64 * 1024;
/// Most clients kept; registration beyond it answers 429 like GoTrue's rate limit.
pub const MAX_CLIENTS: usize = 10_000;

/// `token_endpoint_auth_method` values (GoTrue's `GetAllValidAuthMethods` order).
pub const AUTH_METHODS: [&str; 3] = ["none", "client_secret_basic", "client_secret_post"];
/// Grant types a client may register.
pub const GRANT_TYPES: [&str; 2] = ["authorization_code", "refresh_token"];

/// A registered client.
#[derive(Debug, Clone)]
pub struct Client {
    /// The `client_id` (a UUID, as GoTrue issues).
    pub id: Uuid,
    /// `public` (no secret) or `confidential`.
    pub client_type: &'static str,
    /// How it authenticates at the token endpoint (one of [`AUTH_METHODS`]).
    pub auth_method: &'static str,
    /// SHA-256 of the secret (confidential clients only).
    secret_hash: Option<[u8; 32]>,
    /// Exact-match redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Allowed grant types.
    pub grant_types: Vec<String>,
    /// Display name.
    pub client_name: String,
    /// Home page.
    pub client_uri: String,
    /// Logo.
    pub logo_uri: String,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

impl Client {
    /// Whether `secret` is this client's secret (constant time over the digests).
    pub fn secret_matches(&self, secret: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        self.secret_hash
            .is_some_and(|stored| bool::from(stored.ct_eq(&digest)))
    }

    /// Whether the client is public (authenticates with `none`).
    pub fn is_public(&self) -> bool {
        self.client_type == "public"
    }

    /// Whether `uri` is one of the registered redirect URIs (exact string match).
    pub fn allows_redirect(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }

    /// Whether the client may use `grant_type`.
    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }
}

/// The registered clients.
#[derive(Debug, Default)]
pub struct ClientStore {
    clients: RwLock<HashMap<Uuid, Arc<Client>>>,
}

impl ClientStore {
    /// One client.
    pub fn get(&self, id: Uuid) -> Option<Arc<Client>> {
        self.clients.read().get(&id).cloned()
    }

    /// Number of clients.
    pub fn len(&self) -> usize {
        self.clients.read().len()
    }

    /// Whether there is no client.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn insert(&self, client: Client) -> Result<Arc<Client>, ApiError> {
        let mut clients = self.clients.write();
        if clients.len() >= MAX_CLIENTS {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "over_request_rate_limit",
                "Request rate limit reached",
            ));
        }
        let client = Arc::new(client);
        clients.insert(client.id, client.clone());
        Ok(client)
    }
}

/// The registration body (GoTrue's `OAuthServerClientRegisterParams`; unknown members ignored).
#[derive(Debug, Default, Deserialize)]
pub struct RegisterParams {
    #[serde(default)]
    redirect_uris: Option<Vec<String>>,
    #[serde(default)]
    client_type: Option<String>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    grant_types: Option<Vec<String>>,
    #[serde(default)]
    client_name: Option<String>,
    #[serde(default)]
    client_uri: Option<String>,
    #[serde(default)]
    logo_uri: Option<String>,
}

/// The registration answer (GoTrue's `OAuthServerClientResponse`, in its member order).
#[derive(Debug, Serialize)]
pub struct ClientResponse<'a> {
    client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    client_type: &'a str,
    redirect_uris: &'a [String],
    token_endpoint_auth_method: &'a str,
    grant_types: &'a [String],
    response_types: [&'static str; 1],
    #[serde(skip_serializing_if = "str::is_empty")]
    client_name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    client_uri: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    logo_uri: &'a str,
    registration_type: &'static str,
    created_at: String,
    updated_at: String,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("validation_failed", message)
}

/// GoTrue's `validateRedirectURI` (plus a length bound): absolute with a host, no dangerous
/// scheme, `http` only for loopback hosts, no fragment.
pub fn validate_redirect_uri(uri: &str) -> Result<(), String> {
    if uri.is_empty() {
        return Err("redirect URI cannot be empty".into());
    }
    let parsed = url::Url::parse(uri).map_err(|_| "invalid URL format".to_string())?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("must have scheme and host".into());
    }
    let scheme = parsed.scheme();
    if ["javascript", "data", "file", "vbscript", "about", "blob"]
        .iter()
        .any(|d| scheme.eq_ignore_ascii_case(d))
    {
        return Err(format!(
            "scheme '{scheme}' is not allowed for security reasons"
        ));
    }
    if scheme == "http" {
        let host = parsed.host_str().unwrap_or_default();
        if !matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
            return Err("HTTP scheme only allowed for localhost".into());
        }
    }
    if parsed.fragment().is_some() {
        return Err("fragment not allowed in redirect URI".into());
    }
    Ok(())
}

fn validate_optional_uri(name: &str, uri: &str) -> Result<(), ApiError> {
    if uri.is_empty() {
        return Ok(());
    }
    if uri.len() > MAX_URI_LEN {
        return Err(invalid(format!(
            "{name} cannot exceed {MAX_URI_LEN} characters"
        )));
    }
    if url::Url::parse(uri).is_err() {
        return Err(invalid(format!("{name} must be a valid URL")));
    }
    Ok(())
}

/// A validated registration: what [`register`] stores.
#[derive(Debug)]
struct Validated {
    client_type: &'static str,
    auth_method: &'static str,
    redirect_uris: Vec<String>,
    grant_types: Vec<String>,
    client_name: String,
    client_uri: String,
    logo_uri: String,
}

fn known(values: &[&'static str], value: &str) -> Option<&'static str> {
    values.iter().copied().find(|v| *v == value)
}

/// GoTrue's registration checks, in its order.
fn validate(params: RegisterParams) -> Result<Validated, ApiError> {
    let redirect_uris = params.redirect_uris.unwrap_or_default();
    if redirect_uris.is_empty() {
        return Err(invalid("redirect_uris is required"));
    }
    if redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(invalid(format!(
            "redirect_uris cannot exceed {MAX_REDIRECT_URIS} items"
        )));
    }
    for uri in &redirect_uris {
        if uri.len() > MAX_URI_LEN {
            return Err(invalid(format!(
                "invalid redirect_uri: cannot exceed {MAX_URI_LEN} characters"
            )));
        }
        validate_redirect_uri(uri)
            .map_err(|e| invalid(format!("invalid redirect_uri '{uri}': {e}")))?;
    }
    let grant_types = match params.grant_types {
        Some(g) if !g.is_empty() => {
            if g.iter().any(|t| known(&GRANT_TYPES, t).is_none()) {
                return Err(invalid(
                    "grant_types must only contain 'authorization_code' and/or 'refresh_token'",
                ));
            }
            g
        }
        _ => GRANT_TYPES.iter().map(|g| (*g).to_owned()).collect(),
    };
    let client_name = params.client_name.unwrap_or_default();
    if client_name.len() > MAX_CLIENT_NAME_LEN {
        return Err(invalid(format!(
            "client_name cannot exceed {MAX_CLIENT_NAME_LEN} characters"
        )));
    }
    let client_uri = params.client_uri.unwrap_or_default();
    validate_optional_uri("client_uri", &client_uri)?;
    let logo_uri = params.logo_uri.unwrap_or_default();
    validate_optional_uri("logo_uri", &logo_uri)?;
    let explicit_type = match params.client_type.as_deref().unwrap_or("") {
        "" => None,
        t => Some(
            known(&["public", "confidential"], t)
                .ok_or_else(|| invalid("client_type must be 'public' or 'confidential'"))?,
        ),
    };
    let explicit_method = match params.token_endpoint_auth_method.as_deref().unwrap_or("") {
        "" => None,
        m => Some(known(&AUTH_METHODS, m).ok_or_else(|| {
            invalid(format!(
                "token_endpoint_auth_method must be one of: [{}]",
                AUTH_METHODS.join(" ")
            ))
        })?),
    };
    let implied = |method: &str| {
        if method == "none" {
            "public"
        } else {
            "confidential"
        }
    };
    if let (Some(t), Some(m)) = (explicit_type, explicit_method)
        && t != implied(m)
    {
        return Err(invalid(format!(
            "client_type '{t}' is inconsistent with token_endpoint_auth_method '{m}' (expected client_type '{}')",
            implied(m)
        )));
    }
    // GoTrue's DetermineClientType: explicit type, else implied by the method, else confidential.
    let client_type = explicit_type
        .or(explicit_method.map(implied))
        .unwrap_or("confidential");
    let auth_method = explicit_method.unwrap_or(if client_type == "public" {
        "none"
    } else {
        "client_secret_basic"
    });
    Ok(Validated {
        client_type,
        auth_method,
        redirect_uris,
        grant_types,
        client_name,
        client_uri,
        logo_uri,
    })
}

/// `POST /auth/v1/oauth/clients/register` (RFC 7591). 201 with the client (and its secret,
/// once, for a confidential client); 403 `oauth_dynamic_client_registration_disabled` when
/// registration is switched off; 400 `bad_json` / `validation_failed` on bad input.
pub async fn register(State(state): State<AppState>, body: Body) -> Result<Response, ApiError> {
    super::ensure_enabled(&state)?;
    if !state.oauth.settings.get().dynamic_registration {
        return Err(ApiError::forbidden(
            "oauth_dynamic_client_registration_disabled",
            "Dynamic client registration is not enabled",
        ));
    }
    let bytes = read_body(body, MAX_REGISTRATION_BODY.min(state.config.max_body_bytes)).await?;
    let bad_json = || ApiError::bad_request("bad_json", "Invalid JSON body");
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| bad_json())?;
    let params: RegisterParams = match value {
        serde_json::Value::Null => RegisterParams::default(),
        v @ serde_json::Value::Object(_) => serde_json::from_value(v).map_err(|_| bad_json())?,
        _ => return Err(bad_json()),
    };
    let v = validate(params)?;
    let secret = (v.client_type == "confidential").then(|| {
        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        URL_SAFE_NO_PAD.encode(raw)
    });
    let client = state.oauth.clients.insert(Client {
        id: Uuid::new_v4(),
        client_type: v.client_type,
        auth_method: v.auth_method,
        secret_hash: secret
            .as_deref()
            .map(|s| Sha256::digest(s.as_bytes()).into()),
        redirect_uris: v.redirect_uris,
        grant_types: v.grant_types,
        client_name: v.client_name,
        client_uri: v.client_uri,
        logo_uri: v.logo_uri,
        created_at: state.clock.now(),
    })?;
    tracing::debug!(client_id = %client.id, client_type = client.client_type, "OAuth client registered");
    let created = timestamp(&client.created_at);
    let response = ClientResponse {
        client_id: client.id.to_string(),
        client_secret: secret,
        client_type: client.client_type,
        redirect_uris: &client.redirect_uris,
        token_endpoint_auth_method: client.auth_method,
        grant_types: &client.grant_types,
        response_types: ["code"],
        client_name: &client.client_name,
        client_uri: &client.client_uri,
        logo_uri: &client.logo_uri,
        registration_type: "dynamic",
        updated_at: created.clone(),
        created_at: created,
    };
    Ok((StatusCode::CREATED, axum::Json(response)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(json: serde_json::Value) -> RegisterParams {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn redirect_uris_follow_gotrue() {
        assert!(validate_redirect_uri("https://app.example.com/cb").is_ok());
        assert!(validate_redirect_uri("http://127.0.0.1:8080/cb").is_ok());
        assert!(validate_redirect_uri("http://localhost/cb").is_ok());
        assert!(validate_redirect_uri("myapp://callback").is_ok());
        assert!(validate_redirect_uri("http://example.com/cb").is_err());
        assert!(validate_redirect_uri("https://example.com/cb#x").is_err());
        assert!(validate_redirect_uri("javascript://x/alert(1)").is_err());
        assert!(validate_redirect_uri("/relative").is_err());
        assert!(validate_redirect_uri("").is_err());
    }

    #[test]
    fn client_type_and_method_are_derived_like_gotrue() {
        let uris = serde_json::json!(["https://a.example/cb"]);
        let v = validate(params(serde_json::json!({"redirect_uris": uris}))).unwrap();
        assert_eq!(
            (v.client_type, v.auth_method),
            ("confidential", "client_secret_basic")
        );
        let v = validate(params(
            serde_json::json!({"redirect_uris": uris, "token_endpoint_auth_method": "none"}),
        ))
        .unwrap();
        assert_eq!((v.client_type, v.auth_method), ("public", "none"));
        let v = validate(params(
            serde_json::json!({"redirect_uris": uris, "client_type": "public"}),
        ))
        .unwrap();
        assert_eq!((v.client_type, v.auth_method), ("public", "none"));
        let err = validate(params(serde_json::json!({
            "redirect_uris": uris, "client_type": "public",
            "token_endpoint_auth_method": "client_secret_post"
        })))
        .unwrap_err();
        assert_eq!(err.code, "validation_failed");
        assert!(validate(params(serde_json::json!({"redirect_uris": []}))).is_err());
        assert!(
            validate(params(
                serde_json::json!({"redirect_uris": uris, "grant_types": ["client_credentials"]})
            ))
            .is_err()
        );
    }
}
