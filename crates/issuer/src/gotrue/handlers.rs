//! `GET /user`, `PUT /user`, `POST /logout`, `POST /signup`, `GET /settings`, `GET /health`.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::auth::{authenticate, claims_audience, request_aud};
use super::errors::ApiError;
use super::extract::{ApiKey, JsonBody};
use super::store::{LogoutScope, UserUpdate, check_password_strength, validate_email};
use super::token::session_response;
use crate::state::AppState;

/// The version `GET /health` reports.
pub const GOTRUE_VERSION: &str = "v2.177.0";

/// `GET /user`: the bare User object of the bearer's user.
pub async fn get_user(
    _key: ApiKey,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let auth = authenticate(&state, &headers)?;
    let aud = request_aud(&headers, Some(&auth.claims));
    if claims_audience(&auth.claims) != Some(aud.as_str()) {
        return Err(ApiError::bad_request(
            "validation_failed",
            "Token audience doesn't match request audience",
        ));
    }
    Ok(axum::Json(auth.user.to_json()).into_response())
}

/// Body of `PUT /user` (GoTrue's `UserUpdateParams`; `nonce`, `channel` and the PKCE fields
/// are accepted and ignored: the mock never asks for reauthentication or sends mail).
#[derive(Debug, Default, Deserialize)]
pub struct UserUpdateParams {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    data: Option<Map<String, Value>>,
    #[serde(default)]
    app_metadata: Option<Map<String, Value>>,
    #[serde(default)]
    phone: String,
}

/// `PUT /user`: updates the bearer's own user and answers the User object. A new password
/// signs out the user's other sessions; an email change is recorded as pending (`new_email`,
/// `email_change_sent_at`) because GoTrue confirms it by mail; `app_metadata` needs an admin
/// (403 `not_admin`); a phone change is refused (422 `phone_provider_disabled`: the mock has
/// no SMS provider).
pub async fn update_user(
    _key: ApiKey,
    State(state): State<AppState>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    use axum::extract::FromRequest;
    // Authentication first, then the body, as GoTrue's middleware chain does.
    let auth = authenticate(&state, request.headers())?;
    let JsonBody(params) = JsonBody::<UserUpdateParams>::from_request(request, &state).await?;
    let email = if params.email.is_empty() {
        None
    } else {
        Some(validate_email(&params.email)?)
    };
    if !params.phone.is_empty() && params.phone != auth.user.phone {
        return Err(ApiError::unprocessable(
            "phone_provider_disabled",
            "Phone logins are disabled",
        ));
    }
    if let Some(password) = &params.password {
        check_password_strength(password)?;
    }
    if params.app_metadata.is_some() {
        return Err(ApiError::forbidden(
            "not_admin",
            "Updating app_metadata requires admin privileges",
        ));
    }
    let user = state.auth.update_user(
        auth.user.id,
        auth.session_id,
        UserUpdate {
            email,
            password: params.password,
            data: params.data,
        },
        state.clock.now(),
    )?;
    Ok(axum::Json(user.to_json()).into_response())
}

/// `POST /logout?scope=global|local|others`: 204 with an empty body.
pub async fn logout(
    _key: ApiKey,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let auth = authenticate(&state, &headers)?;
    let scope_text = query
        .as_deref()
        .and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "scope")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default();
    let scope = match scope_text.as_str() {
        "" | "global" => LogoutScope::Global,
        "local" => LogoutScope::Local,
        "others" => LogoutScope::Others,
        other => {
            return Err(ApiError::bad_request(
                "validation_failed",
                format!("Unsupported logout scope {other:?}"),
            ));
        }
    };
    state.auth.logout(auth.user.id, auth.session_id, scope);
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Default, Deserialize)]
/// Body of `POST /signup` (unknown fields such as `gotrue_meta_security` are ignored).
pub struct SignupParams {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    data: Option<Map<String, Value>>,
}

/// `POST /signup` with auto-confirm: 200 with a session, like GoTrue with
/// `MAILER_AUTOCONFIRM=true`. Phone signups are disabled, as in the Supabase CLI default.
pub async fn signup(
    _key: ApiKey,
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(params): JsonBody<SignupParams>,
) -> Result<Response, ApiError> {
    let email = params.email.unwrap_or_default();
    let phone = params.phone.unwrap_or_default();
    let password = params.password.unwrap_or_default();
    if email.is_empty() && phone.is_empty() {
        return Err(ApiError::unprocessable(
            "anonymous_provider_disabled",
            "Anonymous sign-ins are disabled",
        ));
    }
    if password.is_empty() {
        return Err(ApiError::bad_request(
            "validation_failed",
            "Signup requires a valid password",
        ));
    }
    check_password_strength(&password)?;
    if !email.is_empty() && !phone.is_empty() {
        return Err(ApiError::bad_request(
            "validation_failed",
            "Only an email address or phone number should be provided on signup.",
        ));
    }
    if email.is_empty() {
        return Err(ApiError::bad_request(
            "phone_provider_disabled",
            "Phone signups are disabled",
        ));
    }
    let email = validate_email(&email)?;
    let aud = request_aud(&headers, None);
    let grant = state.auth.signup(
        Some(&email),
        None,
        &password,
        params.data.unwrap_or_default(),
        &aud,
        state.clock.now(),
    )?;
    state.counters.signup();
    Ok(session_response(&state, &grant, None))
}

/// `GET /settings`: the provider flags of a Supabase CLI project (email only, autoconfirm).
pub async fn settings(_key: ApiKey) -> Response {
    let mut external = Map::new();
    for provider in [
        "anonymous_users",
        "apple",
        "azure",
        "bitbucket",
        "discord",
        "email",
        "facebook",
        "figma",
        "fly",
        "github",
        "gitlab",
        "google",
        "kakao",
        "keycloak",
        "linkedin",
        "linkedin_oidc",
        "notion",
        "phone",
        "slack",
        "slack_oidc",
        "spotify",
        "twitch",
        "twitter",
        "workos",
        "zoom",
    ] {
        external.insert(provider.to_owned(), Value::Bool(provider == "email"));
    }
    axum::Json(json!({
        "external": external,
        "disable_signup": false,
        "mailer_autoconfirm": true,
        "phone_autoconfirm": false,
        "sms_provider": "twilio",
        "saml_enabled": false,
    }))
    .into_response()
}

/// `GET /health` (open, also the readiness probe).
pub async fn health() -> Response {
    axum::Json(json!({
        "version": GOTRUE_VERSION,
        "name": "GoTrue",
        "description": "GoTrue is a user registration and authentication API",
    }))
    .into_response()
}
