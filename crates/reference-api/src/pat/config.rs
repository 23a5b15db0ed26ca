//! The PAT command line ([`PatArgs`], flattened into the binary's arguments) and the validated
//! [`PatConfig`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use xauth_verifier::{Clock, SystemClock};

use super::defect::PatDefects;

/// The default database: one SQLite file in the working directory, created on first use.
///
/// Several reference processes started from one directory (the mutation gate does) share it
/// safely: SQLite locks the file across processes (writers wait up to sqlx's 5 s busy timeout),
/// the migration is idempotent and retried when two processes race to apply it, every row is
/// keyed by random ids and random token digests (and each scenario uses fresh owners), so no
/// process can see or change another's tokens by accident, and they behave like replicas of one
/// service. A per-process file (e.g. named after the port) was rejected: a restart on another
/// port would silently lose every token, and ephemeral ports would litter the directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://xauth-reference.db?mode=rwc";

/// Personal access tokens (`/api/account/tokens`): off unless `--pats` (or `XAUTH_PATS=true`).
#[derive(Debug, Clone, clap::Args)]
pub struct PatArgs {
    /// Enable personal access tokens (needs the service_role key for the owner check).
    #[arg(long = "pats", env = "XAUTH_PATS", value_parser = clap::builder::BoolishValueParser::new(),
          num_args = 0..=1, default_value = "false", default_missing_value = "true")]
    pub enabled: bool,
    /// PAT database: sqlite://FILE?mode=rwc (default, embedded) or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database_url: String,
    /// Server-side pepper for the stored token digests (at least 32 bytes; HMAC-SHA-256 key).
    #[arg(long, env = "XAUTH_PAT_PEPPER", hide_env_values = true)]
    pub pat_pepper: Option<String>,
    /// Longest PAT lifetime a user may choose, in days (1..=3650).
    #[arg(long, default_value_t = 365)]
    pub pat_max_ttl_days: u64,
    /// Seconds an owner lookup at the auth server's admin API is cached (0..=300).
    #[arg(long, default_value_t = 30)]
    pub owner_cache_seconds: u64,
    /// The service_role key, for `GET <SUPABASE_URL>/auth/v1/admin/users/{id}`.
    #[arg(long, env = "SUPABASE_SERVICE_ROLE_KEY", hide_env_values = true)]
    pub service_role_key: Option<String>,
}

/// A PAT configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatConfigError {
    /// PATs are on but there is no service_role key for the owner check.
    #[error("--pats needs SUPABASE_SERVICE_ROLE_KEY (or --service-role-key) for the owner check")]
    MissingServiceRoleKey,
    /// The pepper is too short.
    #[error("XAUTH_PAT_PEPPER must be at least 32 bytes (got {0})")]
    WeakPepper(usize),
    /// A number outside its range.
    #[error("--{name} must be in {min}..={max}, got {value}")]
    OutOfRange {
        /// The flag.
        name: &'static str,
        /// The value given.
        value: u64,
        /// Lowest allowed.
        min: u64,
        /// Highest allowed.
        max: u64,
    },
    /// Not a sqlite:// or postgres:// URL.
    #[error("--database-url must start with sqlite: or postgres:// (or postgresql://)")]
    DatabaseUrl,
}

/// Everything the PAT feature runs with.
#[derive(Clone)]
pub struct PatConfig {
    /// `sqlite:…` or `postgres://…`.
    pub database_url: String,
    /// HMAC key for the stored digests; `None`: plain SHA-256.
    pub pepper: Option<Vec<u8>>,
    /// Longest lifetime a token may be created with.
    pub max_ttl_days: u32,
    /// How long an owner lookup is trusted (0: every use asks the auth server).
    pub owner_cache: Duration,
    /// The service_role key (never logged).
    pub service_role_key: String,
    /// `last_used_at` is written at most once per this interval per token.
    pub last_used_interval: Duration,
    /// Most unrevoked, unexpired tokens one owner may hold.
    pub max_tokens_per_owner: u32,
    /// Timeout of one admin API call.
    pub owner_timeout: Duration,
    /// Most database connections per process.
    pub max_connections: u32,
    /// Time source for expiry, caches and timestamps (a fake one in tests).
    pub clock: Arc<dyn Clock>,
    /// Seeded PAT defects.
    pub defects: PatDefects,
}

impl fmt::Debug for PatConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PatConfig")
            .field("database_url", &redact_url(&self.database_url))
            .field("pepper", &self.pepper.as_ref().map(|_| "<redacted>"))
            .field("max_ttl_days", &self.max_ttl_days)
            .field("owner_cache", &self.owner_cache)
            .field("service_role_key", &"<redacted>")
            .field("last_used_interval", &self.last_used_interval)
            .field("max_tokens_per_owner", &self.max_tokens_per_owner)
            .field("defects", &self.defects)
            .finish_non_exhaustive()
    }
}

/// `url` without its password (for logs).
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("redacted"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

fn range(name: &'static str, value: u64, min: u64, max: u64) -> Result<u64, PatConfigError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(PatConfigError::OutOfRange {
            name,
            value,
            min,
            max,
        })
    }
}

impl PatConfig {
    /// Defaults of the command line for `database_url` and `service_role_key`.
    pub fn new(database_url: impl Into<String>, service_role_key: impl Into<String>) -> Self {
        PatConfig {
            database_url: database_url.into(),
            pepper: None,
            max_ttl_days: 365,
            owner_cache: Duration::from_secs(30),
            service_role_key: service_role_key.into(),
            last_used_interval: Duration::from_secs(60),
            max_tokens_per_owner: 50,
            owner_timeout: Duration::from_secs(5),
            max_connections: 8,
            clock: Arc::new(SystemClock),
            defects: PatDefects::none(),
        }
    }
}

impl PatArgs {
    /// The validated configuration, or `None` when PATs are off. `defect_names` is the whole
    /// `--defect` list; the PAT names are picked out of it.
    ///
    /// ```
    /// use clap::Parser;
    /// #[derive(Parser)]
    /// struct Cli { #[command(flatten)] pat: xauth_reference::pat::PatArgs }
    /// let cli = Cli::try_parse_from(["x", "--pats", "--service-role-key", "k"]).unwrap();
    /// let pat = cli.pat.config(&["pat-ignore-expiry".to_owned()]).unwrap().unwrap();
    /// assert_eq!(pat.max_ttl_days, 365);
    /// assert_eq!(pat.defects.names(), vec!["pat-ignore-expiry"]);
    /// let off = Cli::try_parse_from(["x"]).unwrap();
    /// assert!(off.pat.config(&[]).unwrap().is_none());
    /// ```
    pub fn config(&self, defect_names: &[String]) -> Result<Option<PatConfig>, PatConfigError> {
        if !self.enabled {
            return Ok(None);
        }
        let key = self
            .service_role_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or(PatConfigError::MissingServiceRoleKey)?;
        let url = self.database_url.trim();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(PatConfigError::DatabaseUrl);
        }
        let mut config = PatConfig::new(url, key);
        config.pepper = match self.pat_pepper.as_deref() {
            None | Some("") => None,
            Some(p) if p.len() < 32 => return Err(PatConfigError::WeakPepper(p.len())),
            Some(p) => Some(p.as_bytes().to_vec()),
        };
        let days = range("pat-max-ttl-days", self.pat_max_ttl_days, 1, 3650)?;
        config.max_ttl_days = u32::try_from(days).unwrap_or(365);
        config.owner_cache = Duration::from_secs(range(
            "owner-cache-seconds",
            self.owner_cache_seconds,
            0,
            300,
        )?);
        config.defects = PatDefects::from_names(defect_names);
        Ok(Some(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        pat: PatArgs,
    }

    fn parse(args: &[&str]) -> Result<Option<PatConfig>, PatConfigError> {
        let mut argv = vec!["x"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).unwrap().pat.config(&[])
    }

    #[test]
    fn off_by_default_and_bounded_when_on() {
        assert!(parse(&[]).unwrap().is_none());
        assert_eq!(
            parse(&["--pats"]).unwrap_err(),
            PatConfigError::MissingServiceRoleKey
        );
        let on = ["--pats", "--service-role-key", "k"];
        let c = parse(&on).unwrap().unwrap();
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.owner_cache, Duration::from_secs(30));
        for (flag, v) in [
            ("--pat-max-ttl-days", "0"),
            ("--pat-max-ttl-days", "3651"),
            ("--owner-cache-seconds", "301"),
        ] {
            let mut a = on.to_vec();
            a.extend([flag, v]);
            assert!(parse(&a).unwrap_err().to_string().contains(&flag[2..]));
        }
        let mut a = on.to_vec();
        a.extend(["--pat-pepper", "short"]);
        assert_eq!(parse(&a).unwrap_err(), PatConfigError::WeakPepper(5));
        let mut a = on.to_vec();
        a.extend(["--database-url", "mysql://x"]);
        assert_eq!(parse(&a).unwrap_err(), PatConfigError::DatabaseUrl);
        assert!(
            parse(&["--pats=false", "--service-role-key", "k"])
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn debug_never_shows_secrets() {
        let mut c = PatConfig::new("postgres://u:hunter2@h/db", "service-key-value");
        c.pepper = Some(b"pepper-value-pepper-value-pepper".to_vec());
        let text = format!("{c:?}");
        assert!(!text.contains("hunter2") && !text.contains("service-key-value"));
        assert!(!text.contains("pepper-value"));
    }
}
