//! `GET /auth/v1/.well-known/jwks.json` and `GET /auth/v1/.well-known/openid-configuration`.
//!
//! The JWKS body is pre-serialized by the [`KeyStore`](crate::keys::KeyStore) whenever the key
//! set or its extra entries (control API `/jwks/extra`: arbitrary JWK objects published after
//! the issuer's own keys) change; a request clones a `Bytes` handle. Both routes send
//! `Cache-Control: public, max-age=<jwks_max_age>` like GoTrue (600 by default).

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::faults::FaultKind;
use crate::server::ConnectionKill;
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

/// What a malformed-fault JWKS response carries: JSON cut off mid-member.
pub const MALFORMED_JWKS_BODY: &str = r#"{"keys":[{"kty":"EC","kid":"#;

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
/// no `apikey` needed, like Supabase's gateway.
pub async fn jwks_handler(State(state): State<AppState>, request: Request) -> Response {
    state.counters.jwks_fetch();
    if let Some(fault) = state.faults.take() {
        match fault {
            FaultKind::Status { status } => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let body = json!({"code": status.as_u16(), "error_code": "injected_fault", "msg": "injected JWKS fault"});
                return json_response(&state, status, Bytes::from(body.to_string()));
            }
            FaultKind::Delay { ms } => tokio::time::sleep(Duration::from_millis(ms)).await,
            FaultKind::Malformed => {
                return json_response(
                    &state,
                    StatusCode::OK,
                    Bytes::from_static(MALFORMED_JWKS_BODY.as_bytes()),
                );
            }
            FaultKind::Drop => return drop_connection(request).await,
            FaultKind::Redirect { location } => {
                let mut response = StatusCode::FOUND.into_response();
                if let Ok(value) = HeaderValue::from_str(&location) {
                    response.headers_mut().insert(header::LOCATION, value);
                }
                return response;
            }
        }
    }
    state.keys.ready().await;
    json_response(&state, StatusCode::OK, state.keys.jwks_body())
}

/// Closes the connection without a response: the server's connection task is told to drop the
/// socket. Outside that server (no [`ConnectionKill`]), the body fails instead.
async fn drop_connection(request: Request) -> Response {
    if let Some(kill) = request.extensions().get::<ConnectionKill>() {
        kill.kill();
        std::future::pending::<()>().await;
    }
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("injected connection drop"))
    });
    Response::new(Body::from_stream(stream))
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
