//! The control API under `/_control/v1` (see the contract table in ARCHITECTURE.md).
//!
//! Every request needs the service_role key as `apikey: <key>` or `Authorization: Bearer <key>`,
//! else 401. Bodies are JSON; errors use GoTrue's envelope (chosen by `X-Supabase-Api-Version`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::faults::{Fault, FaultRoute};
use crate::gotrue::errors::{self, ApiError};
use crate::keys::{KeyAlg, KeyError, KeyState};
use crate::mint::{MintError, MintRequest};
use crate::state::AppState;

/// Largest accepted clock offset (100 years).
pub const MAX_CLOCK_OFFSET_SECONDS: i64 = 100 * 365 * 24 * 3600;
/// Longest kid accepted in a path or body.
const MAX_KID_BYTES: usize = 256;

/// `POST /keys` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddKey {
    /// Algorithm of the key to generate (`ES256` or `RS256`).
    pub alg: KeyAlg,
    /// State the new key starts in: `standby` (default) or `current`.
    #[serde(default = "standby")]
    pub state: KeyState,
}

fn standby() -> KeyState {
    KeyState::Standby
}

/// `POST /keys/rotate` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotate {
    /// Kid of the key to make current; absent: the oldest standby key, or a fresh ES256 key.
    #[serde(default)]
    pub kid: Option<String>,
}

/// `POST /clock` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetClock {
    /// Seconds added to real time from now on (may be negative, at most ±100 years).
    pub offset_seconds: i64,
}

/// `GET /clock` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockInfo {
    /// The issuer's current time in Unix seconds, offset applied.
    pub now: i64,
    /// The offset in seconds currently added to real time.
    pub offset_seconds: i64,
}

/// The control routes (mount with `Router::nest("/_control/v1", router(state))`).
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/info", get(info))
        .route("/keys", get(list_keys).post(add_key))
        .route("/keys/rotate", post(rotate))
        .route("/keys/{kid}/revoke", post(revoke))
        .route("/keys/{kid}/standby", post(standby_key))
        .route("/mint", post(mint))
        .route(
            "/jwks/extra",
            get(get_extra_jwks)
                .put(set_extra_jwks)
                .delete(clear_extra_jwks),
        )
        .route("/counters", get(counters))
        .route("/counters/reset", post(reset_counters))
        .route("/faults", get(list_faults).delete(clear_all_faults))
        .route(
            "/faults/{route}",
            get(get_fault).post(inject_fault).delete(clear_fault),
        )
        .route("/clock", get(get_clock).post(set_clock))
        .route(
            "/oauth",
            get(crate::oauth::control::get_settings)
                .put(crate::oauth::control::put_settings)
                .delete(crate::oauth::control::reset_settings),
        )
        .route(
            "/oauth/auto-approve",
            post(crate::oauth::control::set_auto_approve)
                .delete(crate::oauth::control::clear_auto_approve),
        )
        .fallback(errors::not_found)
        .method_not_allowed_fallback(errors::method_not_allowed)
        .layer(middleware::from_fn_with_state(state, require_service_role))
        .layer(middleware::from_fn(errors::render_errors))
}

/// Whether `headers` carry the service_role key (`apikey` or `Authorization: Bearer`).
pub fn has_service_role_key(headers: &HeaderMap, service_role_key: &str) -> bool {
    let matches = |presented: &[u8]| bool::from(presented.ct_eq(service_role_key.as_bytes()));
    let by_apikey = headers.get("apikey").is_some_and(|v| matches(v.as_bytes()));
    let by_bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .is_some_and(|token| matches(token.trim().as_bytes()));
    by_apikey || by_bearer
}

async fn require_service_role(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if has_service_role_key(request.headers(), &state.config.service_role_key) {
        next.run(request).await
    } else {
        ApiError::unauthorized(
            "no_authorization",
            "The control API requires the service_role key (apikey header or Bearer token)",
        )
        .into_response()
    }
}

fn body<T: DeserializeOwned + Default>(bytes: &Bytes) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    required_body(bytes)
}

fn required_body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(ApiError::bad_json)
}

fn key_error(e: KeyError) -> ApiError {
    match e {
        KeyError::NotFound(kid) => {
            ApiError::not_found("not_found", format!("No key with kid {kid:?}"))
        }
        KeyError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
        other => {
            tracing::error!(error = %other, "key operation failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "unexpected_failure",
                other.to_string(),
            )
        }
    }
}

fn check_kid(kid: &str) -> Result<(), ApiError> {
    if kid.is_empty() || kid.len() > MAX_KID_BYTES {
        return Err(ApiError::bad_request(
            "validation_failed",
            format!("kid must be 1..={MAX_KID_BYTES} bytes"),
        ));
    }
    Ok(())
}

async fn info(State(state): State<AppState>) -> Response {
    axum::Json(state.config.info()).into_response()
}

async fn list_keys(State(state): State<AppState>) -> Response {
    state.keys.ready().await;
    axum::Json(serde_json::json!({ "keys": state.keys.keys() })).into_response()
}

async fn add_key(State(state): State<AppState>, bytes: Bytes) -> Result<Response, ApiError> {
    let request: AddKey = required_body(&bytes)?;
    if !matches!(request.state, KeyState::Standby | KeyState::Current) {
        return Err(ApiError::bad_request(
            "validation_failed",
            "a new key starts as standby or current",
        ));
    }
    let key = state
        .keys
        .add(request.alg, request.state)
        .await
        .map_err(key_error)?;
    Ok((StatusCode::CREATED, axum::Json(key)).into_response())
}

async fn rotate(State(state): State<AppState>, bytes: Bytes) -> Result<Response, ApiError> {
    let request: Rotate = body(&bytes)?;
    if let Some(kid) = &request.kid {
        check_kid(kid)?;
    }
    let key = state
        .keys
        .rotate(request.kid.as_deref())
        .await
        .map_err(key_error)?;
    Ok(axum::Json(key).into_response())
}

async fn revoke(
    State(state): State<AppState>,
    Path(kid): Path<String>,
) -> Result<Response, ApiError> {
    check_kid(&kid)?;
    let key = state.keys.revoke(&kid).await.map_err(key_error)?;
    Ok(axum::Json(key).into_response())
}

async fn standby_key(
    State(state): State<AppState>,
    Path(kid): Path<String>,
) -> Result<Response, ApiError> {
    check_kid(&kid)?;
    let key = state.keys.standby(&kid).await.map_err(key_error)?;
    Ok(axum::Json(key).into_response())
}

async fn mint(State(state): State<AppState>, bytes: Bytes) -> Result<Response, ApiError> {
    let request: MintRequest = body(&bytes)?;
    state.keys.ready().await;
    match crate::mint::mint(&state, &request) {
        Ok(minted) => Ok(axum::Json(minted).into_response()),
        Err(MintError::Invalid(m)) => Err(ApiError::bad_request("validation_failed", m)),
        Err(MintError::UnknownKey(kid)) => Err(ApiError::not_found(
            "not_found",
            format!("No key with kid {kid:?}"),
        )),
        Err(MintError::Signing(e)) => Err(key_error(e)),
    }
}

/// `PUT /jwks/extra` body and `GET /jwks/extra` answer: JWK objects published after the
/// issuer's own keys, as given (at most [`crate::jwks::MAX_EXTRA_JWKS`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraJwks {
    /// The extra JWK objects, in the order they follow the issuer's own keys.
    pub keys: Vec<serde_json::Value>,
}

async fn get_extra_jwks(State(state): State<AppState>) -> Response {
    let keys = state.keys.extra_jwks();
    axum::Json(ExtraJwks { keys }).into_response()
}

async fn set_extra_jwks(State(state): State<AppState>, bytes: Bytes) -> Result<Response, ApiError> {
    let request: ExtraJwks = required_body(&bytes)?;
    crate::jwks::validate_extra_jwks(&request.keys)
        .map_err(|m| ApiError::bad_request("validation_failed", m))?;
    state.keys.set_extra_jwks(request.keys).map_err(key_error)?;
    Ok(axum::Json(ExtraJwks {
        keys: state.keys.extra_jwks(),
    })
    .into_response())
}

async fn clear_extra_jwks(State(state): State<AppState>) -> Result<StatusCode, ApiError> {
    state.keys.set_extra_jwks(Vec::new()).map_err(key_error)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn counters(State(state): State<AppState>) -> Response {
    axum::Json(state.counters.snapshot()).into_response()
}

async fn reset_counters(State(state): State<AppState>) -> StatusCode {
    state.counters.reset();
    StatusCode::NO_CONTENT
}

fn fault_route(name: &str) -> Result<FaultRoute, ApiError> {
    FaultRoute::from_name(name).ok_or_else(|| {
        let known: Vec<&str> = FaultRoute::ALL.iter().map(|r| r.as_str()).collect();
        ApiError::not_found(
            "not_found",
            format!(
                "No fault route {:?}; known: {}",
                name.chars().take(MAX_KID_BYTES).collect::<String>(),
                known.join(", ")
            ),
        )
    })
}

async fn list_faults(State(state): State<AppState>) -> Response {
    let faults: serde_json::Map<String, serde_json::Value> = FaultRoute::ALL
        .iter()
        .map(|r| {
            let active = state.faults.route(*r).active();
            (r.as_str().to_owned(), serde_json::json!(active))
        })
        .collect();
    axum::Json(serde_json::json!({ "faults": faults })).into_response()
}

async fn clear_all_faults(State(state): State<AppState>) -> StatusCode {
    state.faults.clear_all();
    StatusCode::NO_CONTENT
}

async fn get_fault(
    State(state): State<AppState>,
    Path(route): Path<String>,
) -> Result<Response, ApiError> {
    let route = fault_route(&route)?;
    let active = state.faults.route(route).active();
    Ok(axum::Json(serde_json::json!({ "fault": active })).into_response())
}

async fn inject_fault(
    State(state): State<AppState>,
    Path(route): Path<String>,
    bytes: Bytes,
) -> Result<StatusCode, ApiError> {
    let route = fault_route(&route)?;
    let fault: Fault = required_body(&bytes)?;
    fault
        .validate()
        .map_err(|m| ApiError::bad_request("validation_failed", m))?;
    state.faults.route(route).inject(fault);
    Ok(StatusCode::NO_CONTENT)
}

async fn clear_fault(
    State(state): State<AppState>,
    Path(route): Path<String>,
) -> Result<StatusCode, ApiError> {
    let route = fault_route(&route)?;
    state.faults.route(route).clear();
    Ok(StatusCode::NO_CONTENT)
}

fn clock_info(state: &AppState) -> ClockInfo {
    ClockInfo {
        now: state.clock.now_unix(),
        offset_seconds: state.clock.offset(),
    }
}

async fn get_clock(State(state): State<AppState>) -> Response {
    axum::Json(clock_info(&state)).into_response()
}

async fn set_clock(State(state): State<AppState>, bytes: Bytes) -> Result<Response, ApiError> {
    let request: SetClock = required_body(&bytes)?;
    if request.offset_seconds.abs() > MAX_CLOCK_OFFSET_SECONDS {
        return Err(ApiError::bad_request(
            "validation_failed",
            format!("offset_seconds must be within ±{MAX_CLOCK_OFFSET_SECONDS}"),
        ));
    }
    state.clock.set_offset(request.offset_seconds);
    Ok(axum::Json(clock_info(&state)).into_response())
}
