//! The run context: everything a scenario needs to know about the run, set once by the runner
//! before cucumber starts and read by the World and the steps.
//!
//! ```
//! use std::sync::Arc;
//! use xauth_conformance::context::{self, IssuerEndpoint, RunContext, Timeouts};
//! use xauth_conformance::profile::Profile;
//!
//! let ctx = RunContext {
//!     target: "http://127.0.0.1:8080".parse().unwrap(),
//!     replicas: Vec::new(),
//!     canary: None,
//!     profile: Profile::default(),
//!     issuer: IssuerEndpoint {
//!         base_url: "http://127.0.0.1:54321".parse().unwrap(),
//!         control_key: "service-role-key".into(),
//!         anon_key: "anon-key".into(),
//!         service_role_key: "service-role-key".into(),
//!         jwt_secret: None,
//!     },
//!     timeouts: Timeouts::default(),
//!     loopback_sources: true,
//!     deadlines: Default::default(),
//! };
//! assert!(context::install(ctx).is_ok());
//! let ctx: Arc<RunContext> = context::context();
//! assert_eq!(ctx.issuer.auth_url().as_str(), "http://127.0.0.1:54321/auth/v1");
//! assert_eq!(ctx.target_url("/api/content").as_str(), "http://127.0.0.1:8080/api/content");
//! ```

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::profile::Profile;

/// Everything a scenario needs to know about the run.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// The implementation's base URL (routes from the profile are joined to it).
    pub target: url::Url,
    /// Other base URLs of the same implementation (`--replica`, `--spawn-replicas`): the
    /// scenarios that change shared state on the target check them too.
    pub replicas: Vec<url::Url>,
    /// The canary upstream (`MCP_UPSTREAM_URL`), when the profile has an MCP endpoint.
    pub canary: Option<Arc<crate::net::canary::Canary>>,
    /// What the implementation declares about itself.
    pub profile: Profile,
    /// The fake issuer the implementation trusts.
    pub issuer: IssuerEndpoint,
    /// Bounds on requests and scenarios.
    pub timeouts: Timeouts,
    /// True when the target is on a loopback address: scenarios may then bind distinct
    /// `127.0.0.x` source addresses (e.g. to get fresh per-IP rate-limit buckets).
    pub loopback_sources: bool,
    /// Per-scenario deadline extensions (the waits steps derive from the profile).
    pub deadlines: crate::deadline::Deadlines,
}

impl RunContext {
    /// The run's secrets, never shown in a report: the issuer's API keys, control key and
    /// legacy HS256 secret.
    pub fn secrets(&self) -> crate::net::evidence::Secrets {
        let mut secrets = crate::net::evidence::Secrets::default();
        secrets.add(&self.issuer.service_role_key, "XAUTH_SERVICE_ROLE_KEY");
        secrets.add(&self.issuer.control_key, "XAUTH_CONTROL_KEY");
        secrets.add(&self.issuer.anon_key, "XAUTH_ANON_KEY");
        if let Some(s) = &self.issuer.jwt_secret {
            secrets.add(s, "XAUTH_JWT_SECRET");
        }
        secrets
    }

    /// `path` (e.g. a profile route) joined to the target base URL, keeping any base path.
    pub fn target_url(&self, path: &str) -> url::Url {
        crate::net::urls::join(&self.target, path)
    }

    /// The target and its replicas, the target first.
    pub fn instances(&self) -> impl Iterator<Item = &url::Url> {
        std::iter::once(&self.target).chain(&self.replicas)
    }
}

/// How to reach the fake issuer.
#[derive(Clone)]
pub struct IssuerEndpoint {
    /// The Supabase URL, e.g. `http://127.0.0.1:54321`; auth is served at `/auth/v1`, the
    /// control API at `/_control/v1`.
    pub base_url: url::Url,
    /// Key for the control API (`apikey:` header); the service_role key.
    pub control_key: String,
    /// The anon API key.
    pub anon_key: String,
    /// The service_role API key.
    pub service_role_key: String,
    /// The legacy HS256 secret, when the issuer has one.
    pub jwt_secret: Option<String>,
}

impl std::fmt::Debug for IssuerEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerEndpoint")
            .field("base_url", &self.base_url.as_str())
            .field("control_key", &"<redacted>")
            .field("anon_key", &"<redacted>")
            .field("service_role_key", &"<redacted>")
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl IssuerEndpoint {
    /// `<base>/auth/v1` (the GoTrue API and the tokens' `iss`).
    pub fn auth_url(&self) -> url::Url {
        crate::net::urls::join(&self.base_url, "/auth/v1")
    }
    /// `<base>/_control/v1`.
    pub fn control_url(&self) -> url::Url {
        crate::net::urls::join(&self.base_url, "/_control/v1")
    }
    /// `<base>/auth/v1/.well-known/jwks.json`.
    pub fn jwks_url(&self) -> url::Url {
        crate::net::urls::join(&self.base_url, "/auth/v1/.well-known/jwks.json")
    }
}

/// Bounds on requests and scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Bound on one HTTP request (connect to last body byte). Default 10 s.
    pub request: Duration,
    /// Bound on one scenario (all its steps). Default 60 s.
    pub scenario: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            request: Duration::from_secs(10),
            scenario: Duration::from_secs(60),
        }
    }
}

static CONTEXT: OnceLock<Arc<RunContext>> = OnceLock::new();

/// The context was already installed in this process.
#[derive(Debug, thiserror::Error)]
#[error("the run context is already installed")]
pub struct AlreadyInstalled;

/// Installs the process-global run context (once, before cucumber runs).
pub fn install(ctx: RunContext) -> Result<Arc<RunContext>, AlreadyInstalled> {
    let ctx = Arc::new(ctx);
    CONTEXT.set(ctx.clone()).map_err(|_| AlreadyInstalled)?;
    Ok(ctx)
}

/// The installed run context, if any.
pub fn try_context() -> Option<Arc<RunContext>> {
    CONTEXT.get().cloned()
}

/// The installed run context.
///
/// # Panics
/// When called before [`install`] (a bug in the runner, not an input error).
pub fn context() -> Arc<RunContext> {
    match CONTEXT.get() {
        Some(c) => c.clone(),
        None => panic!("xauth_conformance::context::context() called before install()"),
    }
}
