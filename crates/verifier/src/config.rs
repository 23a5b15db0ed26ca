//! Verifier configuration.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
#[cfg(feature = "seeded-defects")]
use crate::defect::{Defect, DefectSet};

/// The largest leeway [`crate::Verifier::new`] accepts; larger values are capped to it.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);
/// The shortest legacy HS256 secret accepted (256 bits, RFC 7518 §3.2).
pub const MIN_SECRET_BYTES: usize = 32;
/// Default cap on the token length.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;

/// A configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The Supabase URL is not an absolute http(s) URL.
    #[error("invalid Supabase URL: {0}")]
    SupabaseUrl(String),
    /// The legacy HS256 secret is shorter than 32 bytes.
    #[error("legacy HS256 secret must be at least {MIN_SECRET_BYTES} bytes")]
    WeakSecret,
    /// The audience is empty.
    #[error("audience must not be empty")]
    EmptyAudience,
    /// A JWKS cache bound is inconsistent (e.g. `min_ttl > max_ttl`, zero sizes).
    #[error("invalid JWKS cache policy: {0}")]
    JwksPolicy(&'static str),
    /// The token size cap is zero.
    #[error("max_token_bytes must be positive")]
    MaxTokenBytes,
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    HttpClient(String),
}

/// How the JWKS is cached and refetched.
///
/// ```
/// use std::time::Duration;
/// use xauth_verifier::JwksPolicy;
/// let p = JwksPolicy { cooldown: Duration::from_secs(5), ..JwksPolicy::default() };
/// assert_eq!(p.max_ttl, Duration::from_secs(600));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksPolicy {
    /// Lower bound on the TTL taken from `Cache-Control: max-age` (default 30 s).
    pub min_ttl: Duration,
    /// Upper bound on the TTL (default 600 s).
    pub max_ttl: Duration,
    /// TTL when the response has no `max-age` (default 300 s).
    pub default_ttl: Duration,
    /// Minimum time between fetches triggered by an unknown kid or after a failure (default 30 s).
    pub cooldown: Duration,
    /// Whole-request timeout of one fetch (default 5 s).
    pub fetch_timeout: Duration,
    /// Largest JWKS body accepted (default 64 KiB).
    pub max_bytes: usize,
    /// How long past its TTL a cached key set keeps serving while fetches fail (default 1 h).
    pub max_stale: Duration,
    /// Most usable keys kept from one JWKS (default 32).
    pub max_keys: usize,
}

impl Default for JwksPolicy {
    fn default() -> Self {
        JwksPolicy {
            min_ttl: Duration::from_secs(30),
            max_ttl: Duration::from_secs(600),
            default_ttl: Duration::from_secs(300),
            cooldown: Duration::from_secs(30),
            fetch_timeout: Duration::from_secs(5),
            max_bytes: 64 * 1024,
            max_stale: Duration::from_secs(3600),
            max_keys: 32,
        }
    }
}

impl JwksPolicy {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.min_ttl > self.max_ttl {
            return Err(ConfigError::JwksPolicy("min_ttl > max_ttl"));
        }
        if self.fetch_timeout.is_zero() {
            return Err(ConfigError::JwksPolicy("fetch_timeout is zero"));
        }
        if self.max_bytes == 0 || self.max_keys == 0 {
            return Err(ConfigError::JwksPolicy(
                "max_bytes and max_keys must be positive",
            ));
        }
        Ok(())
    }
}

/// Everything a [`crate::Verifier`] needs. Start from [`VerifierConfig::supabase`].
///
/// ```
/// use std::time::Duration;
/// use xauth_verifier::VerifierConfig;
/// let cfg = VerifierConfig::supabase("http://127.0.0.1:54321")?
///     .legacy_secret("super-secret-jwt-token-with-at-least-32-characters-long")
///     .leeway(Duration::from_secs(5));
/// assert_eq!(cfg.issuer(), "http://127.0.0.1:54321/auth/v1");
/// assert_eq!(cfg.jwks_url(), "http://127.0.0.1:54321/auth/v1/.well-known/jwks.json");
/// # Ok::<(), xauth_verifier::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct VerifierConfig {
    pub(crate) issuer: String,
    pub(crate) audience: String,
    pub(crate) jwks_url: String,
    pub(crate) legacy_secret: Option<Vec<u8>>,
    pub(crate) leeway: Duration,
    pub(crate) jwks: JwksPolicy,
    pub(crate) max_token_bytes: usize,
    pub(crate) clock: Arc<dyn Clock>,
    #[cfg(feature = "seeded-defects")]
    pub(crate) defects: DefectSet,
}

impl std::fmt::Debug for VerifierConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifierConfig")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("jwks_url", &self.jwks_url)
            .field(
                "legacy_secret",
                &self.legacy_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("leeway", &self.leeway)
            .field("jwks", &self.jwks)
            .field("max_token_bytes", &self.max_token_bytes)
            .finish_non_exhaustive()
    }
}

impl VerifierConfig {
    /// issuer = `<supabase_url>/auth/v1`, audience `authenticated`,
    /// jwks_url = `<issuer>/.well-known/jwks.json`, ES256 + RS256 allowed, HS256 off, leeway 0.
    /// A trailing `/` on `supabase_url` is dropped.
    pub fn supabase(supabase_url: &str) -> Result<Self, ConfigError> {
        let base = supabase_url.trim_end_matches('/');
        let parsed = url::Url::parse(base).map_err(|e| ConfigError::SupabaseUrl(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(ConfigError::SupabaseUrl(
                "expected an absolute http(s) URL".to_owned(),
            ));
        }
        let issuer = format!("{base}/auth/v1");
        Ok(VerifierConfig {
            jwks_url: format!("{issuer}/.well-known/jwks.json"),
            issuer,
            audience: "authenticated".to_owned(),
            legacy_secret: None,
            leeway: Duration::ZERO,
            jwks: JwksPolicy::default(),
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            clock: Arc::new(SystemClock),
            #[cfg(feature = "seeded-defects")]
            defects: DefectSet::default(),
        })
    }

    /// Enables HS256 with this legacy secret (at least 32 bytes, else [`ConfigError::WeakSecret`]
    /// at [`crate::Verifier::new`]).
    pub fn legacy_secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.legacy_secret = Some(secret.into());
        self
    }

    /// Clock-skew allowance for `exp`, `nbf` and `iat`; capped at [`MAX_LEEWAY`].
    pub fn leeway(mut self, d: Duration) -> Self {
        self.leeway = d;
        self
    }

    /// The required audience (default `authenticated`).
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audience = aud.into();
        self
    }

    /// The required issuer (`<supabase_url>/auth/v1`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The JWKS URL.
    pub fn jwks_url(&self) -> &str {
        &self.jwks_url
    }

    /// The JWKS cache policy.
    pub fn jwks_cache(mut self, policy: JwksPolicy) -> Self {
        self.jwks = policy;
        self
    }

    /// Longest token accepted, in bytes (default 8 KiB).
    pub fn max_token_bytes(mut self, n: usize) -> Self {
        self.max_token_bytes = n;
        self
    }

    /// The time source (default [`SystemClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Switches on one seeded defect (test builds only).
    #[cfg(feature = "seeded-defects")]
    pub fn defect(mut self, d: Defect) -> Self {
        self.defects.insert(d);
        self
    }
}
