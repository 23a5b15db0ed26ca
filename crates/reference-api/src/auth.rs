//! Authentication, rate limiting and authorization of one request, in that order:
//!
//! 1. the bearer token is verified (strictly, by `xauth-verifier`);
//! 2. a valid token spends its *verified* subject's budget; anything else (no token, an invalid
//!    or expired token) spends the client IP's budget, so forged tokens naming a victim cannot
//!    throttle the victim;
//! 3. the route's [`Policy`] decides 403.
//!
//! With personal access tokens on ([`crate::pat`]), a bearer starting with the PAT prefix is
//! authenticated as a PAT instead (dispatch on the prefix only), charged to its *owner's* budget
//! (the same key as the owner's JWTs) and must carry the route's scope besides satisfying the
//! policy with the owner's current role.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use xauth_verifier::{Claims, Outcome, Policy, Rejection};

use crate::error::ApiError;
use crate::pat::{PatDefect, PatService, Scope, token};
use crate::ratelimit::{RateInfo, ip_key};
use crate::state::AppState;

/// The TCP peer address of the request (never `X-Forwarded-For`). When the router is served
/// without connection info, every client shares the unspecified address's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip())
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        ))
    }
}

/// A request that passed all three steps.
#[derive(Debug, Clone)]
pub struct Granted {
    /// The verified claims.
    pub claims: Claims,
    /// The subject's rate-limit state (`None` when rate limiting is off).
    pub rate: Option<RateInfo>,
}

/// The caller of a PAT management endpoint: a user with a session JWT.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user's id (`sub`).
    pub user_id: String,
    /// The user's role (`role` claim; the owner's current role under `pat-mints-pats`).
    pub role: String,
    /// The user's rate-limit state.
    pub rate: Option<RateInfo>,
}

impl AppState {
    fn rate_limited(&self, info: RateInfo) -> ApiError {
        self.stats
            .rate_limited
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ApiError::RateLimited {
            info,
            send_retry_after: self.defects.send_retry_after(),
        }
    }

    /// Runs the three steps for one request, JWTs only.
    pub async fn authorize(
        &self,
        client: ClientIp,
        headers: &HeaderMap,
        policy: &Policy,
    ) -> Result<Granted, ApiError> {
        self.authorize_jwt(client, self.defects.bearer_token(headers), policy)
            .await
    }

    /// Authorizes a request to a route guarded by `policy` that a PAT reaches with `scope`.
    /// Without PATs configured this is exactly [`AppState::authorize`]. `query` is the raw query
    /// string, consulted only by a seeded defect (a PAT in the URL is never a credential).
    pub async fn authorize_route(
        &self,
        client: ClientIp,
        headers: &HeaderMap,
        query: Option<&str>,
        policy: &Policy,
        scope: Scope,
    ) -> Result<Granted, ApiError> {
        let token = self.defects.bearer_token(headers);
        let Some(pats) = self.pats.as_deref() else {
            return self.authorize_jwt(client, token, policy).await;
        };
        let from_query = match token {
            Err(Rejection::MissingToken) => pats.query_token(query),
            _ => None,
        };
        let token = match &from_query {
            Some(t) => Ok(t.as_str()),
            None => token,
        };
        match token {
            Ok(t) if token::has_prefix(t) => {
                if let Some(jwt) = pats.confused_jwt(t) {
                    return self.authorize_jwt(client, Ok(jwt), policy).await;
                }
                let granted = self
                    .authorize_pat(client, pats, t, Some(scope), Some(policy))
                    .await?;
                self.stats
                    .granted
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Ok(granted)
            }
            other => self.authorize_jwt(client, other, policy).await,
        }
    }

    /// Authorizes a PAT management request: a user's session JWT (role `authenticated` or
    /// `service_role`). A valid PAT is answered 403: tokens cannot mint, list, rotate or revoke
    /// tokens (an invalid one is 401, like any invalid credential).
    pub async fn authorize_session(
        &self,
        client: ClientIp,
        headers: &HeaderMap,
    ) -> Result<Session, ApiError> {
        let token = self.defects.bearer_token(headers);
        if let (Some(pats), Ok(t)) = (self.pats.as_deref(), token.clone())
            && token::has_prefix(t)
            && pats.confused_jwt(t).is_none()
        {
            let granted = self.authorize_pat(client, pats, t, None, None).await?;
            if !pats.has(PatDefect::MintsPats) {
                tracing::debug!("PAT used on a management endpoint");
                return Err(self.defects.forbidden_error());
            }
            // SEEDED DEFECT pat-mints-pats: the PAT acts as its owner's session.
            return Ok(Session {
                user_id: granted.claims.sub,
                role: granted.claims.role.unwrap_or_default(),
                rate: granted.rate,
            });
        }
        let token = match (self.pats.as_deref(), token) {
            (Some(pats), Ok(t)) => Ok(pats.confused_jwt(t).unwrap_or(t)),
            (_, other) => other,
        };
        let granted = self
            .authorize_jwt(client, token, &self.content_policy)
            .await?;
        Ok(Session {
            user_id: granted.claims.sub,
            role: granted.claims.role.unwrap_or_default(),
            rate: granted.rate,
        })
    }

    async fn authorize_pat(
        &self,
        client: ClientIp,
        pats: &PatService,
        token: &str,
        scope: Option<Scope>,
        policy: Option<&Policy>,
    ) -> Result<Granted, ApiError> {
        let limiting = self.defects.rate_limiting();
        let principal = match pats.authenticate(token).await {
            Ok(p) => p,
            Err(rejection) => {
                self.stats
                    .rejected
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::debug!(reason = rejection.reason(), "PAT refused");
                if limiting && let Err(info) = self.limiters.ip.check(&ip_key(client.0)) {
                    return Err(self.rate_limited(info));
                }
                return Err(rejection.error());
            }
        };
        let rate = if limiting {
            match self.limiters.subject.check(&pats.rate_key(&principal)) {
                Ok(info) => Some(info),
                Err(info) => return Err(self.rate_limited(info)),
            }
        } else {
            None
        };
        let claims = pats
            .permits(&principal, scope, policy)
            .map_err(|_| self.defects.forbidden_error())?;
        Ok(Granted { claims, rate })
    }

    async fn authorize_jwt(
        &self,
        client: ClientIp,
        token: Result<&str, Rejection>,
        policy: &Policy,
    ) -> Result<Granted, ApiError> {
        let limiting = self.defects.rate_limiting();
        let mut charged_unverified = false;

        if let Ok(t) = token {
            if let Some(err) = self.defects.garbage_error(t) {
                return Err(err);
            }
            if limiting && let Some(sub) = self.defects.unverified_sub(t) {
                charged_unverified = true;
                if let Err(info) = self.limiters.subject.check(&sub) {
                    return Err(self.rate_limited(info));
                }
            }
        }

        let verified = match token {
            Ok(t) => self.verifier.verify(t).await,
            Err(rejection) => Err(rejection),
        };

        match verified {
            Err(rejection) => {
                self.stats
                    .rejected
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::debug!(reason = rejection.reason(), "token refused");
                if limiting
                    && !charged_unverified
                    && let Err(info) = self.limiters.ip.check(&ip_key(client.0))
                {
                    return Err(self.rate_limited(info));
                }
                Err(match rejection.outcome() {
                    Outcome::TokenExpired => self.defects.expired_error(),
                    Outcome::Unauthenticated => ApiError::Unauthenticated {
                        token_presented: !matches!(rejection, Rejection::MissingToken),
                    },
                })
            }
            Ok(claims) => {
                let rate = if limiting && !charged_unverified {
                    match self.limiters.subject.check(&claims.sub) {
                        Ok(info) => Some(info),
                        Err(info) => return Err(self.rate_limited(info)),
                    }
                } else {
                    None
                };
                if let Err(forbidden) = policy.check(&claims) {
                    tracing::debug!(requirement = %forbidden.requirement, "forbidden");
                    return Err(self.defects.forbidden_error());
                }
                self.stats
                    .granted
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Ok(Granted { claims, rate })
            }
        }
    }
}
