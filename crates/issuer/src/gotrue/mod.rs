//! GoTrue's HTTP contract under `/auth/v1`, as Supabase serves it behind its API gateway.
//!
//! [`router`] serves `POST /token` (password and refresh grants), `POST /signup`, `GET /user`,
//! `POST /logout`, `GET /settings`, `GET /health`, the admin user API, the JWKS handler of
//! [`crate::jwks`], and the OAuth 2.1 server of [`crate::oauth`] (`/oauth/*` and both discovery
//! documents). Errors use GoTrue's two envelopes
//! ([`errors`]); the gateway's `apikey` check and CORS sit in front as on Supabase.
//!
//! ```
//! use axum::Router;
//! use xauth_issuer::gotrue;
//! use xauth_issuer::state::AppState;
//!
//! let app: Router<AppState> = Router::new().nest("/auth/v1", gotrue::router());
//! # let _ = app;
//! ```

pub mod admin;
pub mod auth;
pub mod claims;
pub mod errors;
pub mod extract;
pub mod handlers;
pub mod models;
pub mod store;
pub mod token;

use axum::Router;
use axum::http::{HeaderName, Method};
use axum::routing::{get, post};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::state::AppState;

pub use store::{AuthStore, SeedError};

/// Request headers browsers may send (GoTrue's list plus the gateway's `apikey`).
pub const CORS_ALLOWED_HEADERS: [&str; 9] = [
    "accept",
    "authorization",
    "content-type",
    "x-client-ip",
    "x-client-info",
    "x-jwt-aud",
    "x-use-cookie",
    "x-supabase-api-version",
    "apikey",
];

/// Response headers browsers may read (GoTrue's list).
pub const CORS_EXPOSED_HEADERS: [&str; 3] = ["x-total-count", "link", "x-supabase-api-version"];

/// GoTrue's CORS policy: any origin (echoed), credentials allowed, GET/POST/PUT/DELETE.
pub fn cors_layer() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers(CORS_ALLOWED_HEADERS.map(HeaderName::from_static))
        .expose_headers(CORS_EXPOSED_HEADERS.map(HeaderName::from_static))
}

async fn fallback(
    _key: extract::ApiKey,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    errors::not_found(headers).await
}

async fn method_not_allowed(
    _key: extract::ApiKey,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    errors::method_not_allowed(headers).await
}

/// Every route under `/auth/v1` (mount with `Router::nest("/auth/v1", router())`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/token", post(token::token))
        .route("/signup", post(handlers::signup))
        .route("/user", get(handlers::get_user).put(handlers::update_user))
        .route("/logout", post(handlers::logout))
        .route("/settings", get(handlers::settings))
        .route("/health", get(handlers::health))
        .route("/admin/users", get(admin::list).post(admin::create))
        .route(
            "/admin/users/{user_id}",
            get(admin::get).delete(admin::delete),
        )
        .route("/.well-known/jwks.json", get(crate::jwks::jwks_handler))
        .route(
            "/.well-known/openid-configuration",
            get(crate::oauth::metadata::openid_configuration),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(crate::oauth::metadata::authorization_server),
        )
        .nest("/oauth", crate::oauth::router())
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(errors::render_errors))
        .layer(cors_layer())
}
