//! `/api/account/tokens`: create, list, revoke and rotate PATs, with a user's session JWT.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `POST /api/account/tokens` | `{"name","scopes":[…],"expires_in_days"}` or `…,"expires_in_seconds"}` | 201 `{"data":{…token, "token":"xpat_…"}}` (the only time the secret is shown) |
//! | `GET /api/account/tokens` | | 200 `{"data":[token…]}`, newest first, at most 100, never a secret |
//! | `DELETE /api/account/tokens/{id}` | | 204 (idempotent); 404 when not the caller's |
//! | `POST /api/account/tokens/{id}/rotate` | optional `{"expires_in_days"}` or `{"expires_in_seconds"}` | 201 as create; 409 `CONFLICT` when the token was already revoked (its whole family is revoked) |
//!
//! A token object: `{"id","name","scopes","token_prefix":"xpat_","last_chars","display",
//! "created_at","expires_at","last_used_at","revoked_at","status"}` (times RFC 3339 UTC or
//! `null`; status `active`, `expired` or `revoked`).

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::owner::is_uuid;
use super::store::{Rotation, TokenRow};
use super::{PatDefect, PatService, Scope, parse_scopes, scopes_text, token};
use crate::auth::{ClientIp, Session};
use crate::error::{ApiError, insert_rate_headers};
use crate::state::AppState;

/// Largest accepted management request body.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Longest token name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Most scopes named in one request.
pub const MAX_SCOPES: usize = 8;
/// Most tokens one list answer holds.
pub const LIST_LIMIT: i64 = 100;

/// The management routes (merged into the main router when PATs are on).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/account/tokens", get(list).post(create))
        .route("/api/account/tokens/{id}", delete(revoke))
        .route("/api/account/tokens/{id}/rotate", post(rotate))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRequest {
    name: String,
    scopes: Vec<String>,
    #[serde(default)]
    expires_in_days: Option<u32>,
    #[serde(default)]
    expires_in_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateRequest {
    #[serde(default)]
    expires_in_days: Option<u32>,
    #[serde(default)]
    expires_in_seconds: Option<u64>,
}

fn service(state: &AppState) -> Result<&PatService, ApiError> {
    state.pats.as_deref().ok_or(ApiError::NotFound)
}

async fn read_json<T: DeserializeOwned + Default>(
    headers: &HeaderMap,
    body: Body,
    allow_empty: bool,
) -> Result<T, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge)?;
    if allow_empty && bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(&bytes).map_err(|_| {
        ApiError::Invalid(
            "The body must be a JSON object with exactly the documented members and types",
        )
    })
}

fn rfc3339(unix: i64) -> Value {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
        .unwrap_or(Value::Null)
}

fn item(row: &TokenRow, now: i64) -> Value {
    let status = if row.revoked_at.is_some() {
        "revoked"
    } else if now >= row.expires_at {
        "expired"
    } else {
        "active"
    };
    json!({
        "id": row.id,
        "name": row.name,
        "scopes": parse_scopes(&row.scopes).iter().map(|s| s.name()).collect::<Vec<_>>(),
        "token_prefix": token::PREFIX,
        "last_chars": row.last_chars,
        "display": format!("{}…{}", token::PREFIX, row.last_chars),
        "created_at": rfc3339(row.created_at),
        "expires_at": rfc3339(row.expires_at),
        "last_used_at": row.last_used_at.map_or(Value::Null, rfc3339),
        "revoked_at": row.revoked_at.map_or(Value::Null, rfc3339),
        "status": status,
    })
}

fn respond(status: StatusCode, body: Value, session: &Session) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(info) = &session.rate {
        insert_rate_headers(response.headers_mut(), info);
    }
    response
}

fn store_failed(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "PAT store failed");
    ApiError::ServiceUnavailable
}

/// The validated scopes of a request, each allowed to the caller's current role.
fn checked_scopes(pats: &PatService, names: &[String], role: &str) -> Result<Vec<Scope>, ApiError> {
    const BAD: ApiError =
        ApiError::Invalid("scopes must name 1 to 8 of: content:read, admin:read, mcp:tools");
    if names.is_empty() || names.len() > MAX_SCOPES {
        return Err(BAD);
    }
    let mut scopes = Vec::with_capacity(names.len());
    for name in names {
        let scope = Scope::parse(name).ok_or(BAD)?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    scopes.sort();
    allowed_to(pats, &scopes, role)?;
    Ok(scopes)
}

/// A token may not carry a scope its owner could not use themselves.
fn allowed_to(pats: &PatService, scopes: &[Scope], role: &str) -> Result<(), ApiError> {
    // SEEDED DEFECT pat-outranks-owner (when on): any scope may be granted.
    if pats.has(PatDefect::OutranksOwner) {
        return Ok(());
    }
    if scopes.iter().all(|s| s.roles().contains(&role)) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// The lifetime asked for, in seconds: `expires_in_days` or `expires_in_seconds` (exactly one
/// when `required`), at least 1 s and at most the server's maximum lifetime.
fn checked_ttl(
    pats: &PatService,
    days: Option<u32>,
    seconds: Option<u64>,
    required: bool,
) -> Result<Option<i64>, ApiError> {
    const BAD: ApiError = ApiError::Invalid(
        "give expires_in_days or expires_in_seconds (one of them), at least 1 s and at most the server's maximum lifetime",
    );
    let max = u64::from(pats.config().max_ttl_days) * 86_400;
    let ttl = match (days, seconds) {
        (Some(d), None) => u64::from(d).checked_mul(86_400).ok_or(BAD)?,
        (None, Some(s)) => s,
        (None, None) if !required => return Ok(None),
        _ => return Err(BAD),
    };
    if (1..=max).contains(&ttl) {
        i64::try_from(ttl).map(Some).map_err(|_| BAD)
    } else {
        Err(BAD)
    }
}

fn new_row(
    owner: &str,
    family: Option<&str>,
    name: &str,
    scopes: &[Scope],
    now: i64,
    ttl: i64,
    pats: &PatService,
) -> (TokenRow, String) {
    let secret = token::generate();
    let id = uuid::Uuid::new_v4().to_string();
    let row = TokenRow {
        family_id: family.map_or_else(|| id.clone(), str::to_owned),
        id,
        owner_id: owner.to_owned(),
        name: name.to_owned(),
        token_digest: pats.digest(&secret),
        last_chars: token::last_chars(&secret),
        scopes: scopes_text(scopes),
        created_at: now,
        expires_at: now.saturating_add(ttl),
        last_used_at: None,
        revoked_at: None,
        replaced_by: None,
    };
    (row, secret)
}

fn created(row: &TokenRow, secret: &str, now: i64, session: &Session) -> Response {
    let mut body = item(row, now);
    if let Some(obj) = body.as_object_mut() {
        obj.insert("token".into(), Value::String(secret.to_owned()));
    }
    respond(StatusCode::CREATED, json!({ "data": body }), session)
}

fn checked_id(id: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    match id {
        Ok(Path(id)) if is_uuid(&id) => Ok(id.to_ascii_lowercase()),
        _ => Err(ApiError::Invalid("the token id must be a UUID")),
    }
}

/// `POST /api/account/tokens`.
async fn create(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let pats = service(&state)?;
    let session = state.authorize_session(client, &headers).await?;
    let request: CreateRequest = read_json(&headers, body, false).await?;
    let name = request.name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::Invalid(
            "name must be 1 to 64 characters without control characters",
        ));
    }
    let scopes = checked_scopes(pats, &request.scopes, &session.role)?;
    let ttl = checked_ttl(
        pats,
        request.expires_in_days,
        request.expires_in_seconds,
        true,
    )?
    .unwrap_or(86_400);
    if !is_uuid(&session.user_id) {
        // Its owner could never be checked at the auth server: refuse rather than trust forever.
        return Err(ApiError::Forbidden);
    }
    let now = pats.now();
    let active = pats
        .store()
        .count_active(&session.user_id, now)
        .await
        .map_err(store_failed)?;
    if active >= i64::from(pats.config().max_tokens_per_owner) {
        return Err(ApiError::Conflict(
            "Too many active tokens; revoke one before creating another",
        ));
    }
    let (row, secret) = new_row(&session.user_id, None, name, &scopes, now, ttl, pats);
    pats.store().insert(&row).await.map_err(store_failed)?;
    pats.remember_secret(&row.id, &secret);
    tracing::info!(token_id = %row.id, owner = %row.owner_id, "PAT created");
    Ok(created(&row, &secret, now, &session))
}

/// `GET /api/account/tokens`.
async fn list(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pats = service(&state)?;
    let session = state.authorize_session(client, &headers).await?;
    let now = pats.now();
    let rows = pats
        .store()
        .list(&session.user_id, LIST_LIMIT)
        .await
        .map_err(store_failed)?;
    let items: Vec<Value> = rows
        .iter()
        .map(|row| {
            let mut v = item(row, now);
            if let Some(secret) = pats.leaked_secret(&row.id)
                && let Some(obj) = v.as_object_mut()
            {
                obj.insert("token".into(), Value::String(secret));
            }
            v
        })
        .collect();
    Ok(respond(StatusCode::OK, json!({ "data": items }), &session))
}

/// `DELETE /api/account/tokens/{id}`.
async fn revoke(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let pats = service(&state)?;
    let session = state.authorize_session(client, &headers).await?;
    let id = checked_id(id)?;
    let found = pats
        .store()
        .revoke(&session.user_id, &id, pats.now())
        .await
        .map_err(store_failed)?;
    if !found {
        return Err(ApiError::NotFound);
    }
    tracing::info!(token_id = %id, "PAT revoked");
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(info) = &session.rate {
        insert_rate_headers(response.headers_mut(), info);
    }
    Ok(response)
}

/// `POST /api/account/tokens/{id}/rotate`.
async fn rotate(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    body: Body,
) -> Result<Response, ApiError> {
    let pats = service(&state)?;
    let session = state.authorize_session(client, &headers).await?;
    let id = checked_id(id)?;
    let request: RotateRequest = read_json(&headers, body, true).await?;
    let old = pats
        .store()
        .get(&session.user_id, &id)
        .await
        .map_err(store_failed)?
        .ok_or(ApiError::NotFound)?;
    let now = pats.now();
    let ttl = match checked_ttl(
        pats,
        request.expires_in_days,
        request.expires_in_seconds,
        false,
    )? {
        Some(ttl) => ttl,
        // The old token's lifetime.
        None => (old.expires_at - old.created_at)
            .clamp(1, i64::from(pats.config().max_ttl_days) * 86_400),
    };
    let scopes = parse_scopes(&old.scopes);
    if old.revoked_at.is_none() {
        if now >= old.expires_at {
            return Err(ApiError::Invalid(
                "an expired token cannot be rotated; create a new one",
            ));
        }
        allowed_to(pats, &scopes, &session.role)?;
    }
    let (row, secret) = new_row(
        &session.user_id,
        Some(&old.family_id),
        &old.name,
        &scopes,
        now,
        ttl,
        pats,
    );
    match pats
        .store()
        .rotate(&old, &row, now)
        .await
        .map_err(store_failed)?
    {
        Rotation::Rotated => {
            pats.remember_secret(&row.id, &secret);
            tracing::info!(old = %old.id, new = %row.id, "PAT rotated");
            Ok(created(&row, &secret, now, &session))
        }
        Rotation::FamilyRevoked => {
            tracing::warn!(token_id = %old.id, family = %old.family_id,
                "revoked PAT rotated again: its family is revoked");
            Err(ApiError::Conflict(
                "This token was already revoked; every token of its rotation family is now revoked",
            ))
        }
    }
}
