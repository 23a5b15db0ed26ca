//! Issuer configuration.

use std::path::PathBuf;

/// Everything the issuer is started with.
#[derive(Debug, Clone)]
pub struct IssuerConfig {
    /// Base URL clients use, without `/auth/v1`, e.g. `http://127.0.0.1:54321`.
    pub public_url: String,
    /// Access-token lifetime in seconds (GoTrue's `JWT_EXP`, default 3600).
    pub access_token_ttl: i64,
    /// Refresh-token reuse interval in seconds (Supabase default 10).
    pub refresh_reuse_interval: i64,
    /// Require the `apikey` header like Supabase's gateway does.
    pub require_apikey: bool,
    /// `Cache-Control: public, max-age=<this>` on the JWKS.
    pub jwks_max_age: u64,
    /// Legacy HS256 secret (signs the anon and service_role keys).
    pub jwt_secret: String,
    /// The anon API key (an HS256 JWT).
    pub anon_key: String,
    /// The service_role API key (an HS256 JWT).
    pub service_role_key: String,
    /// Where keys and users persist across restarts; `None` keeps state in memory.
    pub state_dir: Option<PathBuf>,
    /// Largest accepted request body (GoTrue: 1 MiB, then 413).
    pub max_body_bytes: usize,
    /// Where `/oauth/authorize` sends the browser when no user is auto-approved: GoTrue's
    /// `<SITE_URL><OAUTH_SERVER_AUTHORIZATION_PATH>`, here [`DEFAULT_OAUTH_CONSENT_URL`] by
    /// default; `?authorization_id=…` is appended.
    pub oauth_consent_url: String,
}

/// The Supabase CLI's `site_url` plus the usual `authorization_url_path`.
pub const DEFAULT_OAUTH_CONSENT_URL: &str = "http://127.0.0.1:3000/oauth/consent";

impl IssuerConfig {
    /// The `iss` of access tokens: `<public_url>/auth/v1`.
    pub fn issuer(&self) -> String {
        format!("{}/auth/v1", self.public_url.trim_end_matches('/'))
    }
}

/// What `GET /_control/v1/info` answers and the binary prints on start.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IssuerInfo {
    /// Base URL (`SUPABASE_URL`).
    pub api_url: String,
    /// `<api_url>/auth/v1`.
    pub auth_url: String,
    /// The `iss` of access tokens (equal to `auth_url`).
    pub issuer: String,
    /// `<auth_url>/.well-known/jwks.json`.
    pub jwks_url: String,
    /// The anon API key clients send as `apikey` (`SUPABASE_ANON_KEY`, an HS256 JWT).
    pub anon_key: String,
    /// The service_role API key, also the control API's credential (an HS256 JWT).
    pub service_role_key: String,
    /// The legacy HS256 secret that signs the API keys and `"key":"legacy"` mints.
    pub jwt_secret: String,
}

impl IssuerConfig {
    /// The URLs and keys a client needs.
    pub fn info(&self) -> IssuerInfo {
        let api_url = self.public_url.trim_end_matches('/').to_string();
        let issuer = self.issuer();
        IssuerInfo {
            auth_url: issuer.clone(),
            jwks_url: format!("{issuer}/.well-known/jwks.json"),
            issuer,
            api_url,
            anon_key: self.anon_key.clone(),
            service_role_key: self.service_role_key.clone(),
            jwt_secret: self.jwt_secret.clone(),
        }
    }
}
