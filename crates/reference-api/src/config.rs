//! Configuration: the `xauth-reference` command line (flags and the environment contract) and
//! the validated [`Config`] the server runs with.

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::time::Duration;

use clap::Parser;

use crate::defects::{Defects, UnknownDefect};
use crate::ratelimit::{RateClock, RateSpec};

/// The command line (`xauth-reference --help`).
#[derive(Debug, Clone, Parser)]
#[command(
    name = "xauth-reference",
    version,
    about = "The reference Xentropy API: Supabase JWT auth on xauth-verifier, with seeded defects"
)]
pub struct Args {
    /// Port to listen on (127.0.0.1). 0 picks a free port.
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,
    /// Supabase base URL; auth at <URL>/auth/v1, JWKS at <URL>/auth/v1/.well-known/jwks.json.
    #[arg(long, env = "SUPABASE_URL")]
    pub supabase_url: Option<String>,
    /// Legacy HS256 secret (at least 32 bytes). Unset or empty: HS256 disabled.
    #[arg(long, env = "SUPABASE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Clock leeway for exp/nbf/iat, in seconds (0..=300).
    #[arg(long, default_value_t = 0)]
    pub leeway: u64,
    /// Upper bound of the JWKS cache TTL in seconds (1..=600); the issuer's max-age is used within [1, this].
    #[arg(long, default_value_t = 600)]
    pub jwks_ttl_max: u64,
    /// Minimum seconds between JWKS refetches triggered by unknown kids (0..=3600).
    #[arg(long, default_value_t = 30)]
    pub jwks_cooldown: u64,
    /// Requests per window per verified subject (1..=1000000).
    #[arg(long, default_value_t = 120)]
    pub rate_limit: u32,
    /// Rate-limit window in seconds (1..=86400), for both limits.
    #[arg(long, default_value_t = 60)]
    pub rate_window: u64,
    /// Requests per window per client IP for requests without a valid token (1..=1000000).
    #[arg(long, default_value_t = 600)]
    pub ip_rate_limit: u32,
    /// Seconds the token proxy waits for the auth server (1..=120).
    #[arg(long, default_value_t = 10)]
    pub upstream_timeout: u64,
    /// Switch on a seeded defect (repeatable). Test use only; see --list-defects.
    #[arg(long = "defect", value_name = "NAME")]
    pub defects: Vec<String>,
    /// Print every seeded defect (name, side, `rows=` the attack-catalogue rows whose scenarios
    /// must catch it, a one-line description) and exit.
    #[arg(long)]
    pub list_defects: bool,
    /// Personal access tokens (`--pats`; off by default).
    #[command(flatten)]
    pub pat: crate::pat::PatArgs,
    /// The MCP endpoint (`--mcp`; off by default).
    #[command(flatten)]
    pub mcp: crate::mcp::McpArgs,
}

/// A configuration that cannot work (the binary exits 2 with this message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `--supabase-url` / `SUPABASE_URL` missing.
    #[error("SUPABASE_URL (or --supabase-url) is required")]
    MissingSupabaseUrl,
    /// Not an absolute http(s) URL without query or fragment.
    #[error(
        "invalid SUPABASE_URL {0:?}: must be an absolute http(s) URL without query or fragment"
    )]
    SupabaseUrl(String),
    /// A number outside its sane range.
    #[error("--{name} must be in {min}..={max}, got {value}")]
    OutOfRange {
        /// The flag.
        name: &'static str,
        /// The given value.
        value: u64,
        /// Lowest allowed.
        min: u64,
        /// Highest allowed.
        max: u64,
    },
    /// The HS256 secret is too short.
    #[error("SUPABASE_JWT_SECRET must be at least 32 bytes (got {0})")]
    WeakSecret(usize),
    /// A `--defect` name that does not exist.
    #[error(transparent)]
    Defect(#[from] UnknownDefect),
    /// The verifier refused its configuration.
    #[error("verifier configuration: {0}")]
    Verifier(String),
    /// The MCP endpoint's configuration (`--mcp-*`, or an `mcp-*` defect without `--mcp`).
    #[error("{0}")]
    Mcp(String),
}

/// Resource bounds of the HTTP layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted request body (the token proxy; GoTrue itself allows 1 MiB).
    pub max_body_bytes: usize,
    /// Largest upstream response body the proxy relays.
    pub max_upstream_body_bytes: usize,
    /// Request line plus headers (hyper's read buffer; at least 8 KiB). Larger: 431.
    pub max_header_bytes: usize,
    /// Most header fields per request.
    pub max_headers: usize,
    /// Time allowed to receive the request head (slowloris bound).
    pub header_read_timeout: Duration,
    /// Time allowed for a whole request (408 `REQUEST_TIMEOUT` after it).
    pub request_timeout: Duration,
    /// Time the proxy waits for the auth server (504 after it).
    pub upstream_timeout: Duration,
    /// Most concurrent connections; further ones wait in the accept queue.
    pub max_connections: usize,
    /// Time given to open requests at shutdown.
    pub shutdown_grace: Duration,
}

impl Limits {
    /// The bound on one request as a whole: the request timeout, stretched when needed so that
    /// the proxy's own upstream timeout always fires first (a hanging auth server is a 504, not
    /// a 408 that blames the client).
    pub fn handler_timeout(&self) -> Duration {
        self.request_timeout
            .max(self.upstream_timeout + Duration::from_secs(5))
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 64 * 1024,
            max_upstream_body_bytes: 1024 * 1024,
            max_header_bytes: 16 * 1024,
            max_headers: 64,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            upstream_timeout: Duration::from_secs(10),
            max_connections: 4096,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Everything the server runs with. Build one with [`Config::new`] (defaults of the command
/// line) or [`Config::from_args`].
///
/// ```
/// let config = xauth_reference::Config::new("http://127.0.0.1:54321").unwrap();
/// assert_eq!(config.subject_rate.limit.get(), 120);
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to bind (127.0.0.1 by the contract).
    pub bind: IpAddr,
    /// Port (0: ephemeral).
    pub port: u16,
    /// Supabase base URL, without a trailing slash.
    pub supabase_url: String,
    /// Legacy HS256 secret; `None` disables HS256.
    pub jwt_secret: Option<String>,
    /// Clock leeway.
    pub leeway: Duration,
    /// Upper bound of the JWKS TTL (lower bound 1 s).
    pub jwks_ttl_max: Duration,
    /// JWKS refetch cooldown.
    pub jwks_cooldown: Duration,
    /// Per verified subject.
    pub subject_rate: RateSpec,
    /// Per client IP, for requests without a valid token.
    pub ip_rate: RateSpec,
    /// The rate limiters' clock ([`RateClock::Fake`] in tests).
    pub rate_clock: RateClock,
    /// HTTP-layer bounds.
    pub limits: Limits,
    /// Seeded defects (none by default).
    pub defects: Defects,
    /// The MCP endpoint; `None` (the default): off.
    pub mcp: Option<crate::mcp::McpConfig>,
}

const DEFAULT_MAX_KEYS: usize = 100_000;

fn range(name: &'static str, value: u64, min: u64, max: u64) -> Result<u64, ConfigError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::OutOfRange {
            name,
            value,
            min,
            max,
        })
    }
}

fn nonzero(name: &'static str, value: u32) -> Result<NonZeroU32, ConfigError> {
    range(name, u64::from(value), 1, 1_000_000)?;
    NonZeroU32::new(value).ok_or(ConfigError::OutOfRange {
        name,
        value: 0,
        min: 1,
        max: 1_000_000,
    })
}

fn check_url(url: &str) -> Result<String, ConfigError> {
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = url::Url::parse(trimmed)
        .map_err(|_| ConfigError::SupabaseUrl(url.chars().take(200).collect()))?;
    let ok = matches!(parsed.scheme(), "http" | "https")
        && parsed.host_str().is_some_and(|h| !h.is_empty())
        && parsed.query().is_none()
        && parsed.fragment().is_none()
        && parsed.username().is_empty()
        && parsed.password().is_none();
    if !ok {
        return Err(ConfigError::SupabaseUrl(url.chars().take(200).collect()));
    }
    Ok(trimmed.to_owned())
}

impl Config {
    /// The command-line defaults for `supabase_url` (validated).
    pub fn new(supabase_url: &str) -> Result<Self, ConfigError> {
        Ok(Config {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            supabase_url: check_url(supabase_url)?,
            jwt_secret: None,
            leeway: Duration::ZERO,
            jwks_ttl_max: Duration::from_secs(600),
            jwks_cooldown: Duration::from_secs(30),
            subject_rate: RateSpec {
                limit: nonzero("rate-limit", 120)?,
                window: Duration::from_secs(60),
                max_keys: DEFAULT_MAX_KEYS,
            },
            ip_rate: RateSpec {
                limit: nonzero("ip-rate-limit", 600)?,
                window: Duration::from_secs(60),
                max_keys: DEFAULT_MAX_KEYS,
            },
            rate_clock: RateClock::monotonic(),
            limits: Limits::default(),
            defects: Defects::none(),
            mcp: None,
        })
    }

    /// Validates the command line. `--list-defects` is handled by the binary before this.
    ///
    /// ```
    /// use clap::Parser;
    /// use xauth_reference::config::{Args, Config};
    /// let args = Args::try_parse_from(["xauth-reference", "--supabase-url", "http://127.0.0.1:1",
    ///     "--rate-limit", "0"]).unwrap();
    /// assert!(Config::from_args(&args).unwrap_err().to_string().contains("--rate-limit"));
    /// ```
    pub fn from_args(args: &Args) -> Result<Self, ConfigError> {
        let url = args
            .supabase_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .ok_or(ConfigError::MissingSupabaseUrl)?;
        let mut config = Config::new(url)?;
        config.port = args.port;
        config.jwt_secret = match args.jwt_secret.as_deref() {
            None | Some("") => None,
            Some(s) if s.len() < 32 => return Err(ConfigError::WeakSecret(s.len())),
            Some(s) => Some(s.to_owned()),
        };
        config.leeway = Duration::from_secs(range("leeway", args.leeway, 0, 300)?);
        config.jwks_ttl_max =
            Duration::from_secs(range("jwks-ttl-max", args.jwks_ttl_max, 1, 600)?);
        config.jwks_cooldown =
            Duration::from_secs(range("jwks-cooldown", args.jwks_cooldown, 0, 3600)?);
        let window = Duration::from_secs(range("rate-window", args.rate_window, 1, 86_400)?);
        config.subject_rate.limit = nonzero("rate-limit", args.rate_limit)?;
        config.subject_rate.window = window;
        config.ip_rate.limit = nonzero("ip-rate-limit", args.ip_rate_limit)?;
        config.ip_rate.window = window;
        config.limits.upstream_timeout =
            Duration::from_secs(range("upstream-timeout", args.upstream_timeout, 1, 120)?);
        config.defects = Defects::parse(&args.defects)?;
        config.mcp = args
            .mcp
            .config(&args.defects)
            .map_err(|e| ConfigError::Mcp(e.to_string()))?;
        Ok(config)
    }

    /// The issuer (`<supabase_url>/auth/v1`).
    pub fn issuer(&self) -> String {
        format!("{}/auth/v1", self.supabase_url)
    }

    /// The proxied token endpoint.
    pub fn token_url(&self) -> String {
        format!("{}/auth/v1/token", self.supabase_url)
    }

    /// The verifier configuration this service uses.
    pub fn verifier_config(&self) -> Result<xauth_verifier::VerifierConfig, ConfigError> {
        let mut vc = xauth_verifier::VerifierConfig::supabase(&self.supabase_url)
            .map_err(|e| ConfigError::Verifier(e.to_string()))?
            .leeway(self.leeway)
            .jwks_cache(xauth_verifier::JwksPolicy {
                min_ttl: Duration::from_secs(1),
                max_ttl: self.jwks_ttl_max,
                default_ttl: Duration::from_secs(300).min(self.jwks_ttl_max),
                cooldown: self.jwks_cooldown,
                ..xauth_verifier::JwksPolicy::default()
            });
        if let Some(secret) = &self.jwt_secret {
            vc = vc.legacy_secret(secret.as_bytes().to_vec());
        }
        for d in self.defects.verifier() {
            vc = vc.defect(*d);
        }
        Ok(vc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &[&str]) -> Result<Config, ConfigError> {
        let mut argv = vec![
            "xauth-reference",
            "--supabase-url",
            "http://127.0.0.1:54321/",
        ];
        argv.extend_from_slice(extra);
        Config::from_args(&Args::try_parse_from(argv).unwrap())
    }

    #[test]
    fn defaults_match_the_contract() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.supabase_url, "http://127.0.0.1:54321");
        assert_eq!(c.issuer(), "http://127.0.0.1:54321/auth/v1");
        assert_eq!(c.leeway, Duration::ZERO);
        assert_eq!(c.jwks_cooldown, Duration::from_secs(30));
        assert_eq!(
            (c.subject_rate.limit.get(), c.subject_rate.window.as_secs()),
            (120, 60)
        );
        assert_eq!(
            (c.ip_rate.limit.get(), c.ip_rate.window.as_secs()),
            (600, 60)
        );
        assert!(c.defects.is_empty());
        assert_eq!(c.limits.handler_timeout(), Duration::from_secs(30));
    }

    #[test]
    fn a_long_upstream_timeout_stretches_the_request_bound() {
        let c = parse(&["--upstream-timeout", "70"]).unwrap();
        assert_eq!(c.limits.upstream_timeout, Duration::from_secs(70));
        assert_eq!(c.limits.handler_timeout(), Duration::from_secs(75));
    }

    #[test]
    fn insane_numbers_are_refused() {
        for (flag, v) in [
            ("--leeway", "301"),
            ("--jwks-ttl-max", "0"),
            ("--jwks-ttl-max", "601"),
            ("--jwks-cooldown", "3601"),
            ("--rate-limit", "0"),
            ("--rate-window", "0"),
            ("--ip-rate-limit", "2000000"),
            ("--upstream-timeout", "0"),
        ] {
            let err = parse(&[flag, v]).unwrap_err();
            assert!(err.to_string().contains(&flag[2..]), "{flag}: {err}");
        }
    }

    #[test]
    fn bad_urls_and_secrets_are_refused() {
        for url in ["", "ftp://x", "not a url", "http://h/?q=1", "http://u:p@h"] {
            let r = Config::from_args(&Args::try_parse_from(["x", "--supabase-url", url]).unwrap());
            assert!(r.is_err(), "{url}");
        }
        assert_eq!(
            parse(&["--jwt-secret", "short"]).unwrap_err(),
            ConfigError::WeakSecret(5)
        );
        assert!(parse(&["--jwt-secret", ""]).unwrap().jwt_secret.is_none());
    }

    #[test]
    fn defects_parse_and_unknown_is_refused() {
        let c = parse(&["--defect", "alg-none", "--defect", "no-rate-limit"]).unwrap();
        assert_eq!(c.defects.names(), vec!["alg-none", "no-rate-limit"]);
        assert!(matches!(
            parse(&["--defect", "nope"]),
            Err(ConfigError::Defect(_))
        ));
    }
}
