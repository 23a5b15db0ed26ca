//! axum integration: a tower [`AuthLayer`] that verifies the bearer token of every request, and
//! the [`Authenticated`] extractor that hands handlers the verified [`Claims`] or answers 401.
//!
//! ```no_run
//! use axum::{Json, Router, routing::get};
//! use xauth_verifier::axum::{AuthLayer, Authenticated};
//! use xauth_verifier::{Claims, Forbidden, Policy, Verifier, VerifierConfig};
//!
//! async fn content(Authenticated(claims): Authenticated<Claims>) -> Result<Json<String>, Forbidden> {
//!     Policy::require_role(["authenticated", "service_role"]).check(&claims)?;
//!     Ok(Json(format!("hello {}", claims.sub)))
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let verifier = Verifier::new(VerifierConfig::supabase("http://127.0.0.1:54321")?)?;
//!     let _ = verifier.refresh_jwks().await; // warm-up; the cache also fetches on demand
//!     let app = Router::new()
//!         .route("/api/content", get(content))
//!         .route("/health", get(|| async { "ok" }))
//!         .layer(AuthLayer::new(verifier));
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//!     axum::serve(listener, app).await?;
//!     Ok(())
//! }
//! ```
//!
//! A request without a token gets `401` with `WWW-Authenticate: Bearer` and
//! `{"error":{"code":"UNAUTHENTICATED","message":…}}`; a presented but refused token adds
//! `error="invalid_token"`; an expired (otherwise valid) token gets code `TOKEN_EXPIRED`;
//! a failed [`Policy`](crate::Policy) check renders `403 FORBIDDEN`.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Request, StatusCode};

use crate::claims::Claims;
use crate::policy::Forbidden;
use crate::rejection::{Outcome, Rejection};
use crate::verifier::Verifier;

/// The one message of every `UNAUTHENTICATED` answer: identical bodies, no oracle (attack A51).
pub const UNAUTHENTICATED_MESSAGE: &str = "Missing or invalid bearer token";
/// The message of a `TOKEN_EXPIRED` answer.
pub const TOKEN_EXPIRED_MESSAGE: &str = "Token has expired";
/// The message of a `FORBIDDEN` answer.
pub const FORBIDDEN_MESSAGE: &str = "Insufficient permissions";

/// Extracts the token from the request headers: exactly one `Authorization` header whose value is
/// `Bearer` (any case), one space, and a non-empty token without further spaces.
///
/// ```
/// use http::HeaderMap;
/// use xauth_verifier::{Rejection, axum::bearer_token};
/// let mut h = HeaderMap::new();
/// assert_eq!(bearer_token(&h), Err(Rejection::MissingToken));
/// h.insert("authorization", "bEaReR abc.def.ghi".parse().unwrap());
/// assert_eq!(bearer_token(&h), Ok("abc.def.ghi"));
/// h.insert("authorization", "Bearer  abc".parse().unwrap());
/// assert_eq!(bearer_token(&h), Err(Rejection::BadAuthorizationHeader));
/// ```
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, Rejection> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(Rejection::MissingToken);
    };
    if values.next().is_some() {
        return Err(Rejection::BadAuthorizationHeader);
    }
    let value = value
        .to_str()
        .map_err(|_| Rejection::BadAuthorizationHeader)?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(Rejection::BadAuthorizationHeader)?;
    if !scheme.eq_ignore_ascii_case("bearer")
        || token.is_empty()
        || token.bytes().any(|b| b == b' ' || b == b'\t')
    {
        return Err(Rejection::BadAuthorizationHeader);
    }
    Ok(token)
}

/// The result of authenticating one request, stored in its extensions by [`AuthLayer`].
#[derive(Debug, Clone)]
pub struct AuthResult(pub Result<Claims, Rejection>);

impl AuthResult {
    /// Whether the request presented a token at all.
    pub fn token_presented(&self) -> bool {
        !matches!(self.0, Err(Rejection::MissingToken))
    }
}

/// A tower layer that verifies the bearer token of every request and stores an [`AuthResult`] in
/// the request extensions. It never answers by itself: routes that need authentication take the
/// [`Authenticated`] extractor; public routes ignore it.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    verifier: Verifier,
}

impl AuthLayer {
    /// A layer around `verifier`.
    pub fn new(verifier: Verifier) -> Self {
        AuthLayer { verifier }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            verifier: self.verifier.clone(),
            inner,
        }
    }
}

/// The service made by [`AuthLayer`].
#[derive(Debug, Clone)]
pub struct AuthService<S> {
    verifier: Verifier,
    inner: S,
}

impl<S, B> tower::Service<Request<B>> for AuthService<S>
where
    S: tower::Service<Request<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let verifier = self.verifier.clone();
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let result = authenticate(&verifier, req.headers()).await;
            req.extensions_mut().insert(AuthResult(result));
            inner.call(req).await
        })
    }
}

/// Authenticates a request's headers with `verifier` (what [`AuthLayer`] does per request).
pub async fn authenticate(verifier: &Verifier, headers: &HeaderMap) -> Result<Claims, Rejection> {
    let token = bearer_token(headers)?;
    let result = verifier.verify(token).await;
    if let Err(r) = &result {
        tracing::debug!(reason = r.reason(), "bearer token refused");
    }
    result
}

/// The verified claims of the request. Without a valid token the handler is not called and the
/// client gets an [`AuthRejection`] (401).
#[derive(Debug, Clone)]
pub struct Authenticated<T = Claims>(pub T);

impl<S: Send + Sync> FromRequestParts<S> for Authenticated<Claims> {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<AuthResult>() {
            Some(AuthResult(Ok(claims))) => Ok(Authenticated(claims.clone())),
            Some(AuthResult(Err(r))) => Err(AuthRejection(r.clone())),
            None => {
                tracing::error!("Authenticated extractor used on a route without AuthLayer");
                Err(AuthRejection(Rejection::KeysUnavailable))
            }
        }
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for Authenticated<Claims> {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(match parts.extensions.get::<AuthResult>() {
            Some(AuthResult(Ok(claims))) => Some(Authenticated(claims.clone())),
            _ => None,
        })
    }
}

/// A refused request: renders `401` with the JSON error envelope and `WWW-Authenticate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRejection(pub Rejection);

/// Builds the error envelope `{"error":{"code":…,"message":…}}` with `status`.
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    (status, axum::Json(body)).into_response()
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        let outcome = self.0.outcome();
        let message = match outcome {
            Outcome::Unauthenticated => UNAUTHENTICATED_MESSAGE,
            Outcome::TokenExpired => TOKEN_EXPIRED_MESSAGE,
        };
        let mut resp = error_response(StatusCode::UNAUTHORIZED, outcome.code(), message);
        let challenge = match self.0 {
            Rejection::MissingToken => HeaderValue::from_static("Bearer"),
            Rejection::Expired => HeaderValue::from_static(
                "Bearer error=\"invalid_token\", error_description=\"The access token expired\"",
            ),
            _ => HeaderValue::from_static("Bearer error=\"invalid_token\""),
        };
        resp.headers_mut().insert(WWW_AUTHENTICATE, challenge);
        resp
    }
}

impl IntoResponse for Forbidden {
    fn into_response(self) -> Response {
        let mut resp = error_response(StatusCode::FORBIDDEN, self.code(), FORBIDDEN_MESSAGE);
        resp.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"insufficient_scope\""),
        );
        resp
    }
}
