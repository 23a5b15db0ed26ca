//! `xauth-reference`: a small, production-shaped Xentropy API on [`xauth_verifier`].
//!
//! It is the conformance suite's default target, a worked example, and, with seeded defects
//! ([`defects`]), the proof that the suite catches what it claims to catch.
//!
//! # Routes
//!
//! | route | who | answer |
//! |---|---|---|
//! | `GET /api/content` | role `authenticated` or `service_role` | 200 JSON |
//! | `GET /api/admin/stats` | role `service_role` | 200 JSON counters |
//! | `POST /api/auth/v1/token?grant_type=…` | anyone | proxied to `<SUPABASE_URL>/auth/v1/token` |
//! | `GET /health` | anyone | 200 `{"status":"ok"}` |
//! | `/api/account/tokens…` | a user's session JWT (PATs on only) | personal access tokens, see [`pat`] |
//! | `POST /mcp` | a JWT for the MCP resource or a PAT with `mcp:tools` (`--mcp` only) | the MCP endpoint, see [`mcp`] |
//! | `GET /.well-known/oauth-protected-resource[/mcp]` | anyone (`--mcp` only) | RFC 9728 metadata |
//!
//! Errors are `{"error":{"code":"<CODE>","message":"<text>"}}` ([`ApiError`]): 401
//! `UNAUTHENTICATED` / `TOKEN_EXPIRED` with `WWW-Authenticate: Bearer[ error="invalid_token"]`,
//! 403 `FORBIDDEN` with `error="insufficient_scope"`, 429 `RATE_LIMITED` with `Retry-After`,
//! `RateLimit` and `RateLimit-Policy`, 404 `NOT_FOUND`, 405 `METHOD_NOT_ALLOWED`, 413
//! `PAYLOAD_TOO_LARGE`, 502 `UPSTREAM_UNAVAILABLE`, 504 `UPSTREAM_TIMEOUT`. With personal access
//! tokens on ([`pat`]) also: 401 `PAT_EXPIRED` (an expired PAT: not `TOKEN_EXPIRED`, since a PAT
//! cannot be refreshed), 400 `BAD_REQUEST` with a message naming the bad input, 409 `CONFLICT`,
//! 503 `SERVICE_UNAVAILABLE` (the PAT database failed). With the MCP endpoint on ([`mcp`]), its
//! 401/403 challenges also carry `scope` and `resource_metadata`, and a browser request from a
//! foreign `Origin` is 403 `FORBIDDEN` without a challenge.
//!
//! # Readiness does not wait for the JWKS
//!
//! `GET /health` answers 200 as soon as the server listens. Waiting for a first successful JWKS
//! fetch was considered and rejected:
//! - the service is fully able to do its job without keys: every rejection, HS256 tokens and the
//!   proxy work, and the verifier fetches the JWKS on first use (single-flight), so the first
//!   ES256/RS256 request pays one fetch and nothing fails;
//! - tying readiness to the issuer turns an issuer outage into an outage of every API instance
//!   (orchestrators stop routing to, or restart, "unready" instances), while the verifier's
//!   stale-if-error cache is designed to ride such outages out;
//! - a warm-up fetch at start that failed would also arm the refetch cooldown, making the first
//!   valid tokens fail for up to the cooldown after the issuer came back: worse than lazy.
//!
//! # In-process use
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! let config = xauth_reference::Config::new("http://127.0.0.1:54321")?;
//! let server = xauth_reference::spawn(config).await?;
//! let health = reqwest::get(format!("{}/health", server.url())).await?;
//! assert_eq!(health.status(), 200);
//! server.shutdown().await;
//! # Ok(()) }
//! ```

pub mod auth;
pub mod config;
pub mod defects;
pub mod error;
pub mod mcp;
pub mod pat;
pub mod proxy;
pub mod ratelimit;
pub mod routes;
pub mod server;
pub mod state;

use axum::Router;

pub use config::{Args, Config, ConfigError, Limits};
pub use defects::{Defects, ServiceDefect};
pub use error::ApiError;
pub use mcp::{McpArgs, McpConfig};
pub use pat::{PatArgs, PatConfig, PatService};
pub use ratelimit::RateClock;
pub use server::{
    ServerHandle, StartError, serve, serve_with_pats, spawn, spawn_with, spawn_with_pats,
};

/// The complete router for `config` (every route, fallback and hardening layer), for callers
/// that bring their own server. Without connection info (`ConnectInfo<SocketAddr>`) all clients
/// share one per-IP budget; [`spawn`] and [`serve`] provide it, and also bound headers,
/// connections and shutdown.
pub fn app(config: &Config) -> Result<Router, ConfigError> {
    let state = state::AppState::new(config)?;
    Ok(routes::router(state, config.limits.handler_timeout()))
}
