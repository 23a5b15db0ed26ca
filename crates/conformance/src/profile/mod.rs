//! Target profiles: what an implementation under test declares about itself.
//!
//! A profile is a TOML file (the default one is `fixtures/profiles/xentropy.toml`, documented
//! field by field). Every field has a default equal to `xauth-reference`'s defaults, so an empty
//! file is the reference's profile. Unknown fields are errors, and every error names the field
//! and the line it is on.
//!
//! This file holds the profile's schema, its defaults, its validation and the line numbers of
//! its errors (one concern: the TOML a user writes); the `[pat]` section is [`pat`], the
//! `[mcp]` section [`mcp`].
//!
//! ```
//! use xauth_conformance::profile::Profile;
//!
//! let p = Profile::from_toml_str("leeway_seconds = 5\n[rate_limit]\nrequests = 10\n", "p.toml").unwrap();
//! assert_eq!(p.leeway_seconds, 5);
//! assert_eq!(p.rate_limit.requests.get(), 10);
//! assert_eq!(p.routes.protected.as_str(), "/api/content");
//!
//! let err = Profile::from_toml_str("[routes]\nprotectd = \"/x\"\n", "p.toml").unwrap_err();
//! assert!(err.to_string().starts_with("p.toml:2: routes.protectd:"));
//! ```

use std::fmt;
use std::num::{NonZeroU32, NonZeroU64};
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

pub mod mcp;
pub mod pat;

pub use mcp::Mcp;
pub use pat::Pat;

/// The largest leeway a profile may declare (the verifier caps leeway at 300 s as well).
pub const MAX_LEEWAY_SECONDS: u64 = 300;
/// The largest auth-proxy upstream timeout a profile may declare: a client waiting longer
/// than this for a token answer is, for the contract, hanging.
pub const MAX_AUTH_PROXY_TIMEOUT_SECONDS: u64 = 90;

/// What the implementation under test declares about itself; the scenarios derive their
/// expectations (and waits) from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Profile {
    /// Free-form name of the implementation, shown in reports. Default `"xentropy"`.
    pub name: String,
    /// Paths of the routes the scenarios probe.
    pub routes: Routes,
    /// JSON pointer (RFC 6901) to the error code inside an error response body.
    /// Default `/error/code` (body `{"error":{"code":"…","message":"…"}}`).
    pub error_code_pointer: JsonPointer,
    /// Clock-skew leeway the implementation applies to `exp`, `nbf` and `iat`, in seconds
    /// (0..=300). Default 0.
    pub leeway_seconds: u64,
    /// JWKS caching behaviour the implementation declares.
    pub jwks: Jwks,
    /// Rate limits the implementation declares.
    pub rate_limit: RateLimit,
    /// The longest the auth proxy waits for the issuer's token endpoint before it answers
    /// 502/504 itself, in seconds (1..=90). Default 10.
    pub auth_proxy_timeout_seconds: u64,
    /// Whether legacy HS256 tokens (signed with `SUPABASE_JWT_SECRET`) are accepted. When true,
    /// `--spawn` passes the issuer's secret as `SUPABASE_JWT_SECRET`. Default true.
    pub legacy_hs256: bool,
    /// Strictness switches: checks that go beyond status and error code.
    pub strict: Strict,
    /// Personal access tokens (`[pat]`); off by default.
    pub pat: Pat,
    /// An MCP endpoint (`[mcp]`); off by default.
    pub mcp: Mcp,
    /// How to start `xauth-reference` so that it matches this profile (`[reference] args`),
    /// for the developer commands (`cargo xtask conformance`, `cargo xtask mutants`). The
    /// runner itself never reads it: `--spawn 'CMD'` says how to start an implementation.
    /// Default: no arguments.
    #[serde(skip_serializing_if = "Reference::is_empty")]
    pub reference: Reference,
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            name: "xentropy".to_owned(),
            routes: Routes::default(),
            error_code_pointer: JsonPointer("/error/code".to_owned()),
            leeway_seconds: 0,
            jwks: Jwks::default(),
            rate_limit: RateLimit::default(),
            auth_proxy_timeout_seconds: 10,
            legacy_hs256: true,
            strict: Strict::default(),
            pat: Pat::default(),
            mcp: Mcp::default(),
            reference: Reference::default(),
        }
    }
}

/// Paths of the routes the scenarios probe. Every path starts with `/` and is joined to the
/// target base URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Routes {
    /// A `GET` route that any valid user token (role `authenticated`) may read. Default
    /// `/api/content`.
    pub protected: RoutePath,
    /// A `GET` route that answers 2xx without a token once the implementation is ready (the
    /// readiness probe of `--spawn`). Default `/health`.
    pub readiness: RoutePath,
    /// The implementation's proxy to the issuer's token endpoint (`POST …?grant_type=…`);
    /// the empty string declares that there is none (refresh scenarios are skipped).
    /// Default `/api/auth/v1/token`.
    #[serde(
        deserialize_with = "optional_route",
        serialize_with = "serialize_optional_route"
    )]
    pub auth_proxy: Option<RoutePath>,
    /// The permission probe: a route whose access depends on claims (403 vs 401).
    pub permission: Permission,
}

impl Default for Routes {
    fn default() -> Self {
        Self {
            protected: RoutePath("/api/content".to_owned()),
            readiness: RoutePath("/health".to_owned()),
            auth_proxy: Some(RoutePath("/api/auth/v1/token".to_owned())),
            permission: Permission::default(),
        }
    }
}

/// A route whose access depends on claims: a token carrying `grant_claims` gets 2xx, a
/// token carrying `lack_claims` gets 403 `FORBIDDEN`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Permission {
    /// The `GET` route. Default `/api/admin/stats`.
    pub path: RoutePath,
    /// Claims merged over a valid token that grant access. Default `{role = "service_role"}`.
    pub grant_claims: Map<String, Value>,
    /// Claims merged over a valid token that authenticate but lack permission.
    /// Default `{role = "authenticated"}`.
    pub lack_claims: Map<String, Value>,
}

impl Default for Permission {
    fn default() -> Self {
        let role = |r: &str| {
            let mut m = Map::new();
            m.insert("role".to_owned(), Value::String(r.to_owned()));
            m
        };
        Self {
            path: RoutePath("/api/admin/stats".to_owned()),
            grant_claims: role("service_role"),
            lack_claims: role("authenticated"),
        }
    }
}

/// JWKS caching behaviour the implementation declares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Jwks {
    /// The longest time a fetched key set is used before it is fetched again (bounds how long
    /// a revoked key keeps working), in seconds. Default 600.
    pub cache_ttl_max_seconds: NonZeroU64,
    /// The shortest time between two fetches triggered by unknown `kid`s, in seconds.
    /// Default 30. `0` declares no cooldown; then `max_fetches_per_minute` must bound the
    /// fetches instead (some bound must always exist: a flood of unknown kids is attacker
    /// input).
    pub refetch_cooldown_seconds: u64,
    /// At most this many JWKS fetches per minute, however many unknown kids arrive (the
    /// jwks-rsa `jwksRequestsPerMinute` style of bound). Absent by default. When both bounds
    /// are declared, both must hold.
    pub max_fetches_per_minute: Option<NonZeroU32>,
    /// Whether cached keys keep working while the JWKS endpoint fails for longer than the
    /// cache TTL (stale-if-error). Default false: within the TTL since the last successful
    /// fetch cached keys must keep working; beyond it, failing closed (401) is accepted too.
    pub serves_stale_on_error: bool,
}

impl Default for Jwks {
    fn default() -> Self {
        Self {
            cache_ttl_max_seconds: NonZeroU64::new(600).unwrap_or(NonZeroU64::MIN),
            refetch_cooldown_seconds: 30,
            max_fetches_per_minute: None,
            serves_stale_on_error: false,
        }
    }
}

impl Jwks {
    /// The longest an unknown kid may have to wait for the fetch it triggers, by the declared
    /// bounds: the cooldown, or one minute's worth of the per-minute budget (`60 / N`
    /// seconds, rounded up), whichever is longer.
    pub fn refetch_interval(&self) -> Duration {
        let cooldown = Duration::from_secs(self.refetch_cooldown_seconds);
        let budget = self
            .max_fetches_per_minute
            .map(|n| Duration::from_secs(60u64.div_ceil(u64::from(n.get()))))
            .unwrap_or_default();
        cooldown.max(budget)
    }

    /// How many JWKS fetches triggered by unknown kids the declared bounds allow within
    /// `elapsed`. A cooldown allows one fetch, plus one per elapsed cooldown (whole-second
    /// clocks may start a cooldown up to a second early, so a cooldown counts as `C - 1 s`, at
    /// least 1 s). A per-minute budget of `N` allows `N` at once plus `N` per started minute
    /// after that (a token bucket refilled every minute). With both, the smaller.
    pub fn allowed_fetches(&self, elapsed: Duration) -> u64 {
        let by_cooldown = (self.refetch_cooldown_seconds > 0).then(|| {
            let effective = Duration::from_secs(self.refetch_cooldown_seconds)
                .saturating_sub(Duration::from_secs(1))
                .max(Duration::from_secs(1));
            1 + (elapsed.as_secs_f64() / effective.as_secs_f64()).floor() as u64
        });
        let by_budget = self.max_fetches_per_minute.map(|n| {
            let n = u64::from(n.get());
            n + n * elapsed.as_secs().div_ceil(60)
        });
        match (by_cooldown, by_budget) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            // Unreachable for a validated profile; no bound declared means none is allowed.
            (None, None) => 1,
        }
    }
}

/// How the per-token rate limit is keyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateLimitKeying {
    /// Per verified subject (`sub` of a token that passed verification).
    Subject,
    /// Per client IP address.
    Ip,
}

/// Rate limits the implementation declares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimit {
    /// Whether the implementation rate-limits at all (false skips the rate-limit scenarios).
    /// Default true.
    pub enabled: bool,
    /// Requests allowed per window and key. Default 120.
    pub requests: NonZeroU32,
    /// Window length in seconds. Default 60.
    pub window_seconds: NonZeroU64,
    /// What the limit is keyed on: `"subject"` or `"ip"`. Default `"subject"`.
    pub keying: RateLimitKeying,
    /// Whether replicas of the implementation share one budget (a limiter in a shared store),
    /// so that a key exhausted on one replica gets 429 on the others too. Only checked when the
    /// run has replicas (`--replica`, `--spawn-replicas`). Default false.
    pub shared_across_replicas: bool,
    /// The per-client-IP limit for requests without a valid token.
    pub ip: IpRateLimit,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            enabled: true,
            requests: NonZeroU32::new(120).unwrap_or(NonZeroU32::MIN),
            window_seconds: NonZeroU64::new(60).unwrap_or(NonZeroU64::MIN),
            keying: RateLimitKeying::Subject,
            shared_across_replicas: false,
            ip: IpRateLimit::default(),
        }
    }
}

/// The per-client-IP limit for requests without a valid token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IpRateLimit {
    /// Whether there is a per-IP limit at all (false skips the per-IP scenarios). Default true.
    pub enabled: bool,
    /// Requests allowed per window and client IP. Default 600.
    pub requests: NonZeroU32,
    /// Window length in seconds. Default 60.
    pub window_seconds: NonZeroU64,
}

impl Default for IpRateLimit {
    fn default() -> Self {
        Self {
            enabled: true,
            requests: NonZeroU32::new(600).unwrap_or(NonZeroU32::MIN),
            window_seconds: NonZeroU64::new(60).unwrap_or(NonZeroU64::MIN),
        }
    }
}

/// Strictness switches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Strict {
    /// Require RFC 6750 `WWW-Authenticate: Bearer …` headers on 401 and 403. Default false:
    /// the Xentropy contract fixes statuses and codes, not challenges, so requiring them by
    /// default would fail correct implementations that omit them.
    pub rfc6750_headers: bool,
}

/// `[reference]`: the `xauth-reference` command-line arguments this profile describes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Reference {
    /// Arguments, one per element (no shell splitting), e.g.
    /// `["--jwks-ttl-max", "2", "--rate-window", "2"]`. Every value the profile declares
    /// differently from the reference's defaults must be matched here.
    pub args: Vec<String>,
}

impl Reference {
    /// Whether no argument is given.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }
}

/// A route path: starts with `/`, no whitespace, no `#`, at most 2048 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RoutePath(String);

impl RoutePath {
    /// Validates a route path.
    pub fn new(s: impl Into<String>) -> Result<Self, String> {
        let s = s.into();
        if !s.starts_with('/') {
            return Err(format!("route path {s:?} must start with '/'"));
        }
        if s.len() > 2048
            || s.chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '#')
        {
            return Err(format!(
                "route path {s:?} must be at most 2048 bytes without whitespace, control characters or '#'"
            ));
        }
        Ok(Self(s))
    }
    /// The path text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoutePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RoutePath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RoutePath::new(s).map_err(serde::de::Error::custom)
    }
}

fn optional_route<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RoutePath>, D::Error> {
    let s = String::deserialize(d)?;
    if s.is_empty() {
        Ok(None)
    } else {
        RoutePath::new(s)
            .map(Some)
            .map_err(serde::de::Error::custom)
    }
}

fn serialize_optional_route<S: serde::Serializer>(
    r: &Option<RoutePath>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(r.as_ref().map_or("", RoutePath::as_str))
}

/// A JSON pointer (RFC 6901): empty (the whole body) or starting with `/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct JsonPointer(String);

impl JsonPointer {
    /// Validates a JSON pointer.
    pub fn new(s: impl Into<String>) -> Result<Self, String> {
        let s = s.into();
        if !(s.is_empty() || s.starts_with('/')) {
            return Err(format!(
                "JSON pointer {s:?} must be empty or start with '/'"
            ));
        }
        Ok(Self(s))
    }
    /// The pointer text, usable with [`serde_json::Value::pointer`].
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The value at this pointer in `body`, if any.
    pub fn lookup<'v>(&self, body: &'v Value) -> Option<&'v Value> {
        body.pointer(&self.0)
    }
}

impl fmt::Display for JsonPointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for JsonPointer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        JsonPointer::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A profile that could not be read or parsed. Its `Display` is one line:
/// `FILE:LINE: FIELD: CAUSE`.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file could not be read.
    #[error("{file}: cannot read profile: {source}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid profile.
    #[error("{file}:{line}: {field}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// 1-based line of the offending text (0 when unknown).
        line: usize,
        /// Dotted path of the offending field (`(document)` for syntax errors at top level).
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// Profiles larger than this are rejected unread.
pub const MAX_PROFILE_BYTES: u64 = 256 * 1024;

impl Profile {
    /// Reads and validates a profile file.
    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        let file = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|source| ProfileError::Read {
            file: file.clone(),
            source,
        })?;
        if meta.len() > MAX_PROFILE_BYTES {
            return Err(ProfileError::Invalid {
                file,
                line: 0,
                field: "(document)".to_owned(),
                message: format!("profile is larger than {MAX_PROFILE_BYTES} bytes"),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
            file: file.clone(),
            source,
        })?;
        Self::from_toml_str(&text, &file)
    }

    /// Parses and validates profile text; `file` names it in errors.
    pub fn from_toml_str(text: &str, file: &str) -> Result<Self, ProfileError> {
        let invalid = |span: Option<std::ops::Range<usize>>, field: String, message: String| {
            ProfileError::Invalid {
                file: file.to_owned(),
                line: span.map_or(0, |s| line_of(text, s.start)),
                field,
                message,
            }
        };
        let de = toml::Deserializer::parse(text)
            .map_err(|e| invalid(e.span(), "(document)".to_owned(), one_line(e.message())))?;
        let profile: Profile = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let message = one_line(inner.message());
            // serde_path_to_error names the unknown field itself in the path.
            let field = if path == "." || path.is_empty() {
                "(document)".to_owned()
            } else {
                path
            };
            invalid(inner.span(), field, message)
        })?;
        if profile.leeway_seconds > MAX_LEEWAY_SECONDS {
            let line = key_line(text, None, "leeway_seconds");
            return Err(ProfileError::Invalid {
                file: file.to_owned(),
                line,
                field: "leeway_seconds".to_owned(),
                message: format!(
                    "{} is larger than the maximum of {MAX_LEEWAY_SECONDS} seconds",
                    profile.leeway_seconds
                ),
            });
        }
        if !(1..=MAX_AUTH_PROXY_TIMEOUT_SECONDS).contains(&profile.auth_proxy_timeout_seconds) {
            let line = key_line(text, None, "auth_proxy_timeout_seconds");
            return Err(ProfileError::Invalid {
                file: file.to_owned(),
                line,
                field: "auth_proxy_timeout_seconds".to_owned(),
                message: format!(
                    "{} is outside 1..={MAX_AUTH_PROXY_TIMEOUT_SECONDS} seconds",
                    profile.auth_proxy_timeout_seconds
                ),
            });
        }
        if profile.jwks.refetch_cooldown_seconds == 0
            && profile.jwks.max_fetches_per_minute.is_none()
        {
            let line = key_line(text, Some("jwks"), "refetch_cooldown_seconds");
            return Err(ProfileError::Invalid {
                file: file.to_owned(),
                line,
                field: "jwks.refetch_cooldown_seconds".to_owned(),
                message: "0 declares no bound on JWKS fetches triggered by unknown kids; declare a cooldown of at least 1 s or jwks.max_fetches_per_minute (a flood of unknown kids is attacker input, so some bound must exist)".to_owned(),
            });
        }
        if let Err((field, message)) = profile.pat.validate().and(profile.mcp.validate()) {
            return Err(ProfileError::Invalid {
                file: file.to_owned(),
                line: field_line(text, field),
                field: field.to_owned(),
                message,
            });
        }
        Ok(profile)
    }

    /// The profile as TOML text (every field spelled out).
    pub fn to_toml_string(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// 1-based line number of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text.as_bytes()[..at]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Best-effort line of a dotted field (`pat.create.body`): its key in its table, else the
/// table's header; 0 when not found.
fn field_line(text: &str, field: &str) -> usize {
    let (table, key) = field.rsplit_once('.').unwrap_or(("", field));
    let table = (!table.is_empty()).then_some(table);
    match key_line(text, table, key) {
        0 => text
            .lines()
            .position(|l| l.trim() == format!("[{field}]"))
            .map_or(0, |i| i + 1),
        n => n,
    }
}

/// Best-effort line of a top-level (`table` None) key; 0 when not found.
fn key_line(text: &str, table: Option<&str>, key: &str) -> usize {
    let mut current: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(h) = t.strip_prefix('[') {
            current = Some(h.trim_end_matches(']').trim().to_owned());
            continue;
        }
        if current.as_deref() == table
            && t.split('=').next().map(str::trim) == Some(key)
            && t.contains('=')
        {
            return i + 1;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_default() {
        assert_eq!(Profile::from_toml_str("", "x").unwrap(), Profile::default());
    }

    #[test]
    fn auth_proxy_timeout_is_bounded_and_named() {
        for bad in ["0", "91"] {
            let text = format!("name = \"x\"\nauth_proxy_timeout_seconds = {bad}\n");
            let e = Profile::from_toml_str(&text, "p.toml")
                .unwrap_err()
                .to_string();
            assert!(e.contains("p.toml:2"), "{e}");
            assert!(e.contains("auth_proxy_timeout_seconds"), "{e}");
        }
        let p = Profile::from_toml_str("auth_proxy_timeout_seconds = 90", "p.toml").unwrap();
        assert_eq!(p.auth_proxy_timeout_seconds, 90);
    }

    #[test]
    fn default_round_trips() {
        let text = Profile::default().to_toml_string();
        assert_eq!(
            Profile::from_toml_str(&text, "x").unwrap(),
            Profile::default()
        );
    }
}

#[cfg(test)]
mod fixture_tests {
    #[test]
    fn shipped_profile_is_the_default() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/profiles/xentropy.toml");
        assert_eq!(
            super::Profile::load(&path).unwrap(),
            super::Profile::default()
        );
    }
}

#[cfg(test)]
mod fetch_bounds {
    use super::*;

    fn jwks(cooldown: u64, per_minute: Option<u32>) -> Jwks {
        Jwks {
            refetch_cooldown_seconds: cooldown,
            max_fetches_per_minute: per_minute.and_then(NonZeroU32::new),
            ..Jwks::default()
        }
    }

    #[test]
    fn a_cooldown_allows_one_fetch_per_whole_cooldown_with_a_second_of_clock_slack() {
        let s = Duration::from_secs;
        assert_eq!(jwks(30, None).allowed_fetches(s(0)), 1);
        assert_eq!(jwks(30, None).allowed_fetches(s(28)), 1);
        assert_eq!(jwks(30, None).allowed_fetches(s(29)), 2);
        assert_eq!(jwks(2, None).allowed_fetches(Duration::from_millis(900)), 1);
        assert_eq!(
            jwks(2, None).allowed_fetches(Duration::from_millis(2500)),
            3
        );
        assert_eq!(jwks(1, None).allowed_fetches(s(5)), 6);
    }

    #[test]
    fn a_per_minute_budget_allows_n_now_and_n_per_started_minute() {
        let s = Duration::from_secs;
        assert_eq!(jwks(0, Some(10)).allowed_fetches(s(0)), 10);
        assert_eq!(jwks(0, Some(10)).allowed_fetches(s(2)), 20);
        assert_eq!(jwks(0, Some(10)).allowed_fetches(s(61)), 30);
        // Both declared: both must hold.
        assert_eq!(jwks(30, Some(10)).allowed_fetches(s(2)), 1);
        assert_eq!(jwks(1, Some(3)).allowed_fetches(s(10)), 6);
    }

    #[test]
    fn the_refetch_interval_is_the_longer_of_the_declared_bounds() {
        let s = Duration::from_secs;
        assert_eq!(jwks(30, None).refetch_interval(), s(30));
        assert_eq!(jwks(0, Some(10)).refetch_interval(), s(6));
        assert_eq!(jwks(0, Some(7)).refetch_interval(), s(9));
        assert_eq!(jwks(2, Some(60)).refetch_interval(), s(2));
    }

    #[test]
    fn a_profile_without_any_fetch_bound_is_refused() {
        let err = Profile::from_toml_str("[jwks]\nrefetch_cooldown_seconds = 0\n", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("p.toml:2: jwks.refetch_cooldown_seconds: "),
            "{err}"
        );
        assert!(err.contains("max_fetches_per_minute"), "{err}");
        let ok = Profile::from_toml_str(
            "[jwks]\nrefetch_cooldown_seconds = 0\nmax_fetches_per_minute = 10\n",
            "p.toml",
        )
        .unwrap();
        assert_eq!(ok.jwks.refetch_interval(), Duration::from_secs(6));
    }
}
