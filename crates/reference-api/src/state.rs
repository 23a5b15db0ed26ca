//! Shared server state.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use xauth_verifier::{Policy, Verifier};

use crate::config::{Config, ConfigError};
use crate::defects::Defects;
use crate::mcp::McpState;
use crate::pat::PatService;
use crate::proxy::TokenProxy;
use crate::ratelimit::Limiters;

/// Request counters, reported by `GET /api/admin/stats`.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests that passed authentication, rate limiting and the policy.
    pub granted: AtomicU64,
    /// Requests without a valid token.
    pub rejected: AtomicU64,
    /// Requests answered 429.
    pub rate_limited: AtomicU64,
    /// Requests forwarded to the auth server.
    pub proxied: AtomicU64,
}

/// Everything the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The contents of [`AppState`].
pub struct Inner {
    /// The token verifier.
    pub verifier: Verifier,
    /// Rate limiters.
    pub limiters: Limiters,
    /// Seeded defects.
    pub defects: Defects,
    /// The token proxy.
    pub proxy: TokenProxy,
    /// Counters.
    pub stats: Stats,
    /// `GET /api/content`: role `authenticated` or `service_role`.
    pub content_policy: Policy,
    /// `GET /api/admin/stats`: role `service_role`.
    pub admin_policy: Policy,
    /// Start time.
    pub started: Instant,
    /// Personal access tokens, when configured.
    pub pats: Option<Arc<PatService>>,
    /// The MCP endpoint, when configured (`--mcp`).
    pub mcp: Option<Arc<McpState>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Builds the state for `config`, without personal access tokens.
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        Self::with_pats(config, None)
    }

    /// Builds the state for `config` with personal access tokens served by `pats` (see
    /// [`PatService::open`]); `None` is [`AppState::new`].
    pub fn with_pats(config: &Config, pats: Option<Arc<PatService>>) -> Result<Self, ConfigError> {
        let verifier = Verifier::new(config.verifier_config()?)
            .map_err(|e| ConfigError::Verifier(e.to_string()))?;
        let proxy = TokenProxy::new(
            config.token_url(),
            config
                .defects
                .upstream_timeout(config.limits.upstream_timeout),
            config.limits.max_body_bytes,
            config.limits.max_upstream_body_bytes,
        )
        .map_err(|e| ConfigError::Verifier(format!("HTTP client: {e}")))?;
        let mcp = match &config.mcp {
            Some(m) => Some(Arc::new(McpState::new(config, m, &verifier)?)),
            None => None,
        };
        Ok(AppState(Arc::new(Inner {
            verifier,
            limiters: Limiters::new(
                config.subject_rate,
                config.ip_rate,
                config.rate_clock.clone(),
            ),
            defects: config.defects.clone(),
            proxy,
            stats: Stats::default(),
            content_policy: Policy::require_role(["authenticated", "service_role"]),
            admin_policy: Policy::require_role(["service_role"]),
            started: Instant::now(),
            pats,
            mcp,
        })))
    }
}
