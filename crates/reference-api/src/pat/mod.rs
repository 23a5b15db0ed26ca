//! Personal access tokens (PATs): long-lived, scoped, revocable bearer credentials a user mints
//! with their session JWT, for scripts and integrations.
//!
//! - **Format** ([`token`]): `xpat_` + 40 base62 secret characters (≈ 238 bits) + a 6-character
//!   base62 CRC32; prefix, shape and checksum are checked offline before any lookup. Requests are
//!   dispatched on the prefix only: a `xpat_` bearer is a PAT, anything else goes to the JWT
//!   verifier (the anon and service_role keys included, which therefore stay 401 as before).
//! - **Storage** ([`store`]): SHA-256 of the token (HMAC-SHA-256 with the server-side pepper when
//!   configured), compared in constant time; the secret is never stored or logged. sqlx with an
//!   embedded SQLite file by default, PostgreSQL when `DATABASE_URL` says so.
//! - **Consistency between replicas**: no in-process cache of token validity; every use reads the
//!   row, so a revocation by any process sharing the database applies to the next request.
//!   `last_used_at` is written at most once per `last_used_interval` per token.
//! - **Owner** ([`owner`]): checked at every use at the auth server's admin API, cached for the
//!   declared `owner_cache`; the PAT acts with the owner's *current* role and only within its
//!   scopes, so it never outranks its owner and dies with them.
//! - **Answers**: malformed, bad checksum, unknown, revoked, owner gone → 401 `UNAUTHENTICATED`;
//!   expired → 401 `PAT_EXPIRED` ([`ApiError::PatExpired`]); out of scope or beyond the owner's
//!   role → 403 `FORBIDDEN`; the rate limit is the owner's, shared with their JWT requests.
//! - **Management** (`/api/account/tokens`, [`handlers`]): a user's session JWT only; a PAT gets
//!   403.

pub mod config;
pub mod defect;
pub mod handlers;
pub mod owner;
pub mod store;
pub mod token;

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use xauth_verifier::{Claims, Policy};

pub use config::{DEFAULT_DATABASE_URL, PatArgs, PatConfig, PatConfigError};
pub use defect::{PatDefect, PatDefects};

use crate::error::ApiError;
use owner::{Owner, OwnerCheck};
use store::{Store, StoreError, TokenRow};
use token::Malformed;

/// A permission a PAT may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// `content:read`: `GET /api/content`.
    ContentRead,
    /// `admin:read`: `GET /api/admin/stats`.
    AdminRead,
    /// `mcp:tools`: the MCP endpoint's tools (`POST /mcp`, with `--mcp`).
    McpTools,
}

impl Scope {
    /// Every scope.
    pub const ALL: &'static [Scope] = &[Scope::ContentRead, Scope::AdminRead, Scope::McpTools];

    /// The scope's name.
    pub fn name(self) -> &'static str {
        match self {
            Scope::ContentRead => "content:read",
            Scope::AdminRead => "admin:read",
            Scope::McpTools => "mcp:tools",
        }
    }

    /// The owner roles that may hold (and use) this scope: the same as the route's policy.
    pub fn roles(self) -> &'static [&'static str] {
        match self {
            Scope::ContentRead | Scope::McpTools => &["authenticated", "service_role"],
            Scope::AdminRead => &["service_role"],
        }
    }

    /// Parses a scope name.
    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.iter().copied().find(|s| s.name() == name)
    }
}

/// Space-separated scope names, in canonical order.
pub fn scopes_text(scopes: &[Scope]) -> String {
    let mut v = scopes.to_vec();
    v.sort();
    v.dedup();
    v.iter().map(|s| s.name()).collect::<Vec<_>>().join(" ")
}

/// The scopes of a stored row (unknown names are dropped: they grant nothing).
pub fn parse_scopes(text: &str) -> Vec<Scope> {
    text.split(' ').filter_map(Scope::parse).collect()
}

/// Why a PAT was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatRejection {
    /// Bad prefix, shape or checksum (no lookup was made).
    Malformed(Malformed),
    /// No such token.
    Unknown,
    /// Revoked (directly, by rotation, or with its family).
    Revoked,
    /// Past `expires_at`.
    Expired,
    /// The owner was deleted or banned.
    OwnerGone,
    /// The auth server could not say whether the owner still exists.
    OwnerUnavailable,
    /// The database failed.
    Store,
}

impl PatRejection {
    /// A stable reason for the debug log.
    pub fn reason(self) -> &'static str {
        match self {
            PatRejection::Malformed(Malformed::Prefix) => "pat-bad-prefix",
            PatRejection::Malformed(Malformed::Shape) => "pat-bad-shape",
            PatRejection::Malformed(Malformed::Checksum) => "pat-bad-checksum",
            PatRejection::Unknown => "pat-unknown",
            PatRejection::Revoked => "pat-revoked",
            PatRejection::Expired => "pat-expired",
            PatRejection::OwnerGone => "pat-owner-gone",
            PatRejection::OwnerUnavailable => "pat-owner-unavailable",
            PatRejection::Store => "pat-store-failed",
        }
    }

    /// The answer. Every "not a valid token" case is the same byte-identical 401.
    pub fn error(self) -> ApiError {
        match self {
            PatRejection::Expired => ApiError::PatExpired,
            PatRejection::OwnerUnavailable => ApiError::UpstreamUnavailable,
            PatRejection::Store => ApiError::ServiceUnavailable,
            PatRejection::Malformed(_)
            | PatRejection::Unknown
            | PatRejection::Revoked
            | PatRejection::OwnerGone => ApiError::Unauthenticated {
                token_presented: true,
            },
        }
    }
}

/// An authenticated PAT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatPrincipal {
    /// The token's id.
    pub token_id: String,
    /// The owner's user id.
    pub owner_id: String,
    /// The owner's role at the time of use.
    pub owner_role: String,
    /// The token's scopes.
    pub scopes: Vec<Scope>,
    /// Unix seconds.
    pub expires_at: i64,
}

impl PatPrincipal {
    /// Claims standing for this principal, for the route policies and handlers: `sub` is the
    /// owner, `role` the owner's current role, `pat_id` the token (never the secret).
    pub fn claims(&self, role: &str) -> Claims {
        let mut raw = serde_json::Map::new();
        raw.insert("sub".into(), self.owner_id.clone().into());
        raw.insert("role".into(), role.into());
        raw.insert("pat_id".into(), self.token_id.clone().into());
        Claims {
            sub: self.owner_id.clone(),
            iss: String::new(),
            aud: Vec::new(),
            exp: self.expires_at as f64,
            iat: None,
            nbf: None,
            role: Some(role.to_owned()),
            session_id: None,
            is_anonymous: None,
            raw,
        }
    }
}

/// Why the PAT service could not start.
#[derive(Debug, thiserror::Error)]
pub enum PatStartError {
    /// Database connection or migration.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The admin API client.
    #[error("admin API client: {0}")]
    Client(String),
}

const DEFECT_CACHE_SECONDS: i64 = 300;

/// The PAT feature of one process: store, owner check, configuration.
pub struct PatService {
    config: PatConfig,
    store: Store,
    owners: OwnerCheck,
    /// Only under `pat-revocation-cached`: digest → (validated at, row).
    validated: Mutex<HashMap<String, (i64, TokenRow)>>,
    /// Only under `pat-list-leaks-secret`: id → token.
    leaked: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for PatService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl PatService {
    /// Connects to the database, migrates it, and prepares the owner check against the auth
    /// server at `supabase_url`.
    pub async fn open(supabase_url: &str, config: PatConfig) -> Result<Arc<Self>, PatStartError> {
        let store = Store::open(&config.database_url, config.max_connections).await?;
        let owners = OwnerCheck::new(
            supabase_url.trim_end_matches('/'),
            &config.service_role_key,
            config.owner_cache,
            config.owner_timeout,
            config.clock.clone(),
        )
        .map_err(|e| PatStartError::Client(e.to_string()))?;
        tracing::info!(database = %config::redact_url(&config.database_url), "personal access tokens enabled");
        Ok(Arc::new(PatService {
            config,
            store,
            owners,
            validated: Mutex::new(HashMap::new()),
            leaked: Mutex::new(HashMap::new()),
        }))
    }

    /// The configuration.
    pub fn config(&self) -> &PatConfig {
        &self.config
    }

    /// The seeded defects.
    pub fn defects(&self) -> &PatDefects {
        &self.config.defects
    }

    /// Statements sent to the database so far.
    pub fn queries(&self) -> u64 {
        self.store.queries()
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn now(&self) -> i64 {
        self.config.clock.now_unix()
    }

    pub(crate) fn has(&self, d: PatDefect) -> bool {
        self.config.defects.has(d)
    }

    /// Authenticates a `xpat_…` bearer: format and checksum offline, then the row, revocation,
    /// expiry and the owner. Records the use (bounded).
    pub async fn authenticate(&self, token: &str) -> Result<PatPrincipal, PatRejection> {
        // SEEDED DEFECT pat-no-checksum (when on): the checksum is not verified.
        token::check_format(token, !self.has(PatDefect::NoChecksum))
            .map_err(PatRejection::Malformed)?;
        let digest = self.digest(token);
        let now = self.now();
        let row = match self.cached(&digest, now) {
            Some(row) => row,
            None => {
                let row = self
                    .store
                    .find_by_digest(&digest)
                    .await
                    .map_err(|e| {
                        tracing::error!(error = %e, "PAT lookup failed");
                        PatRejection::Store
                    })?
                    .ok_or(PatRejection::Unknown)?;
                if self.has(PatDefect::RevocationCached) && row.revoked_at.is_none() {
                    // SEEDED DEFECT pat-revocation-cached: validity outlives a revocation.
                    self.validated
                        .lock()
                        .insert(digest.clone(), (now, row.clone()));
                }
                row
            }
        };
        if !token::digests_equal(&row.token_digest, &digest) {
            return Err(PatRejection::Unknown);
        }
        if row.revoked_at.is_some() {
            return Err(PatRejection::Revoked);
        }
        // SEEDED DEFECT pat-ignore-expiry (when on)
        if now >= row.expires_at && !self.has(PatDefect::IgnoreExpiry) {
            return Err(PatRejection::Expired);
        }
        let owner_role = if self.has(PatDefect::OwnerDeletionIgnored) {
            // SEEDED DEFECT pat-owner-deletion-ignored: the owner is never looked up.
            "authenticated".to_owned()
        } else {
            match self.owners.check(&row.owner_id).await {
                Ok(Owner::Active { role }) => role,
                Ok(Owner::Gone) => return Err(PatRejection::OwnerGone),
                Err(_) => return Err(PatRejection::OwnerUnavailable),
            }
        };
        let interval = i64::try_from(self.config.last_used_interval.as_secs()).unwrap_or(60);
        if row.last_used_at.is_none_or(|t| t <= now - interval)
            && let Err(e) = self.store.touch(&row.id, now, now - interval).await
        {
            tracing::warn!(error = %e, "could not record PAT use");
        }
        Ok(PatPrincipal {
            token_id: row.id,
            owner_id: row.owner_id,
            owner_role,
            scopes: parse_scopes(&row.scopes),
            expires_at: row.expires_at,
        })
    }

    /// The at-rest digest of a token (see [`token::digest`]).
    pub(crate) fn digest(&self, token: &str) -> String {
        let input = if self.has(PatDefect::NoChecksum) {
            // SEEDED DEFECT pat-no-checksum: the checksum is decoration, hashed away with the
            // prefix kept apart ("we store the secret's hash"): a live token with a mistyped
            // checksum still matches its row.
            token
                .get(..token.len().saturating_sub(token::CHECKSUM_LEN))
                .unwrap_or(token)
        } else {
            token
        };
        token::digest(input, self.config.pepper.as_deref())
    }

    fn cached(&self, digest: &str, now: i64) -> Option<TokenRow> {
        if !self.has(PatDefect::RevocationCached) {
            return None;
        }
        let cache = self.validated.lock();
        let (at, row) = cache.get(digest)?;
        (now >= *at && now < at + DEFECT_CACHE_SECONDS).then(|| row.clone())
    }

    /// May `principal` use a route that needs `scope` under `policy`? The PAT must carry the
    /// scope, and the owner's current role must satisfy the route's policy.
    pub fn permits(
        &self,
        principal: &PatPrincipal,
        scope: Option<Scope>,
        policy: Option<&Policy>,
    ) -> Result<Claims, ApiError> {
        if let Some(scope) = scope
            && !principal.scopes.contains(&scope)
            // SEEDED DEFECT pat-scope-not-enforced (when on)
            && !self.has(PatDefect::ScopeNotEnforced)
        {
            tracing::debug!(scope = scope.name(), "PAT lacks the scope");
            return Err(ApiError::Forbidden);
        }
        let role = if self.has(PatDefect::OutranksOwner) {
            // SEEDED DEFECT pat-outranks-owner: the scopes, not the owner, decide the role.
            if principal.scopes.contains(&Scope::AdminRead) {
                "service_role"
            } else {
                "authenticated"
            }
        } else {
            principal.owner_role.as_str()
        };
        let claims = principal.claims(role);
        if let Some(policy) = policy
            && let Err(forbidden) = policy.check(&claims)
        {
            tracing::debug!(requirement = %forbidden.requirement, "PAT owner not allowed");
            return Err(ApiError::Forbidden);
        }
        Ok(claims)
    }

    /// Under `pat-jwt-confusion` only: the JWT inside a `xpat_eyJ….….…` bearer.
    pub fn confused_jwt<'t>(&self, token: &'t str) -> Option<&'t str> {
        if !self.has(PatDefect::JwtConfusion) {
            return None;
        }
        // SEEDED DEFECT pat-jwt-confusion: dispatch on shape; the prefix is stripped.
        let rest = token.strip_prefix(token::PREFIX)?;
        (rest.starts_with("eyJ") && rest.matches('.').count() == 2).then_some(rest)
    }

    /// Under `pat-query-string` only: a PAT from `?access_token=`.
    pub fn query_token(&self, query: Option<&str>) -> Option<String> {
        if !self.has(PatDefect::QueryString) {
            return None;
        }
        // SEEDED DEFECT pat-query-string: a credential in the URL (logged by every proxy).
        url::form_urlencoded::parse(query?.as_bytes())
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.into_owned())
            .filter(|v| token::has_prefix(v))
    }

    /// The rate-limit key of a PAT request: the owner, shared with their JWT requests.
    pub fn rate_key(&self, principal: &PatPrincipal) -> String {
        if self.has(PatDefect::PerTokenRateLimit) {
            // SEEDED DEFECT pat-per-token-rate-limit: every new token is a new budget.
            return format!("pat:{}", principal.token_id);
        }
        principal.owner_id.clone()
    }

    pub(crate) fn remember_secret(&self, id: &str, token: &str) {
        if self.has(PatDefect::ListLeaksSecret) {
            // SEEDED DEFECT pat-list-leaks-secret: the secret is kept to be shown again.
            self.leaked.lock().insert(id.to_owned(), token.to_owned());
        }
    }

    pub(crate) fn leaked_secret(&self, id: &str) -> Option<String> {
        self.leaked.lock().get(id).cloned()
    }
}
