//! `GET /auth/v1/oauth/authorize` in GoTrue's order: errors about the client or the redirect URI
//! are answered here (400, GoTrue's envelope: never a redirect to an unverified URI); every
//! later error is a 302 back to the registered redirect URI with `error`, `error_description`
//! and `state`. A valid request is stored, then either sent to the consent page like the
//! hosted server (`<consent_url>?authorization_id=…`), or, when the control API names an
//! auto-approved user, approved at once: 302 to `redirect_uri?code=…&state=…`. The consent
//! page then drives [`super::consent`].

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::codes::NewAuthorization;
use super::pkce;
use crate::gotrue::errors::ApiError;
use crate::state::AppState;

/// Scopes GoTrue supports (`models.SupportedOAuthScopes`).
pub const SUPPORTED_SCOPES: [&str; 5] = ["openid", "profile", "email", "phone", "offline_access"];
/// The scope of a request without one (GoTrue's `OAUTH_SERVER_DEFAULT_SCOPE`).
pub const DEFAULT_SCOPE: &str = "email";
/// Longest `scope` accepted.
pub const MAX_SCOPE_LEN: usize = 1024;
/// Longest `state`, `nonce`, `resource` or `redirect_uri` accepted.
pub const MAX_PARAM_LEN: usize = 2048;
/// Longest query string read at all.
pub const MAX_QUERY_LEN: usize = 16 * 1024;

/// The request's parameters (first value of each, as Go's `Query().Get`).
#[derive(Debug, Default)]
struct Params {
    client_id: String,
    redirect_uri: String,
    response_type: String,
    scope: String,
    state: String,
    resource: String,
    code_challenge: String,
    code_challenge_method: String,
    nonce: String,
}

fn parse(query: &str) -> Params {
    let mut p = Params::default();
    let mut seen = std::collections::HashSet::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if !seen.insert(k.clone()) {
            continue;
        }
        let slot = match k.as_ref() {
            "client_id" => &mut p.client_id,
            "redirect_uri" => &mut p.redirect_uri,
            "response_type" => &mut p.response_type,
            "scope" => &mut p.scope,
            "state" => &mut p.state,
            "resource" => &mut p.resource,
            "code_challenge" => &mut p.code_challenge,
            "code_challenge_method" => &mut p.code_challenge_method,
            "nonce" => &mut p.nonce,
            _ => continue,
        };
        *slot = v.into_owned();
    }
    p
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("validation_failed", message)
}

/// The issuer's bounds (GoTrue has none here): checked before anything is echoed anywhere.
fn check_bounds(p: &Params) -> Result<(), ApiError> {
    for (name, value, max) in [
        ("client_id", &p.client_id, MAX_PARAM_LEN),
        ("redirect_uri", &p.redirect_uri, MAX_PARAM_LEN),
        ("response_type", &p.response_type, MAX_PARAM_LEN),
        ("scope", &p.scope, MAX_SCOPE_LEN),
        ("state", &p.state, MAX_PARAM_LEN),
        ("resource", &p.resource, MAX_PARAM_LEN),
        ("code_challenge", &p.code_challenge, MAX_PARAM_LEN),
        (
            "code_challenge_method",
            &p.code_challenge_method,
            MAX_PARAM_LEN,
        ),
        ("nonce", &p.nonce, MAX_PARAM_LEN),
    ] {
        if value.len() > max {
            return Err(invalid(format!("{name} cannot exceed {max} characters")));
        }
    }
    Ok(())
}

/// `redirect_uri` with `params` set (replacing any of the same name), keys sorted and
/// form-encoded like Go's `url.Values.Encode`.
pub fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return redirect_uri.to_owned();
    };
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !params.iter().any(|(name, _)| name == k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.extend(
        params
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    url.set_query(Some(&query));
    url.into()
}

fn found(location: &str) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn error_redirect(redirect_uri: &str, error: &str, description: &str, state: &str) -> Response {
    found(&redirect_with(
        redirect_uri,
        &[
            ("error", error),
            ("error_description", description),
            ("state", state),
        ],
    ))
}

/// GoTrue's `validateResourceParam` (RFC 8707): absolute, no fragment, no query.
fn check_resource(resource: &str) -> Result<(), &'static str> {
    if resource.is_empty() {
        return Ok(());
    }
    let url = url::Url::parse(resource).map_err(|_| "resource must be an absolute URI")?;
    if url.fragment().is_some() {
        return Err("resource must not include a fragment component");
    }
    if url.query().is_some() {
        return Err("resource must not include a query component");
    }
    Ok(())
}

fn check_scope(scope: &str) -> Result<(), String> {
    let mut any = false;
    for s in scope.split(' ').filter(|s| !s.trim().is_empty()) {
        any = true;
        if !SUPPORTED_SCOPES.contains(&s.trim()) {
            return Err(format!("unsupported scope: {}", s.trim()));
        }
    }
    if any {
        Ok(())
    } else {
        Err("scope parameter cannot be empty".into())
    }
}

/// `GET /oauth/authorize`.
pub async fn authorize(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    super::ensure_enabled(&state)?;
    let query = query.unwrap_or_default();
    if query.len() > MAX_QUERY_LEN {
        return Err(invalid(format!(
            "the query string cannot exceed {MAX_QUERY_LEN} characters"
        )));
    }
    let mut p = parse(&query);
    check_bounds(&p)?;
    if p.client_id.is_empty() {
        return Err(invalid("client_id is required"));
    }
    if p.redirect_uri.is_empty() {
        return Err(invalid("redirect_uri is required"));
    }
    let client_id = Uuid::parse_str(&p.client_id)
        .map_err(|_| ApiError::bad_request("oauth_client_not_found", "invalid client_id format"))?;
    let client = state
        .oauth
        .clients
        .get(client_id)
        .ok_or_else(|| ApiError::bad_request("oauth_client_not_found", "invalid client_id"))?;
    if !client.allows_redirect(&p.redirect_uri) {
        // Never redirect to a URI the client did not register.
        return Err(invalid("invalid redirect_uri"));
    }

    // From here on the redirect URI is trusted: errors go back to it.
    if p.response_type.is_empty() {
        "code".clone_into(&mut p.response_type);
    }
    if p.scope.is_empty() {
        DEFAULT_SCOPE.clone_into(&mut p.scope);
    }
    let checked = if p.response_type != "code" {
        Err("only response_type=code is supported".to_owned())
    } else {
        check_scope(&p.scope)
            .and_then(|()| check_resource(&p.resource).map_err(str::to_owned))
            .and_then(|()| {
                pkce::check_challenge(&p.code_challenge, &p.code_challenge_method)
                    .map_err(str::to_owned)
            })
    };
    if let Err(description) = checked {
        return Ok(error_redirect(
            &p.redirect_uri,
            "invalid_request",
            &description,
            &p.state,
        ));
    }

    let now = state.clock.now_unix();
    let some = |s: String| (!s.is_empty()).then_some(s);
    let created = state.oauth.codes.create(
        NewAuthorization {
            client_id,
            redirect_uri: p.redirect_uri.clone(),
            scope: p.scope.clone(),
            state: some(p.state.clone()),
            resource: some(p.resource.clone()),
            code_challenge: p.code_challenge.clone(),
            nonce: some(p.nonce.clone()),
        },
        now,
    );
    let Ok(authorization) = created else {
        tracing::warn!("authorization request store full");
        return Ok(error_redirect(
            &p.redirect_uri,
            "server_error",
            "error creating authorization",
            &p.state,
        ));
    };

    let Some(user_id) = state.oauth.settings.get().auto_approve_user_id else {
        let location = redirect_with(
            &state.config.oauth_consent_url,
            &[("authorization_id", &authorization.id)],
        );
        return Ok(found(&location));
    };
    let user_ok = state
        .auth
        .get_user(user_id)
        .is_some_and(|u| !u.is_banned(state.clock.now()));
    if !user_ok {
        return Ok(error_redirect(
            &p.redirect_uri,
            "access_denied",
            "User not found or banned",
            &p.state,
        ));
    }
    let Some(approved) = state.oauth.codes.approve(&authorization.id, user_id, now) else {
        return Ok(error_redirect(
            &p.redirect_uri,
            "server_error",
            "error approving authorization",
            &p.state,
        ));
    };
    state.counters.oauth_code_issued();
    tracing::debug!(%client_id, %user_id, "authorization auto-approved");
    let code = approved.code.unwrap_or_default();
    Ok(found(&redirect_with(
        &approved.redirect_uri,
        &[("code", &code), ("state", &p.state)],
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_sort_and_replace_parameters_like_go() {
        assert_eq!(
            redirect_with(
                "https://a.example/cb?z=1&code=old",
                &[("state", "s t"), ("code", "c")]
            ),
            "https://a.example/cb?code=c&state=s+t&z=1"
        );
        assert_eq!(
            redirect_with("https://a.example/cb", &[("code", "c"), ("state", "")]),
            "https://a.example/cb?code=c"
        );
    }

    #[test]
    fn scopes_and_resources_follow_gotrue() {
        assert!(check_scope("openid email").is_ok());
        assert!(check_scope("openid  email ").is_ok());
        assert_eq!(
            check_scope("admin").unwrap_err(),
            "unsupported scope: admin"
        );
        assert!(check_scope("  ").is_err());
        assert!(check_resource("https://mcp.example.com/mcp").is_ok());
        assert!(check_resource("mcp").is_err());
        assert!(check_resource("https://mcp.example.com/mcp#x").is_err());
        assert!(check_resource("https://mcp.example.com/mcp?x=1").is_err());
    }
}
