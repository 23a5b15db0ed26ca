//! GoTrue's HTTP contract under `/auth/v1`. Skeleton: filled in by the GoTrue side.

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

/// Users, sessions and refresh tokens.
#[derive(Debug, Default)]
pub struct AuthStore {}

/// Every route under `/auth/v1` (mounted with `Router::nest("/auth/v1", router())`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/jwks.json", get(crate::jwks::jwks_handler))
        .route(
            "/.well-known/openid-configuration",
            get(crate::jwks::openid_configuration_handler),
        )
}
