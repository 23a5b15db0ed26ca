//! The consent page's API (GoTrue's `OAuthServerGetAuthorization` and `OAuthServerConsent`),
//! which supabase-js calls from the page `/oauth/authorize` redirects to, with the signed-in
//! user's session: `GET /oauth/authorizations/{authorization_id}` binds the request to the
//! user and describes it (or, when the user already consented to these scopes for this client,
//! approves at once), `POST /oauth/authorizations/{authorization_id}/consent`
//! `{"action":"approve"|"deny"}` answers `{"redirect_url"}` for the browser to follow.

use std::collections::{HashMap, HashSet};

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::authorize::redirect_with;
use super::codes::Authorization;
use crate::gotrue::auth::authenticate;
use crate::gotrue::errors::ApiError;
use crate::gotrue::extract::{ApiKey, JsonBody};
use crate::gotrue::models::UserRecord;
use crate::state::AppState;

/// Consents given: (user, client) → scopes (GoTrue's `oauth_consents`).
#[derive(Debug, Default)]
pub struct Consents {
    granted: Mutex<HashMap<(Uuid, Uuid), HashSet<String>>>,
}

impl Consents {
    fn covers(&self, user: Uuid, client: Uuid, scope: &str) -> bool {
        self.granted
            .lock()
            .get(&(user, client))
            .is_some_and(|granted| {
                scope
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .all(|s| granted.contains(s))
            })
    }

    fn grant(&self, user: Uuid, client: Uuid, scope: &str) {
        self.granted
            .lock()
            .entry((user, client))
            .or_default()
            .extend(
                scope
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            );
    }
}

#[derive(Serialize)]
struct ClientDetails {
    id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    uri: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    logo_uri: String,
}

#[derive(Serialize)]
struct UserDetails {
    id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    email: String,
}

#[derive(Serialize)]
struct Details {
    authorization_id: String,
    redirect_uri: String,
    client: ClientDetails,
    user: UserDetails,
    #[serde(skip_serializing_if = "String::is_empty")]
    scope: String,
}

#[derive(Serialize)]
struct RedirectUrl {
    redirect_url: String,
}

/// `POST …/consent` body.
#[derive(Debug, Default, Deserialize)]
pub struct ConsentRequest {
    #[serde(default)]
    action: String,
}

fn not_found() -> ApiError {
    ApiError::not_found("oauth_authorization_not_found", "authorization not found")
}

/// GoTrue's `validateAndFindAuthorization` plus the ownership check.
fn find(state: &AppState, id: &str, user: &UserRecord) -> Result<Authorization, ApiError> {
    if id.is_empty() || id.len() > 64 {
        return Err(not_found());
    }
    let authorization = state
        .oauth
        .codes
        .get(id, state.clock.now_unix())
        .ok_or_else(not_found)?;
    if authorization.code.is_some() {
        return Err(ApiError::bad_request(
            "validation_failed",
            "authorization request cannot be processed",
        ));
    }
    if authorization.user_id.is_some_and(|u| u != user.id) {
        return Err(not_found());
    }
    Ok(authorization)
}

fn approve(
    state: &AppState,
    authorization: &Authorization,
    user: Uuid,
) -> Result<String, ApiError> {
    let approved = state
        .oauth
        .codes
        .approve(&authorization.id, user, state.clock.now_unix())
        .ok_or_else(not_found)?;
    state
        .oauth
        .consents
        .grant(user, approved.client_id, &approved.scope);
    state.counters.oauth_code_issued();
    let code = approved.code.unwrap_or_default();
    Ok(redirect_with(
        &approved.redirect_uri,
        &[
            ("code", &code),
            ("state", approved.state.as_deref().unwrap_or("")),
        ],
    ))
}

/// `GET /oauth/authorizations/{authorization_id}`.
pub async fn details(
    _key: ApiKey,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    super::ensure_enabled(&state)?;
    let auth = authenticate(&state, &headers)?;
    let authorization = find(&state, &id, &auth.user)?;
    if authorization.user_id.is_none() {
        state.oauth.codes.set_user(&authorization.id, auth.user.id);
        if state
            .oauth
            .consents
            .covers(auth.user.id, authorization.client_id, &authorization.scope)
        {
            let redirect_url = approve(&state, &authorization, auth.user.id)?;
            return Ok(axum::Json(RedirectUrl { redirect_url }).into_response());
        }
    }
    let client = state.oauth.clients.get(authorization.client_id);
    let details = Details {
        authorization_id: authorization.id.clone(),
        redirect_uri: authorization.redirect_uri.clone(),
        client: ClientDetails {
            id: authorization.client_id.to_string(),
            name: client
                .as_ref()
                .map(|c| c.client_name.clone())
                .unwrap_or_default(),
            uri: client
                .as_ref()
                .map(|c| c.client_uri.clone())
                .unwrap_or_default(),
            logo_uri: client
                .as_ref()
                .map(|c| c.logo_uri.clone())
                .unwrap_or_default(),
        },
        user: UserDetails {
            id: auth.user.id.to_string(),
            email: auth.user.email.clone(),
        },
        scope: authorization.scope.clone(),
    };
    Ok(axum::Json(details).into_response())
}

/// `POST /oauth/authorizations/{authorization_id}/consent`.
pub async fn consent(
    _key: ApiKey,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ConsentRequest>,
) -> Result<Response, ApiError> {
    super::ensure_enabled(&state)?;
    let auth = authenticate(&state, &headers)?;
    if body.action != "approve" && body.action != "deny" {
        return Err(ApiError::bad_request(
            "validation_failed",
            "action must be 'approve' or 'deny'",
        ));
    }
    let authorization = find(&state, &id, &auth.user)?;
    if authorization.user_id != Some(auth.user.id) {
        // GoTrue's validateAuthorizationOwnership: the details call binds the user first.
        return Err(not_found());
    }
    let redirect_url = if body.action == "approve" {
        approve(&state, &authorization, auth.user.id)?
    } else {
        let denied = state
            .oauth
            .codes
            .deny(&authorization.id)
            .ok_or_else(not_found)?;
        redirect_with(
            &denied.redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_description", "User denied the request"),
                ("state", denied.state.as_deref().unwrap_or("")),
            ],
        )
    };
    Ok(axum::Json(RedirectUrl { redirect_url }).into_response())
}
