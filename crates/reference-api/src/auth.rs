//! Authentication, rate limiting and authorization of one request, in that order:
//!
//! 1. the bearer token is verified (strictly, by `xauth-verifier`);
//! 2. a valid token spends its *verified* subject's budget; anything else (no token, an invalid
//!    or expired token) spends the client IP's budget, so forged tokens naming a victim cannot
//!    throttle the victim;
//! 3. the route's [`Policy`] decides 403.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use xauth_verifier::{Claims, Outcome, Policy, Rejection};

use crate::error::ApiError;
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

    /// Runs the three steps for one request.
    pub async fn authorize(
        &self,
        client: ClientIp,
        headers: &HeaderMap,
        policy: &Policy,
    ) -> Result<Granted, ApiError> {
        let token = self.defects.bearer_token(headers);
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
