//! `GET /auth/v1/.well-known/jwks.json` and `GET /auth/v1/.well-known/openid-configuration`.
//!
//! The JWKS body is pre-serialized by the [`KeyStore`](crate::keys::KeyStore) whenever the key
//! set or its extra entries (control API `/jwks/extra`: arbitrary JWK objects published after
//! the issuer's own keys) change; a request clones a `Bytes` handle. Both routes send
//! `Cache-Control: public, max-age=<jwks_max_age>` like GoTrue (600 by default).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::faults::{self, Applied, ConnectionKill, FaultRoute};
use crate::state::AppState;

/// Most extra JWK entries the control API publishes (`PUT /_control/v1/jwks/extra`).
pub const MAX_EXTRA_JWKS: usize = 32;

/// Checks a list of extra JWK entries: at most [`MAX_EXTRA_JWKS`], each a JSON object (its
/// members are published as given, so tests can serve keys that are unusable on purpose).
pub fn validate_extra_jwks(keys: &[Value]) -> Result<(), String> {
    if keys.len() > MAX_EXTRA_JWKS {
        return Err(format!(
            "at most {MAX_EXTRA_JWKS} extra JWK entries (got {})",
            keys.len()
        ));
    }
    if let Some(i) = keys.iter().position(|k| !k.is_object()) {
        return Err(format!("keys[{i}] must be a JSON object"));
    }
    Ok(())
}

pub use crate::faults::MALFORMED_JWKS_BODY;

fn cache_control(state: &AppState) -> HeaderValue {
    HeaderValue::from_str(&format!("public, max-age={}", state.config.jwks_max_age))
        .unwrap_or_else(|_| HeaderValue::from_static("public, max-age=600"))
}

fn json_response(state: &AppState, status: StatusCode, body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, cache_control(state));
    response
}

/// The JWKS handler (counted, fault-injectable, `Cache-Control: public, max-age=N`). Open:
/// no `apikey` needed, like Supabase's gateway. A clean answer (no fault applied, not even a
/// delay) stamps `jwks_last_served_unix_ms`.
pub async fn jwks_handler(State(state): State<AppState>, request: Request) -> Response {
    state.counters.jwks_fetch();
    let clean = match faults::apply(
        &state.faults,
        FaultRoute::Jwks,
        ConnectionKill::of(&request),
    )
    .await
    {
        Applied::Replaced(response) => return with_cache_control(&state, response),
        Applied::Delayed => false,
        Applied::None => true,
    };
    state.keys.ready().await;
    let response = json_response(&state, StatusCode::OK, state.keys.jwks_body());
    // Only a clean answer counts as "served" (a delayed one may have outlived the client).
    if clean {
        state.counters.jwks_served();
    }
    response
}

/// A fault's answer carries the route's `Cache-Control`, like a real JWKS answer would.
fn with_cache_control(state: &AppState, mut response: Response) -> Response {
    if response.headers().contains_key(header::CONTENT_TYPE) {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, cache_control(state));
    }
    response
}

/// The OpenID configuration handler (counted, same `Cache-Control` as the JWKS).
pub async fn openid_configuration_handler(State(state): State<AppState>) -> Response {
    state.counters.openid_config_fetch();
    let issuer = state.config.issuer();
    let body = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/user"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256", "RS256", "HS256"],
        "grant_types_supported": ["password", "refresh_token"],
    });
    json_response(&state, StatusCode::OK, Bytes::from(body.to_string()))
}
