//! The discovery document. GoTrue serves one body at both `/.well-known/openid-configuration`
//! (always) and `/.well-known/oauth-authorization-server` (only while the OAuth server is on,
//! else 404 `feature_disabled`); Supabase's gateway also serves the latter at the RFC 8414
//! path-inserted URL `/.well-known/oauth-authorization-server/auth/v1`. `issuer` is the
//! tokens' `iss`, `jwks_uri` the JWKS that verifies them.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::authorize::SUPPORTED_SCOPES;
use super::disabled_error;
use crate::gotrue::claims::object_text;
use crate::state::AppState;

/// The root-level RFC 8414 URL for the issuer `<base>/auth/v1`.
pub const PATH_INSERTED: &str = "/.well-known/oauth-authorization-server/auth/v1";

/// The claims GoTrue lists in `claims_supported`.
pub const CLAIMS_SUPPORTED: [&str; 15] = [
    "sub",
    "aud",
    "iss",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "email",
    "email_verified",
    "phone_number",
    "phone_number_verified",
    "name",
    "picture",
    "preferred_username",
    "updated_at",
];

/// The document, in the member order of GoTrue's `OpenIDConfigurationResponse`.
/// `code_challenge_methods_supported` is `["S256"]` (GoTrue also lists `plain`; this issuer
/// refuses it).
pub fn document(state: &AppState) -> String {
    let issuer = state.config.issuer();
    let settings = state.oauth.settings.get();
    let mut members: Vec<(&str, Value)> = vec![
        ("issuer", json!(issuer)),
        (
            "authorization_endpoint",
            json!(format!("{issuer}/oauth/authorize")),
        ),
        ("token_endpoint", json!(format!("{issuer}/oauth/token"))),
        ("jwks_uri", json!(format!("{issuer}/.well-known/jwks.json"))),
        (
            "userinfo_endpoint",
            json!(format!("{issuer}/oauth/userinfo")),
        ),
    ];
    if settings.enabled && settings.dynamic_registration {
        members.push((
            "registration_endpoint",
            json!(format!("{issuer}/oauth/clients/register")),
        ));
    }
    members.extend([
        ("scopes_supported", json!(SUPPORTED_SCOPES)),
        ("response_types_supported", json!(["code"])),
        ("response_modes_supported", json!(["query"])),
        (
            "grant_types_supported",
            json!(["authorization_code", "refresh_token"]),
        ),
        ("subject_types_supported", json!(["public"])),
        (
            "id_token_signing_alg_values_supported",
            json!(["RS256", "HS256", "ES256"]),
        ),
        (
            "token_endpoint_auth_methods_supported",
            json!(["client_secret_basic", "client_secret_post", "none"]),
        ),
        ("claims_supported", json!(CLAIMS_SUPPORTED)),
        ("code_challenge_methods_supported", json!(["S256"])),
    ]);
    object_text(members)
}

fn respond(state: &AppState) -> Response {
    let mut response = Response::new(Body::from(document(state)));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={}", state.config.jwks_max_age))
    {
        headers.insert(header::CACHE_CONTROL, v);
    }
    response
}

/// `GET /auth/v1/.well-known/openid-configuration` (counted; served even with the OAuth server
/// off, as GoTrue does).
pub async fn openid_configuration(State(state): State<AppState>) -> Response {
    state.counters.openid_config_fetch();
    respond(&state)
}

/// The root-level [`PATH_INSERTED`] route, with GoTrue's error envelopes and CORS (browser
/// MCP clients fetch it cross-origin). Merge into the server's root router.
pub fn root_router() -> Router<AppState> {
    Router::new()
        .route(PATH_INSERTED, get(authorization_server))
        .layer(axum::middleware::from_fn(
            crate::gotrue::errors::render_errors,
        ))
        .layer(crate::gotrue::cors_layer())
}

/// `GET /auth/v1/.well-known/oauth-authorization-server` and the root-level
/// [`PATH_INSERTED`] URL.
pub async fn authorization_server(State(state): State<AppState>) -> Response {
    if state.oauth.settings.get().enabled {
        respond(&state)
    } else {
        disabled_error().into_response()
    }
}
