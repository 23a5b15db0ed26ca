//! `GET /auth/v1/oauth/userinfo` (OIDC Core §5.3, GoTrue's `OAuthUserInfo`): the bearer must be
//! a valid access token of a live session (GoTrue's `requireAuthentication`, its errors and
//! envelope); the answer has `sub` and the claims of the session's granted scopes. A token of
//! a non-OAuth session gets `sub` only.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::gotrue::auth::authenticate;
use crate::gotrue::errors::ApiError;
use crate::state::AppState;

/// `GET /oauth/userinfo`. Members sorted, as Go encodes its map.
pub async fn userinfo(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    super::ensure_enabled(&state)?;
    let auth = authenticate(&state, &headers)?;
    let user = &auth.user;
    let mut info: BTreeMap<&str, Value> = BTreeMap::new();
    info.insert("sub", Value::String(user.id.to_string()));
    let scope = auth
        .session_id
        .and_then(|s| state.oauth.session(s))
        .map(|b| b.scope)
        .unwrap_or_default();
    let has = |s: &str| scope.split(' ').any(|g| g == s);
    let meta = |k: &str| {
        user.user_metadata
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    if has("email") {
        if !user.email.is_empty() {
            info.insert("email", Value::String(user.email.clone()));
        }
        if user.email_confirmed_at.is_some() {
            info.insert("email_verified", Value::Bool(true));
        }
    }
    if has("profile") {
        let name = meta("name").or_else(|| (!user.email.is_empty()).then(|| user.email.clone()));
        if let Some(name) = name {
            info.insert("name", Value::String(name));
        }
        if let Some(picture) = meta("picture").or_else(|| meta("avatar_url")) {
            info.insert("picture", Value::String(picture));
        }
        if let Some(username) = meta("preferred_username").or_else(|| meta("username")) {
            info.insert("preferred_username", Value::String(username));
        }
        if user.updated_at.timestamp() > 0 {
            info.insert("updated_at", Value::from(user.updated_at.timestamp()));
        }
        info.insert("user_metadata", Value::Object(user.user_metadata.clone()));
    }
    if has("phone") {
        if !user.phone.is_empty() {
            info.insert("phone", Value::String(user.phone.clone()));
        }
        if user.phone_confirmed_at.is_some() {
            info.insert("phone_verified", Value::Bool(true));
        }
    }
    Ok(axum::Json(info).into_response())
}
