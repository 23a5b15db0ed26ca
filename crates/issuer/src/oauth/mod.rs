//! Supabase Auth's OAuth 2.1 authorization server (GoTrue's `internal/api/oauthserver`), as
//! MCP clients meet it: RFC 8414 / OIDC discovery, RFC 7591 dynamic registration, the
//! authorization-code grant with PKCE (S256 only), refresh with rotation, ID tokens and
//! userinfo. One concern per file:
//!
//! - [`metadata`]: the discovery document (both well-known URLs serve the same body);
//! - [`clients`]: registration and the client store;
//! - [`authorize`]: `GET /oauth/authorize` (consent redirect, or the control API's auto-approve);
//! - [`codes`]: authorization requests and their single-use, 10-minute codes;
//! - [`consent`]: the consent page's API (request details, approve or deny);
//! - [`pkce`]: S256 verification;
//! - [`token`]: `POST /oauth/token` (client authentication, code and refresh grants);
//! - [`access_token`]: the OAuth access token's claims (GoTrue's plus `client_id`, `scope`);
//! - [`id_token`]: the OIDC ID token;
//! - [`userinfo`]: `GET /oauth/userinfo`;
//! - [`settings`] and [`control`]: the switches of `/_control/v1/oauth`;
//! - [`errors`]: RFC 6749 error bodies.
//!
//! Sessions and refresh tokens are GoTrue's own ([`crate::gotrue::AuthStore`]): an OAuth
//! session is a normal session whose `amr` method is `oauth_provider/authorization_code`, bound
//! here to its client and scopes. Clients, requests and bindings live in memory only (a
//! `--state-dir` does not keep them).

pub mod access_token;
pub mod authorize;
pub mod clients;
pub mod codes;
pub mod consent;
pub mod control;
pub mod errors;
pub mod id_token;
pub mod metadata;
pub mod pkce;
pub mod settings;
pub mod token;
pub mod userinfo;

use std::collections::HashMap;

use axum::Router;
use axum::routing::{get, post};
use parking_lot::Mutex;
use uuid::Uuid;

use crate::gotrue::errors::ApiError;
use crate::state::AppState;

/// The authentication method GoTrue records for a session the code grant created.
pub const AMR_METHOD: &str = "oauth_provider/authorization_code";

/// What an OAuth session was granted (GoTrue keeps it on the session row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionBinding {
    /// The client the session belongs to; only it may refresh.
    pub client_id: Uuid,
    /// The granted scopes (space-separated).
    pub scope: String,
    /// The RFC 8707 resource of the authorization request, for the access-token hook.
    pub resource: Option<String>,
}

/// The OAuth server's state.
#[derive(Debug, Default)]
pub struct OAuthServer {
    /// The switches and the auto-approved user.
    pub settings: settings::SettingsStore,
    /// Registered clients.
    pub clients: clients::ClientStore,
    /// Authorization requests and codes.
    pub codes: codes::CodeStore,
    /// Consents users gave, per client.
    pub consents: consent::Consents,
    sessions: Mutex<HashMap<Uuid, SessionBinding>>,
}

impl OAuthServer {
    /// Binds an OAuth session to its client and scopes.
    pub fn bind_session(&self, session_id: Uuid, binding: SessionBinding) {
        self.sessions.lock().insert(session_id, binding);
    }

    /// The binding of a session, if it is an OAuth session.
    pub fn session(&self, session_id: Uuid) -> Option<SessionBinding> {
        self.sessions.lock().get(&session_id).cloned()
    }
}

/// GoTrue's `requireOAuthServerEnabled`: 404 `feature_disabled` while the server is off.
pub fn disabled_error() -> ApiError {
    ApiError::not_found("feature_disabled", "OAuth server is disabled")
}

/// Every `/oauth` handler starts here: 404 `feature_disabled` while the server is off.
pub fn ensure_enabled(state: &AppState) -> Result<(), ApiError> {
    if state.oauth.settings.get().enabled {
        Ok(())
    } else {
        Err(disabled_error())
    }
}

/// The `/oauth` routes (mount with `Router::nest("/oauth", router())` inside GoTrue's router,
/// so its error-envelope middleware and CORS apply). The OAuth client's routes need no
/// `apikey` (OAuth clients have none); the consent page's two routes do, like supabase-js.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/clients/register", post(clients::register))
        .route("/authorize", get(authorize::authorize))
        .route("/token", post(token::token))
        .route("/userinfo", get(userinfo::userinfo))
        .route("/authorizations/{authorization_id}", get(consent::details))
        .route(
            "/authorizations/{authorization_id}/consent",
            post(consent::consent),
        )
        // Open routes answer a wrong method with 405, not the gateway's missing-apikey 401.
        .method_not_allowed_fallback(crate::gotrue::errors::method_not_allowed)
}
