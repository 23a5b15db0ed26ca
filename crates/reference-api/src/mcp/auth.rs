//! The gate in front of rmcp: every `/mcp` request is checked here before any MCP processing.
//!
//! 1. `Origin`, when present, must be the resource's own or an allowed one (else 403);
//! 2. the bearer comes from the `Authorization` header only (never `?access_token=`); a `xpat_`
//!    bearer is a personal access token (with `--pats`) that must carry the `mcp:tools` scope;
//! 3. a JWT is verified by the same verifier rules as the rest of the API, with the audience
//!    rule of the configured mode ([`AudienceMode`]) and the `client_id` allow-list, so an
//!    OpenID ID token (`aud` = a client id) never passes;
//! 4. the same rate limiters: the verified subject's (the PAT owner's) budget, the client IP's
//!    for anything unauthenticated;
//! 5. a JWT's `scope` claim is not enforced: Supabase's OAuth server grants every token it
//!    issues full access and its `scope` names OpenID scopes (`openid email`), so requiring
//!    the MCP scope there would refuse every genuine token; PATs carry the MCP scope instead.
//!
//! Refusals carry the RFC 6750 / RFC 9728 challenge pointing at the metadata document.

use std::sync::atomic::Ordering;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use xauth_verifier::{Outcome, Rejection};

use super::McpState;
use super::config::{AudienceMode, normalize_origin};
use super::defect::McpDefect;
use crate::auth::ClientIp;
use crate::error::{ApiError, insert_rate_headers};
use crate::pat::{Scope, token};
use crate::ratelimit::{RateInfo, ip_key};
use crate::state::AppState;

/// Who the gate admitted; in the request's extensions for the tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpPrincipal {
    /// The verified subject (a PAT's owner).
    pub sub: String,
    /// Its role (a PAT: the owner's current role).
    pub role: Option<String>,
    /// The OAuth client, when the JWT named one.
    pub client_id: Option<String>,
    /// Whether a personal access token was used.
    pub pat: bool,
}

/// The axum middleware on `/mcp`.
pub async fn gate(
    State(state): State<AppState>,
    client: ClientIp,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(mcp) = state.mcp.clone() else {
        return ApiError::NotFound.into_response();
    };
    if !origin_allowed(&mcp, request.headers()) {
        tracing::debug!("MCP request from a foreign Origin refused");
        return ApiError::OriginNotAllowed.into_response();
    }
    let query_token = query_token(&mcp, request.uri().query());
    match admit(&state, &mcp, client, request.headers(), query_token).await {
        Ok((principal, rate)) => {
            request.extensions_mut().insert(principal);
            let mut response = next.run(request).await;
            if let Some(info) = &rate {
                insert_rate_headers(response.headers_mut(), info);
            }
            response
        }
        Err(error) => challenge(&mcp, error),
    }
}

fn origin_allowed(mcp: &McpState, headers: &HeaderMap) -> bool {
    if mcp.defects().has(McpDefect::OriginIgnored) {
        // SEEDED DEFECT mcp-origin-ignored: any page may drive the endpoint.
        return true;
    }
    let mut origins = headers.get_all(header::ORIGIN).iter();
    let (Some(value), None) = (origins.next(), origins.next()) else {
        // No Origin (not a browser): fine. Several: refused.
        return headers.get(header::ORIGIN).is_none();
    };
    let Some(origin) = value.to_str().ok().and_then(normalize_origin) else {
        return false;
    };
    origin == mcp.origin || mcp.config.allowed_origins.contains(&origin)
}

/// `?access_token=`: never a credential, except under the seeded defect.
fn query_token(mcp: &McpState, query: Option<&str>) -> Option<String> {
    if !mcp.defects().has(McpDefect::QueryToken) {
        return None;
    }
    // SEEDED DEFECT mcp-query-token: a credential in the URL (logged by every proxy).
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

async fn admit(
    state: &AppState,
    mcp: &McpState,
    client: ClientIp,
    headers: &HeaderMap,
    query_token: Option<String>,
) -> Result<(McpPrincipal, Option<RateInfo>), ApiError> {
    let header_token = state.defects.bearer_token(headers);
    let token = match (&header_token, &query_token) {
        (Err(Rejection::MissingToken), Some(q)) => Ok(q.as_str()),
        _ => header_token,
    };
    if let (Some(_), Ok(t)) = (state.pats.as_deref(), token.clone())
        && token::has_prefix(t)
    {
        // The PAT path of the rest of the API, with the MCP scope.
        let mut bearer = HeaderMap::new();
        let value = HeaderValue::from_str(&format!("Bearer {t}")).map_err(|_| {
            ApiError::Unauthenticated {
                token_presented: true,
            }
        })?;
        bearer.insert(header::AUTHORIZATION, value);
        let granted = state
            .authorize_route(
                client,
                &bearer,
                None,
                &state.content_policy,
                Scope::McpTools,
            )
            .await?;
        let principal = McpPrincipal {
            sub: granted.claims.sub,
            role: granted.claims.role,
            client_id: None,
            pat: true,
        };
        return Ok((principal, granted.rate));
    }
    admit_jwt(state, mcp, client, token).await
}

fn rate_limited(state: &AppState, info: RateInfo) -> ApiError {
    state.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
    ApiError::RateLimited {
        info,
        send_retry_after: state.defects.send_retry_after(),
    }
}

/// A refusal of an unauthenticated request: counted, charged to the client IP.
fn refuse(state: &AppState, client: ClientIp, limiting: bool, error: ApiError) -> ApiError {
    state.stats.rejected.fetch_add(1, Ordering::Relaxed);
    if limiting && let Err(info) = state.limiters.ip.check(&ip_key(client.0)) {
        return rate_limited(state, info);
    }
    error
}

async fn admit_jwt(
    state: &AppState,
    mcp: &McpState,
    client: ClientIp,
    token: Result<&str, Rejection>,
) -> Result<(McpPrincipal, Option<RateInfo>), ApiError> {
    let limiting = state.defects.rate_limiting();
    let mut charged_unverified = false;
    if let Ok(t) = token {
        if let Some(err) = state.defects.garbage_error(t) {
            return Err(err);
        }
        if limiting && let Some(sub) = state.defects.unverified_sub(t) {
            charged_unverified = true;
            if let Err(info) = state.limiters.subject.check(&sub) {
                return Err(rate_limited(state, info));
            }
        }
    }
    let limiting_ip = limiting && !charged_unverified;
    let raw = token.as_ref().ok().copied();
    let verified = match token {
        Ok(t) => mcp.verifier.verify(t).await,
        Err(rejection) => Err(rejection),
    };
    let claims = match verified {
        Ok(claims) => claims,
        Err(rejection) => {
            tracing::debug!(reason = rejection.reason(), "MCP token refused");
            let error = match rejection.outcome() {
                // TOKEN_EXPIRED ("refresh it") only for a token this resource would accept.
                Outcome::TokenExpired if expired_is_ours(mcp, raw) => state.defects.expired_error(),
                Outcome::TokenExpired | Outcome::Unauthenticated => ApiError::Unauthenticated {
                    token_presented: !matches!(rejection, Rejection::MissingToken),
                },
            };
            return Err(refuse(state, client, limiting_ip, error));
        }
    };
    let client_id = claims.get("client_id").and_then(|v| v.as_str());
    if let Err(reason) = audience_and_client(mcp, &claims.aud, client_id) {
        tracing::debug!(reason, "MCP token refused");
        let error = ApiError::Unauthenticated {
            token_presented: true,
        };
        return Err(refuse(state, client, limiting_ip, error));
    }
    let rate = if limiting_ip {
        match state.limiters.subject.check(&claims.sub) {
            Ok(info) => Some(info),
            Err(info) => return Err(rate_limited(state, info)),
        }
    } else {
        None
    };
    if let Err(forbidden) = state.content_policy.check(&claims) {
        tracing::debug!(requirement = %forbidden.requirement, "MCP: forbidden");
        return Err(state.defects.forbidden_error());
    }
    state.stats.granted.fetch_add(1, Ordering::Relaxed);
    let client_id = claims
        .get("client_id")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let principal = McpPrincipal {
        sub: claims.sub,
        role: claims.role,
        client_id,
        pat: false,
    };
    Ok((principal, rate))
}

/// Whether an expired token (the verifier reports expiry only once the signature and every
/// other claim passed) also passes the MCP audience and `client_id` rules.
fn expired_is_ours(mcp: &McpState, token: Option<&str>) -> bool {
    let payload = token
        .and_then(|t| t.split('.').nth(1))
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
    let Some(payload) = payload else {
        return false;
    };
    let aud: Vec<String> = match payload.get("aud") {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let client_id = payload.get("client_id").and_then(|v| v.as_str());
    audience_and_client(mcp, &aud, client_id).is_ok()
}

/// The MCP audience and `client_id` rules on verified claims. The verifier already required
/// the mode's audience unless an audience defect is on (then it checked none).
fn audience_and_client(
    mcp: &McpState,
    aud: &[String],
    client_id: Option<&str>,
) -> Result<(), &'static str> {
    let defects = mcp.defects();
    let allowed = &mcp.config.allowed_client_ids;
    if defects.has(McpDefect::IdTokenAccepted) && aud.iter().any(|a| allowed.contains(a)) {
        // SEEDED DEFECT mcp-id-token-accepted: an `aud` naming an allowed client (an OpenID ID
        // token) is taken for an access token, the client identified by it.
        return Ok(());
    }
    if defects.has(McpDefect::AnyAudience) {
        // SEEDED DEFECT mcp-any-audience: whatever `aud` says (or lacks) is fine.
    } else if !aud.contains(&mcp.audience) {
        // The verifier checked the audience already, unless a seeded audience defect turned
        // its check off: what is left of the rule still holds here.
        return Err("wrong_audience");
    }
    if defects.has(McpDefect::ClientIdIgnored) {
        // SEEDED DEFECT mcp-client-id-ignored: any client's token is accepted.
        return Ok(());
    }
    let must_check = match mcp.config.audience_mode {
        AudienceMode::Supabase => true,
        AudienceMode::Resource => !allowed.is_empty(),
    };
    if must_check && !client_id.is_some_and(|c| allowed.iter().any(|a| a == c)) {
        return Err("client_id_not_allowed");
    }
    Ok(())
}

/// The MCP answer for a refusal: the API's envelope with the RFC 6750 / RFC 9728 challenge.
/// 401: `Bearer resource_metadata="…"`, then `error="invalid_token"` (and an
/// `error_description` for an expired token) when a token was presented; 403 (a PAT without
/// the MCP scope): `Bearer error="insufficient_scope", scope="…", resource_metadata="…"`.
///
/// A 401 names no scope: an MCP client asks its authorization server for the scopes a
/// challenge names, and Supabase's OAuth server grants OpenID scopes only (it answers
/// `unsupported scope` to any other), so naming the PAT scope there would break every client's
/// flow; none is needed, as Supabase's tokens carry full access.
pub fn challenge(mcp: &McpState, error: ApiError) -> Response {
    let metadata = if mcp.defects().has(McpDefect::NoResourceMetadata) {
        // SEEDED DEFECT mcp-no-resource-metadata: clients cannot discover the auth server.
        None
    } else {
        Some(format!("resource_metadata=\"{}\"", mcp.metadata_url))
    };
    let scope = format!("scope=\"{}\"", mcp.config.scope);
    let invalid = "error=\"invalid_token\"";
    let params: Vec<&str> = match &error {
        ApiError::Unauthenticated {
            token_presented: false,
        } => vec![],
        ApiError::Unauthenticated {
            token_presented: true,
        } => vec![invalid],
        ApiError::TokenExpired => vec![invalid, "error_description=\"The access token expired\""],
        ApiError::PatExpired => vec![
            invalid,
            "error_description=\"The personal access token expired\"",
        ],
        ApiError::Forbidden => {
            let mut p = vec!["error=\"insufficient_scope\"", &scope];
            p.extend(metadata.as_deref());
            return with_challenge(error, &p);
        }
        _ => return error.into_response(),
    };
    let mut all: Vec<&str> = metadata.as_deref().into_iter().collect();
    all.extend(params);
    with_challenge(error, &all)
}

fn with_challenge(error: ApiError, params: &[&str]) -> Response {
    let mut response = error.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("Bearer {}", params.join(", "))) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}
