//! The routes and the middleware stack.

use std::any::Any;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;

use crate::auth::ClientIp;
use crate::error::{ApiError, insert_rate_headers};
use crate::pat::Scope;
use crate::proxy::grant_type;
use crate::state::AppState;

/// The router with every route, the error fallbacks and the hardening layers.
pub fn router(state: AppState, request_timeout: Duration) -> Router {
    let mut routes = Router::new()
        .route("/health", get(health))
        .route("/api/content", get(content))
        .route("/api/admin/stats", get(admin_stats))
        .route("/api/auth/v1/token", post(token_proxy));
    if state.pats.is_some() {
        routes = routes.merge(crate::pat::handlers::routes());
    }
    if state.mcp.is_some() {
        routes = routes.merge(crate::mcp::routes(&state));
    }
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            bounded(request_timeout, req, next)
        }))
        .layer(CatchPanicLayer::custom(panic_response))
}

async fn bounded(limit: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::RequestTimeout.into_response(),
    }
}

fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked (a bug): answered 500");
    ApiError::Internal.into_response()
}

fn json_response(value: serde_json::Value) -> Response {
    let mut response = axum::Json(value).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /health`: 200 as soon as the server listens (see the crate docs for why readiness does
/// not wait for the JWKS).
async fn health() -> Response {
    json_response(json!({"status": "ok"}))
}

/// The items of `GET /api/content` (and of the MCP tool `list_content`).
pub(crate) fn content_items() -> serde_json::Value {
    json!([
        {"id": 1, "title": "Getting started"},
        {"id": 2, "title": "Verifying Supabase JWTs"}
    ])
}

/// `GET /api/content`: role `authenticated` or `service_role`; a PAT needs `content:read`.
async fn content(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let granted = state
        .authorize_route(
            client,
            &headers,
            query.as_deref(),
            &state.content_policy,
            Scope::ContentRead,
        )
        .await?;
    let mut response = json_response(json!({
        "data": {
            "items": content_items(),
            "subject": granted.claims.sub,
            "role": granted.claims.role,
        }
    }));
    if let Some(info) = &granted.rate {
        insert_rate_headers(response.headers_mut(), info);
    }
    Ok(response)
}

/// `GET /api/admin/stats`: role `service_role`; a PAT needs `admin:read` (and an owner whose
/// current role is `service_role`).
async fn admin_stats(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let granted = state
        .authorize_route(
            client,
            &headers,
            query.as_deref(),
            &state.admin_policy,
            Scope::AdminRead,
        )
        .await?;
    let s = &state.stats;
    let mut response = json_response(json!({
        "data": {
            "uptime_seconds": state.started.elapsed().as_secs(),
            "requests": {
                "granted": s.granted.load(Ordering::Relaxed),
                "rejected": s.rejected.load(Ordering::Relaxed),
                "rate_limited": s.rate_limited.load(Ordering::Relaxed),
                "proxied": s.proxied.load(Ordering::Relaxed),
            },
            "jwks_fetches": state.verifier.jwks_fetch_count(),
            "tracked_subjects": state.limiters.subject.tracked_keys(),
            "tracked_ips": state.limiters.ip.tracked_keys(),
            "defects": state.defects.names(),
        }
    }));
    if let Some(info) = &granted.rate {
        insert_rate_headers(response.headers_mut(), info);
    }
    Ok(response)
}

/// `POST /api/auth/v1/token?grant_type=…`: proxied to the auth server.
async fn token_proxy(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body = state.proxy.read_body(&headers, body).await?;
    let grant = grant_type(query.as_deref());
    let body = state.defects.proxied_body(grant.as_deref(), body);
    state.stats.proxied.fetch_add(1, Ordering::Relaxed);
    state
        .proxy
        .forward(query.as_deref(), &headers, body)
        .await
        .map_err(|e| state.defects.upstream_failure(e))
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panicking_handler_becomes_a_json_500() {
        let app: Router = Router::new()
            .route(
                "/boom",
                get(|| async {
                    let v: Vec<String> = Vec::new();
                    v[1].clone() // index out of bounds: a stand-in for a bug
                }),
            )
            .layer(CatchPanicLayer::custom(panic_response));
        let req = Request::builder().uri("/boom").body(Body::empty()).unwrap();
        let resp = app.oneshot(req).await.unwrap();
        assert_eq!(resp.status(), 500);
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/json");
        let body = axum::body::to_bytes(resp.into_body(), 1024).await.unwrap();
        assert_eq!(body, ApiError::Internal.body());
    }
}
