//! GoTrue's bearer authentication (`requireAuthentication`, `requireAdminCredentials`).

use axum::http::HeaderMap;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::errors::ApiError;
use super::models::UserRecord;
use crate::keys::BearerError;
use crate::state::AppState;

/// Roles GoTrue's admin API accepts (`GOTRUE_JWT_ADMIN_ROLES` default).
pub const ADMIN_ROLES: [&str; 2] = ["service_role", "supabase_admin"];

/// The header that overrides the request audience.
pub const AUD_HEADER: &str = "x-jwt-aud";

/// An authenticated request: the verified claims and the loaded user.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The bearer token's claims, signature and `exp`/`nbf` already checked.
    pub claims: Map<String, Value>,
    /// The user named by the token's `sub`, as currently stored (exists, not banned).
    pub user: UserRecord,
    /// The token's `session_id` claim, if present and not nil (the session exists).
    pub session_id: Option<Uuid>,
}

/// The token of `Authorization: Bearer <token>` (GoTrue's `^(?:B|b)earer (\S+$)`).
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let missing = || {
        ApiError::unauthorized(
            "no_authorization",
            "This endpoint requires a valid Bearer token",
        )
    };
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(missing)?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(missing)?;
    if token.is_empty() || token.chars().any(char::is_whitespace) {
        return Err(missing());
    }
    Ok(token)
}

/// Verifies the bearer JWT with the issuer's keys (signature, alg pinned to the key, `exp`).
pub fn verify_claims(state: &AppState, token: &str) -> Result<Map<String, Value>, ApiError> {
    state
        .keys
        .verify_bearer(token, state.clock.now_unix())
        .map_err(|error| {
            let detail = match error {
                BearerError::Malformed => "token is malformed",
                BearerError::BadSignature => "token signature is invalid",
                BearerError::Expired => "token has invalid claims: token is expired",
            };
            ApiError::forbidden(
                "bad_jwt",
                format!("invalid JWT: unable to parse or verify signature, {detail}"),
            )
        })
}

/// `requireAuthentication`: bearer, JWT, then user, session and ban checks.
pub fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Authenticated, ApiError> {
    let token = bearer_token(headers)?;
    let claims = verify_claims(state, token)?;
    let sub = match claims.get("sub") {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.as_str(),
        Some(_) => {
            return Err(ApiError::forbidden(
                "bad_jwt",
                "invalid JWT: unable to parse or verify signature, token is malformed",
            ));
        }
    };
    if sub.is_empty() {
        return Err(ApiError::forbidden(
            "bad_jwt",
            "invalid claim: missing sub claim",
        ));
    }
    let user_id = Uuid::parse_str(sub)
        .map_err(|_| ApiError::bad_request("bad_jwt", "invalid claim: sub claim must be a UUID"))?;
    let session_id = match claims.get("session_id") {
        Some(Value::String(s)) if !s.is_empty() => {
            let id = Uuid::parse_str(s).map_err(|_| {
                ApiError::forbidden("bad_jwt", "invalid claim: session_id claim must be a UUID")
            })?;
            (!id.is_nil()).then_some(id)
        }
        _ => None,
    };
    let user = state
        .auth
        .load_user_and_session(user_id, session_id, state.clock.now())?;
    Ok(Authenticated {
        claims,
        user,
        session_id,
    })
}

/// `requireAdminCredentials`: a bearer JWT whose `role` is an admin role.
pub fn require_admin(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Map<String, Value>, ApiError> {
    let token = bearer_token(headers)?;
    let claims = verify_claims(state, token)?;
    let role = claims.get("role").and_then(Value::as_str).unwrap_or("");
    if ADMIN_ROLES.contains(&role) {
        Ok(claims)
    } else {
        Err(ApiError::forbidden("not_admin", "User not allowed"))
    }
}

/// The first audience of `claims` (a string, or the first of an array).
pub fn claims_audience(claims: &Map<String, Value>) -> Option<&str> {
    match claims.get("aud")? {
        Value::String(s) if !s.is_empty() => Some(s),
        Value::Array(items) => items.first()?.as_str().filter(|s| !s.is_empty()),
        _ => None,
    }
}

/// GoTrue's `requestAud`: `X-JWT-AUD`, else the verified token's audience, else `authenticated`.
pub fn request_aud(headers: &HeaderMap, claims: Option<&Map<String, Value>>) -> String {
    if let Some(aud) = headers
        .get(AUD_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
    {
        return aud.to_owned();
    }
    claims
        .and_then(claims_audience)
        .unwrap_or("authenticated")
        .to_owned()
}
