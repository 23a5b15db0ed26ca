//! `POST /token?grant_type=password|refresh_token` and GoTrue's `AccessTokenResponse`.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::auth::request_aud;
use super::claims::AccessTokenClaims;
use super::errors::ApiError;
use super::extract::{ApiKey, JsonBody};
use super::models::{UserJson, refresh_token_well_formed};
use super::store::{Grant, Login};
use crate::faults::{self, ConnectionKill, FaultRoute};
use crate::state::AppState;

#[derive(Serialize)]
struct WeakPassword<'a> {
    message: &'a str,
    reasons: &'a [String],
}

#[derive(Serialize)]
struct AccessTokenResponse<'a> {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    expires_at: i64,
    refresh_token: &'a str,
    user: UserJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    weak_password: Option<WeakPassword<'a>>,
}

/// Signs an access token for `grant` and renders the 200 session response with GoTrue's
/// informational `sb-auth-*` headers.
pub fn session_response(state: &AppState, grant: &Grant, weak: Option<&ApiError>) -> Response {
    let now = state.clock.now_unix();
    let ttl = state.config.access_token_ttl;
    let issuer = state.config.issuer();
    let payload = AccessTokenClaims::for_grant(&issuer, grant, now, ttl).payload();
    let expires_at = now + ttl;
    let body = AccessTokenResponse {
        access_token: state.keys.sign_access_token(&payload),
        token_type: "bearer",
        expires_in: expires_at - now,
        expires_at,
        refresh_token: &grant.refresh_token,
        user: grant.user.to_json(),
        weak_password: weak.map(|w| WeakPassword {
            message: &w.message,
            reasons: w.weak_password.as_deref().unwrap_or(&[]),
        }),
    };
    let mut response = axum::Json(body).into_response();
    insert_session_headers(response.headers_mut(), grant);
    response
}

/// The `sb-auth-*` headers GoTrue sends with every token answer (password, refresh and the
/// OAuth server's grants): the user, the session and the refresh token's first characters.
pub(crate) fn insert_session_headers(headers: &mut HeaderMap, grant: &Grant) {
    for (name, value) in [
        ("sb-auth-user-id", grant.user.id.to_string()),
        ("sb-auth-session-id", grant.session_id.to_string()),
        (
            "sb-auth-refresh-token-prefix",
            grant.refresh_token.chars().take(5).collect(),
        ),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct PasswordParams {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct RefreshParams {
    #[serde(default)]
    refresh_token: Option<String>,
}

/// `grant_type` from the query string (Go's `FormValue`, first value wins).
fn grant_type(request: &Request) -> String {
    request
        .uri()
        .query()
        .and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "grant_type")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default()
}

/// `POST /token`. An injected token fault applies first, before the gateway's `apikey` check,
/// as when the auth server itself is down or broken.
pub async fn token(State(state): State<AppState>, request: Request) -> Response {
    if let Some(response) = faults::respond(
        &state.faults,
        FaultRoute::Token,
        ConnectionKill::of(&request),
    )
    .await
    {
        return response;
    }
    let (mut parts, body) = request.into_parts();
    if let Err(rejection) = ApiKey::from_request_parts(&mut parts, &state).await {
        return rejection.into_response();
    }
    let request = Request::from_parts(parts, body);
    let grant_type = grant_type(&request);
    let headers = request.headers().clone();
    let result = match grant_type.as_str() {
        "password" => password_grant(&state, &headers, request).await,
        "refresh_token" => refresh_grant(&state, request).await,
        _ => Err(ApiError::bad_request(
            "invalid_credentials",
            "unsupported_grant_type",
        )),
    };
    match result {
        Ok(response) => {
            state.counters.grant_ok(&grant_type);
            response
        }
        Err(error) => {
            state.counters.grant_failed();
            error.into_response()
        }
    }
}

async fn body<T: serde::de::DeserializeOwned>(
    state: &AppState,
    request: Request,
) -> Result<T, ApiError> {
    use axum::extract::FromRequest;
    JsonBody::<T>::from_request(request, state)
        .await
        .map(|JsonBody(t)| t)
}

async fn password_grant(
    state: &AppState,
    headers: &HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    let params: PasswordParams = body(state, request).await?;
    let email = params.email.unwrap_or_default();
    let phone = params.phone.unwrap_or_default();
    let password = params.password.unwrap_or_default();
    if !email.is_empty() && !phone.is_empty() {
        return Err(ApiError::bad_request(
            "validation_failed",
            "Only an email address or phone number should be provided on login.",
        ));
    }
    let login = if !email.is_empty() {
        Login::Email(&email)
    } else if !phone.is_empty() {
        return Err(ApiError::unprocessable(
            "phone_provider_disabled",
            "Phone logins are disabled",
        ));
    } else {
        return Err(ApiError::bad_request(
            "validation_failed",
            "missing email or phone",
        ));
    };
    let aud = request_aud(headers, None);
    let (grant, weak) = state
        .auth
        .password_grant(login, &password, &aud, state.clock.now())?;
    Ok(session_response(state, &grant, weak.as_ref()))
}

async fn refresh_grant(state: &AppState, request: Request) -> Result<Response, ApiError> {
    let params: RefreshParams = body(state, request).await?;
    let token = params.refresh_token.unwrap_or_default();
    if !refresh_token_well_formed(&token) {
        return Err(ApiError::bad_request(
            "validation_failed",
            "Refresh token is not valid",
        ));
    }
    // A session an OAuth client obtained is refreshed at /oauth/token, where the client
    // authenticates; here its refresh token would bypass that (GoTrue: invalid_client).
    if let Some(session) = state.auth.refresh_token_session(&token)
        && state.oauth.session(session).is_some()
    {
        return Err(ApiError::bad_request(
            "invalid_client",
            "This refresh token belongs to an OAuth client's session: refresh it at /oauth/token",
        ));
    }
    let grant = state.auth.refresh_grant(
        &token,
        state.clock.now(),
        state.config.refresh_reuse_interval,
    )?;
    Ok(session_response(state, &grant, None))
}
