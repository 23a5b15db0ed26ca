//! `POST /auth/v1/oauth/token`: client authentication (GoTrue's `requireOAuthClientAuth`, whose
//! failures are 400 `invalid_credentials` in GoTrue's envelope), then the grant (RFC 6749 errors,
//! always 400). `authorization_code` checks the code, its expiry, client, redirect URI and
//! PKCE verifier, consumes the code and opens a session; `refresh_token` rotates through
//! GoTrue's own refresh-token rules, limited to the session's client. A replayed code is
//! `invalid_grant`, and the session it produced is revoked.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use uuid::Uuid;

use super::clients::Client;
use super::errors::{OAuthError, TokenError};
use super::{AMR_METHOD, SessionBinding, access_token, id_token, pkce};
use crate::gotrue::errors::ApiError;
use crate::gotrue::extract::read_body;
use crate::gotrue::store::{Grant, LogoutScope};
use crate::state::AppState;

/// Largest token request body read.
pub const MAX_TOKEN_BODY: usize = 64 * 1024;

/// The request's parameters (GoTrue's `OAuthTokenParams`).
#[derive(Debug, Default, Clone)]
struct Params {
    grant_type: String,
    code: String,
    refresh_token: String,
    redirect_uri: String,
    client_id: String,
    client_secret: String,
    code_verifier: String,
    /// Read from JSON bodies only, as GoTrue does.
    resource: String,
}

/// How the client presented itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthMethod {
    None,
    Basic,
    Post,
}

impl AuthMethod {
    fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Basic => "client_secret_basic",
            Self::Post => "client_secret_post",
        }
    }
}

fn credentials_error(detail: &str) -> ApiError {
    ApiError::bad_request(
        "invalid_credentials",
        format!("Invalid client credentials: {detail}"),
    )
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// A JSON member as Go's `json.Unmarshal` into a `string` field sees it: absent or null is
/// empty, a string is itself, anything else is a type error.
fn json_string(object: &serde_json::Map<String, Value>, key: &str) -> Result<String, ()> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(()),
    }
}

/// Parses the body the way GoTrue reads it twice: the credentials in the middleware (its error
/// is the outer one), then the grant parameters in the handler (an error there comes back
/// with the credentials alone, to be answered after client authentication, in GoTrue's order).
fn parse(
    headers: &HeaderMap,
    query: &str,
    body: &[u8],
) -> Result<(Params, Option<OAuthError>), ApiError> {
    if is_json(headers) {
        let object = match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(o)) => o,
            Ok(Value::Null) => serde_json::Map::new(),
            _ => return Err(credentials_error("failed to parse JSON body")),
        };
        let client_id = json_string(&object, "client_id");
        let client_secret = json_string(&object, "client_secret");
        let (Ok(client_id), Ok(client_secret)) = (client_id, client_secret) else {
            return Err(credentials_error("failed to parse JSON body"));
        };
        let field = |k: &str| json_string(&object, k);
        let params = (|| {
            Ok::<_, ()>(Params {
                grant_type: field("grant_type")?,
                code: field("code")?,
                refresh_token: field("refresh_token")?,
                redirect_uri: field("redirect_uri")?,
                code_verifier: field("code_verifier")?,
                resource: field("resource")?,
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
            })
        })();
        return Ok(match params {
            Ok(p) => (p, None),
            Err(()) => (
                Params {
                    client_id,
                    client_secret,
                    ..Params::default()
                },
                Some(OAuthError::invalid_request("Invalid JSON body")),
            ),
        });
    }
    // Go's ParseForm: body values first, then the query string's; FormValue takes the first.
    let mut form: Vec<(String, String)> = url::form_urlencoded::parse(body)
        .chain(url::form_urlencoded::parse(query.as_bytes()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut value = |k: &str| {
        form.iter()
            .position(|(name, _)| name == k)
            .map(|i| std::mem::take(&mut form[i].1))
            .unwrap_or_default()
    };
    Ok((
        Params {
            grant_type: value("grant_type"),
            code: value("code"),
            refresh_token: value("refresh_token"),
            redirect_uri: value("redirect_uri"),
            client_id: value("client_id"),
            client_secret: value("client_secret"),
            code_verifier: value("code_verifier"),
            resource: String::new(),
        },
        None,
    ))
}

/// `Authorization: Basic base64(id:secret)` (standard base64, no URL-decoding of the parts,
/// as GoTrue's `ExtractClientCredentials`).
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, ApiError> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return Ok(None);
    };
    let decoded = STANDARD
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| credentials_error("invalid basic auth encoding"))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| credentials_error("invalid basic auth format"))?;
    Ok(Some((id.to_owned(), secret.to_owned())))
}

/// GoTrue's `requireOAuthClientAuth`: `None` when no client id was presented at all.
fn authenticate_client(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Option<std::sync::Arc<Client>>, ApiError> {
    let (client_id, secret, method) = match basic_credentials(headers)? {
        Some((id, secret)) => (id, secret, AuthMethod::Basic),
        None if !params.client_secret.is_empty() => (
            params.client_id.clone(),
            params.client_secret.clone(),
            AuthMethod::Post,
        ),
        None => (params.client_id.clone(), String::new(), AuthMethod::None),
    };
    if client_id.is_empty() {
        return Ok(None);
    }
    let id = Uuid::parse_str(&client_id)
        .map_err(|_| ApiError::bad_request("invalid_credentials", "Invalid client_id format"))?;
    let client = state.oauth.clients.get(id).ok_or_else(|| {
        ApiError::bad_request("invalid_credentials", "Invalid client credentials")
    })?;
    if method.as_str() != client.auth_method {
        return Err(ApiError::bad_request(
            "invalid_credentials",
            format!(
                "invalid authentication method: client is registered for '{}' but '{}' was used",
                client.auth_method,
                method.as_str()
            ),
        ));
    }
    if client.is_public() {
        if !secret.is_empty() {
            return Err(ApiError::bad_request(
                "invalid_credentials",
                "public clients must not provide client_secret",
            ));
        }
    } else if secret.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_credentials",
            "confidential clients must provide client_secret",
        ));
    } else if !client.secret_matches(&secret) {
        return Err(ApiError::bad_request(
            "invalid_credentials",
            "invalid client credentials",
        ));
    }
    Ok(Some(client))
}

/// The 200 answer: GoTrue builds it as a Go map, so its members come out sorted.
fn token_response(
    grant: &Grant,
    access: &access_token::Issued,
    id_token: Option<String>,
) -> Response {
    let mut body: BTreeMap<&str, Value> = BTreeMap::new();
    body.insert("access_token", Value::String(access.token.clone()));
    body.insert("token_type", Value::String("bearer".into()));
    body.insert("expires_in", Value::from(access.expires_in));
    body.insert("refresh_token", Value::String(grant.refresh_token.clone()));
    if let Some(id_token) = id_token {
        body.insert("id_token", Value::String(id_token));
    }
    let mut response = axum::Json(body).into_response();
    crate::gotrue::token::insert_session_headers(response.headers_mut(), grant);
    response
}

/// `POST /oauth/token`.
pub async fn token(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, TokenError> {
    super::ensure_enabled(&state)?;
    let bytes = read_body(body, MAX_TOKEN_BODY.min(state.config.max_body_bytes)).await?;
    let (params, malformed) = parse(&headers, query.as_deref().unwrap_or(""), &bytes)?;
    let client = authenticate_client(&state, &headers, &params)?;
    if let Some(error) = malformed {
        return Err(error.into());
    }
    if params.grant_type.is_empty() {
        return Err(OAuthError::invalid_request("grant_type is required").into());
    }
    let Some(client) = client else {
        return Err(OAuthError::invalid_client("Client authentication required").into());
    };
    if !client.allows_grant(&params.grant_type) {
        return Err(OAuthError::unsupported_grant_type(format!(
            "Client is not allowed to use grant type: {}",
            params.grant_type.chars().take(64).collect::<String>()
        ))
        .into());
    }
    let result = match params.grant_type.as_str() {
        "authorization_code" => code_grant(&state, &client, &params),
        "refresh_token" => refresh_grant(&state, &client, &params),
        other => Err(OAuthError::unsupported_grant_type(format!(
            "Unsupported grant type: {}",
            other.chars().take(64).collect::<String>()
        ))),
    };
    if let Err(e) = &result {
        tracing::debug!(client_id = %client.id, error = e.error, description = %e.description, "OAuth token request refused");
    }
    Ok(result?)
}

fn code_grant(state: &AppState, client: &Client, params: &Params) -> Result<Response, OAuthError> {
    if params.code.is_empty() {
        return Err(OAuthError::invalid_request(
            "code is required for authorization_code grant",
        ));
    }
    let now = state.clock.now_unix();
    let Some(authorization) = state.oauth.codes.find_by_code(&params.code) else {
        if let Some(replayed) = state.oauth.codes.take_redeemed(&params.code) {
            // OAuth 2.1 §4.1.2: a replayed code revokes what it produced.
            tracing::warn!(session_id = %replayed.session_id, "authorization code replayed; revoking its session");
            state.auth.logout(
                replayed.user_id,
                Some(replayed.session_id),
                LogoutScope::Local,
            );
        }
        return Err(OAuthError::invalid_grant("Invalid authorization code"));
    };
    if authorization.is_expired(now) {
        return Err(OAuthError::invalid_grant("Authorization code has expired"));
    }
    if authorization.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "Authorization code was not issued for this client",
        ));
    }
    if !params.resource.is_empty()
        && Some(params.resource.as_str()) != authorization.resource.as_deref()
    {
        return Err(OAuthError::invalid_grant(
            "Authorization code resource does not match the resource parameter",
        ));
    }
    if !params.redirect_uri.is_empty() && params.redirect_uri != authorization.redirect_uri {
        return Err(OAuthError::invalid_grant("Invalid redirect_uri"));
    }
    pkce::verify(&authorization.code_challenge, &params.code_verifier)
        .map_err(|e| OAuthError::invalid_grant(format!("PKCE verification failed: {e}")))?;
    let Some(user_id) = authorization.user_id else {
        return Err(OAuthError::invalid_grant(
            "Authorization code has no associated user",
        ));
    };
    let Some(user) = state.auth.get_user(user_id) else {
        return Err(OAuthError::invalid_grant(
            "User not found for authorization code",
        ));
    };
    if user.is_banned(state.clock.now()) {
        return Err(OAuthError::access_denied("User is banned"));
    }
    // Single use: exactly one concurrent exchange gets the code.
    if state.oauth.codes.consume(&params.code).is_none() {
        return Err(OAuthError::invalid_grant("Invalid authorization code"));
    }
    let grant = state
        .auth
        .issue_session(user_id, AMR_METHOD, state.clock.now())
        .map_err(|e| match e.code {
            "user_banned" => OAuthError::access_denied("User is banned"),
            _ => OAuthError::invalid_grant("User not found for authorization code"),
        })?;
    state.oauth.codes.record_redeemed(
        &params.code,
        authorization.expires_at,
        user_id,
        grant.session_id,
    );
    let binding = SessionBinding {
        client_id: client.id,
        scope: authorization.scope.clone(),
        resource: authorization.resource.clone(),
    };
    state.oauth.bind_session(grant.session_id, binding.clone());
    state.counters.oauth_code_redeemed();
    let access = access_token::issue(state, &grant, &binding);
    let scopes: Vec<&str> = binding.scope.split(' ').filter(|s| !s.is_empty()).collect();
    let id_token = scopes.contains(&"openid").then(|| {
        id_token::issue(
            state,
            &id_token::IdTokenInput {
                user: &grant.user,
                client_id: client.id,
                nonce: authorization.nonce.as_deref(),
                scopes: &scopes,
            },
        )
    });
    Ok(token_response(&grant, &access, id_token))
}

fn refresh_grant(
    state: &AppState,
    client: &Client,
    params: &Params,
) -> Result<Response, OAuthError> {
    if params.refresh_token.is_empty() {
        return Err(OAuthError::invalid_request(
            "refresh_token is required for refresh_token grant",
        ));
    }
    // GoTrue's session/client consistency check (RefreshTokenGrant).
    let binding = match state.auth.refresh_token_session(&params.refresh_token) {
        Some(session) => match state.oauth.session(session) {
            Some(b) if b.client_id == client.id => Some(b),
            Some(_) => {
                return Err(OAuthError::invalid_client(
                    "Client does not match the session's OAuth client",
                ));
            }
            None => {
                return Err(OAuthError::invalid_client(
                    "Client authentication not allowed for non-OAuth session",
                ));
            }
        },
        None => None,
    };
    let grant = state
        .auth
        .refresh_grant(
            &params.refresh_token,
            state.clock.now(),
            state.config.refresh_reuse_interval,
        )
        .map_err(|e| match e.code {
            "user_banned" => {
                OAuthError::access_denied("User is not permitted to access this resource.")
            }
            _ => OAuthError::invalid_grant("Refresh token is invalid or expired."),
        })?;
    let binding = binding.unwrap_or(SessionBinding {
        client_id: client.id,
        scope: String::new(),
        resource: None,
    });
    let access = access_token::issue(state, &grant, &binding);
    Ok(token_response(&grant, &access, None))
}
