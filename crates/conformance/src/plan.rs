//! The run plan: every scenario of the feature files, parsed (and outlines expanded) before
//! anything runs, with the runner's decision for each: run, skip (with a reason) or deselected
//! by `--tags`.
//!
//! Parsing up front turns a broken feature file or an unknown requirement tag into a setup
//! error (exit 2) and lets the report account for every selected scenario: one that never
//! reports back is a failure ("not run"), never a silent hole.
//!
//! # Requirement tags
//! Scenarios declare what the implementation must have for them to apply; the runner skips
//! them (with the reason) when the profile says otherwise:
//!
//! | tag | runs when |
//! |---|---|
//! | `@needs-auth-proxy` | `routes.auth_proxy` is not `""` |
//! | `@needs-hs256` | `legacy_hs256 = true` and the issuer has a legacy secret |
//! | `@needs-no-hs256` | `legacy_hs256 = false` |
//! | `@needs-rate-limit` | `rate_limit.enabled = true` |
//! | `@needs-ip-rate-limit` | `rate_limit.enabled = true` and `rate_limit.ip.enabled = true` |
//! | `@needs-rfc6750` | `strict.rfc6750_headers = true` |
//! | `@needs-loopback` | the target is on a loopback address |
//! | `@needs-declared-leeway` | a `--profile` file was given (it declares `leeway_seconds`) |
//! | `@needs-pat` | `pat.enabled = true` |
//! | `@needs-pat-rotation` | `pat.enabled` and `pat.rotate.path` is not `""` |
//! | `@needs-pat-short-ttl` | `pat.enabled` and a token can be created to expire within 30 s (`pat.min_ttl_seconds`, a `{ttl_seconds}` or `{expires_at}` body) |
//! | `@needs-pat-last-used` | `pat.enabled` and `pat.list.last_used_pointer` is not `""` |
//! | `@needs-pat-owner-rate-limit` | `pat.enabled`, `rate_limit.enabled` and `pat.rate_limit_keying = "owner"` |
//! | `@needs-mcp` | `mcp.enabled = true` |
//! | `@needs-mcp-supabase-audience` | `mcp.enabled` and `mcp.audience_mode = "supabase"` |
//! | `@needs-mcp-resource-audience` | `mcp.enabled` and `mcp.audience_mode = "resource"` |
//! | `@needs-mcp-upstream` | `mcp.enabled` and `mcp.upstream_tool` is not `""` |
//! | `@needs-mcp-pat` | `mcp.enabled`, `mcp.accepts_pats` and `pat.enabled` |
//! | `@needs-distinct-permission-route` | `routes.permission.path` is not `routes.protected` (an API with one role-gated route cannot both accept and forbid one token there) |
//! | `@slow` | `--slow` is given |
//! | `@strict` | `--strict` is given (a reading stricter than the contract fixes) |
//!
//! Any other `@needs-…` tag is a setup error, so a typo cannot silently skip a scenario.
//! `@timeout(DURATION)` (e.g. `@timeout(3m)`) gives a scenario its own timeout instead of
//! `--scenario-timeout`, for scenarios that must wait out a declared TTL or window.
//! Scenarios that share issuer state (key rotation, JWKS faults, the clock) must be tagged
//! `@serial`: cucumber then runs them alone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use cucumber::gherkin;
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::tag::Ext as _;
use futures::StreamExt as _;

use crate::profile::Profile;

/// Identifies one (expanded) scenario: file, line, column.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScenarioKey {
    /// The feature file as cucumber's parser names it.
    pub file: PathBuf,
    /// 1-based line (outline rows: the row's line).
    pub line: usize,
    /// 1-based column.
    pub col: usize,
}

impl ScenarioKey {
    /// The key of a scenario of `feature`.
    pub fn of(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> Self {
        Self {
            file: feature.path.clone().unwrap_or_default(),
            line: scenario.position.line,
            col: scenario.position.col,
        }
    }
}

/// What the runner does with a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Run it.
    Run,
    /// Skip it; the reason is reported.
    Skip(String),
    /// Not selected by `--tags`; not reported.
    Deselected,
}

/// One scenario of the plan.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Identity.
    pub key: ScenarioKey,
    /// The feature's name.
    pub feature_name: String,
    /// The feature file relative to the features directory.
    pub feature_file: String,
    /// The feature file's stem (`algorithms` for `algorithms.feature`).
    pub feature_stem: String,
    /// Name as written (outline rows: with placeholders replaced).
    pub base_name: String,
    /// Unique display name (outline rows with repeated names get their values appended).
    pub name: String,
    /// Tags of feature, rule and scenario, without `@`.
    pub tags: Vec<String>,
    /// The decision.
    pub decision: Decision,
    /// Its own scenario timeout, from a `@timeout(DURATION)` tag (e.g. `@timeout(3m)`).
    pub timeout: Option<std::time::Duration>,
}

/// What the requirement tags are checked against.
#[derive(Debug, Clone)]
pub struct Requirements {
    /// The profile.
    pub profile: Profile,
    /// Whether the issuer has a legacy HS256 secret.
    pub issuer_has_secret: bool,
    /// Whether the target is on loopback and each scenario can send from its own
    /// 127.0.x.y source address.
    pub loopback: bool,
    /// Whether `@slow` scenarios run.
    pub slow: bool,
    /// Whether `@strict` scenarios run (`--strict`).
    pub strict: bool,
    /// Whether a profile file was given: only then is `leeway_seconds` the implementation's
    /// declaration rather than the built-in default.
    pub profile_given: bool,
}

/// Known requirement tags.
pub const REQUIREMENT_TAGS: &[&str] = &[
    "needs-auth-proxy",
    "needs-hs256",
    "needs-no-hs256",
    "needs-rate-limit",
    "needs-ip-rate-limit",
    "needs-rfc6750",
    "needs-loopback",
    "needs-declared-leeway",
    "needs-distinct-permission-route",
    "needs-pat",
    "needs-pat-rotation",
    "needs-pat-short-ttl",
    "needs-pat-last-used",
    "needs-pat-owner-rate-limit",
    "needs-mcp",
    "needs-mcp-supabase-audience",
    "needs-mcp-resource-audience",
    "needs-mcp-upstream",
    "needs-mcp-pat",
];

impl Requirements {
    /// `Ok(None)`: run; `Ok(Some(reason))`: skip; `Err`: unknown requirement tag.
    pub fn check(&self, tags: &[String]) -> Result<Option<String>, String> {
        let p = &self.profile;
        for tag in tags {
            let unmet = match tag.as_str() {
                "needs-auth-proxy" => p
                    .routes
                    .auth_proxy
                    .is_none()
                    .then_some("the profile declares no auth proxy (routes.auth_proxy = \"\")"),
                "needs-hs256" => (!p.legacy_hs256)
                    .then_some("the profile disables legacy HS256 (legacy_hs256 = false)")
                    .or((!self.issuer_has_secret)
                        .then_some("the issuer has no legacy HS256 secret")),
                "needs-no-hs256" => p
                    .legacy_hs256
                    .then_some("the profile enables legacy HS256 (legacy_hs256 = true)"),
                "needs-rate-limit" => (!p.rate_limit.enabled)
                    .then_some("the profile declares no rate limit (rate_limit.enabled = false)"),
                "needs-ip-rate-limit" => (!p.rate_limit.enabled || !p.rate_limit.ip.enabled)
                    .then_some(
                        "the profile declares no per-IP rate limit (rate_limit.ip.enabled = false)",
                    ),
                "needs-rfc6750" => (!p.strict.rfc6750_headers).then_some(
                    "the profile does not require RFC 6750 headers (strict.rfc6750_headers = false)",
                ),
                "needs-declared-leeway" => (!self.profile_given).then_some(
                    "the boundary scenarios need the implementation's leeway: pass --profile declaring leeway_seconds",
                ),
                "needs-distinct-permission-route" => (p.routes.permission.path
                    == p.routes.protected)
                    .then_some("the profile's permission route is its protected route (routes.permission.path = routes.protected): one role-gated route cannot both accept and forbid the same token"),
                "needs-pat" => (!p.pat.enabled)
                    .then_some("the profile declares no personal access tokens (pat.enabled = false)"),
                "needs-pat-rotation" => (!p.pat.enabled || !p.pat.has_rotation())
                    .then_some("the profile declares no PAT rotation (pat.rotate.path = \"\")"),
                "needs-pat-short-ttl" => (!p.pat.enabled || p.pat.short_ttl().is_none())
                    .then_some("the profile's PATs cannot be created to expire within 30 s (pat.min_ttl_seconds, or a create body without {ttl_seconds} or {expires_at})"),
                "needs-pat-last-used" => (!p.pat.enabled
                    || p.pat.list.last_used_pointer.as_str().is_empty())
                    .then_some("the profile's PAT list does not show last use (pat.list.last_used_pointer = \"\")"),
                "needs-pat-owner-rate-limit" => (!p.pat.enabled
                    || !p.rate_limit.enabled
                    || p.pat.rate_limit_keying != crate::profile::pat::PatRateKeying::Owner)
                    .then_some("the profile declares no per-owner PAT rate limit (rate_limit.enabled, pat.rate_limit_keying = \"owner\")"),
                "needs-mcp" => (!p.mcp.enabled)
                    .then_some("the profile declares no MCP endpoint (mcp.enabled = false)"),
                "needs-mcp-supabase-audience" => (!p.mcp.enabled
                    || p.mcp.audience_mode != crate::profile::mcp::AudienceMode::Supabase)
                    .then_some("the MCP endpoint's audience mode is not \"supabase\" (mcp.audience_mode)"),
                "needs-mcp-resource-audience" => (!p.mcp.enabled
                    || p.mcp.audience_mode != crate::profile::mcp::AudienceMode::Resource)
                    .then_some("the MCP endpoint's audience mode is not \"resource\" (mcp.audience_mode)"),
                "needs-mcp-upstream" => (!p.mcp.enabled || p.mcp.upstream_tool.is_empty())
                    .then_some("the profile declares no MCP tool that calls an upstream (mcp.upstream_tool = \"\")"),
                "needs-mcp-pat" => (!p.mcp.enabled || !p.mcp.accepts_pats || !p.pat.enabled)
                    .then_some("the profile declares no PATs on the MCP endpoint (pat.enabled, mcp.accepts_pats)"),
                "needs-loopback" => (!self.loopback)
                    .then_some("needs its own 127.0.x.y source address per scenario: the target is not on IPv4 loopback, or this system does not route 127.0.x.y"),
                "slow" => (!self.slow).then_some("@slow (run with --slow)"),
                // A strict reading where the contract leaves latitude: a correct but lenient
                // implementation fails it, so it must not fail a run unless asked for.
                "strict" => (!self.strict)
                    .then_some("@strict: a reading stricter than the contract fixes (run with --strict)"),
                t if t.starts_with("needs-") => {
                    return Err(format!(
                        "unknown requirement tag @{t} (known: {})",
                        REQUIREMENT_TAGS
                            .iter()
                            .map(|t| format!("@{t}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                _ => None,
            };
            if let Some(reason) = unmet {
                return Ok(Some(format!("skipped: {reason}")));
            }
        }
        Ok(None)
    }
}

/// Why a plan could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A feature file does not parse.
    #[error("feature file error: {0}")]
    Parse(String),
    /// Unknown requirement tag.
    #[error("{file}:{line}: {message}")]
    Tag {
        /// File.
        file: String,
        /// Line.
        line: usize,
        /// Message.
        message: String,
    },
    /// Bad `--tags`.
    #[error("--tags {expr:?}: {message}")]
    TagExpr {
        /// The expression.
        expr: String,
        /// Why.
        message: String,
    },
    /// No feature file at all.
    #[error("no .feature files in {0}")]
    Empty(String),
}

/// The `@timeout(DURATION)` tag's value, if any (the innermost, i.e. last, wins).
fn scenario_timeout(tags: &[String]) -> Result<Option<std::time::Duration>, String> {
    let mut found = None;
    for tag in tags {
        if tag == "timeout" || tag.starts_with("timeout(") {
            let rest = &tag["timeout".len()..];
            let inner = rest
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(|| format!("@{tag}: write @timeout(DURATION), e.g. @timeout(3m)"))?;
            found =
                Some(crate::duration::parse_duration(inner).map_err(|e| format!("@{tag}: {e}"))?);
        }
    }
    Ok(found)
}

/// Parses a `--tags` expression (`@a and not (@b or @c)`).
pub fn parse_tags(expr: &str) -> Result<TagOperation, PlanError> {
    TagOperation::from_str(expr).map_err(|e| PlanError::TagExpr {
        expr: expr.to_owned(),
        message: e.to_string(),
    })
}

/// The whole plan.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Every scenario, in file order.
    pub scenarios: Vec<Planned>,
}

impl Plan {
    /// Parses every feature file under `dir` and decides for each scenario.
    pub async fn make(
        dir: &Path,
        tag_filter: Option<&TagOperation>,
        req: &Requirements,
    ) -> Result<Self, PlanError> {
        use cucumber::Parser as _;
        let parser = cucumber::parser::Basic::new();
        let mut features: Vec<gherkin::Feature> = Vec::new();
        let mut stream = Box::pin(parser.parse(dir, cucumber::parser::basic::Cli::default()));
        while let Some(f) = stream.next().await {
            features.push(f.map_err(|e| PlanError::Parse(e.to_string()))?);
        }
        if features.is_empty() {
            return Err(PlanError::Empty(dir.display().to_string()));
        }
        features.sort_by(|a, b| a.path.cmp(&b.path));
        let mut scenarios = Vec::new();
        for feature in &features {
            let path = feature.path.clone().unwrap_or_default();
            let rel = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let all = feature.scenarios.iter().map(|s| (None, s)).chain(
                feature
                    .rules
                    .iter()
                    .flat_map(|r| r.scenarios.iter().map(move |s| (Some(r), s))),
            );
            let mut name_counts: HashMap<&str, usize> = HashMap::new();
            for s in feature
                .scenarios
                .iter()
                .chain(feature.rules.iter().flat_map(|r| r.scenarios.iter()))
            {
                *name_counts.entry(s.name.as_str()).or_default() += 1;
            }
            for (rule, s) in all {
                let tags: Vec<String> = feature
                    .tags
                    .iter()
                    .chain(rule.iter().flat_map(|r| r.tags.iter()))
                    .chain(s.tags.iter())
                    .cloned()
                    .collect();
                let name = if name_counts.get(s.name.as_str()).copied().unwrap_or(0) > 1 {
                    match s
                        .examples
                        .first()
                        .and_then(|e| e.table.as_ref())
                        .and_then(|t| t.rows.get(1))
                    {
                        Some(row) => format!("{} [{}]", s.name, row.join(" | ")),
                        None => format!("{} (line {})", s.name, s.position.line),
                    }
                } else {
                    s.name.clone()
                };
                let decision = match req.check(&tags) {
                    Err(message) => {
                        return Err(PlanError::Tag {
                            file: rel.clone(),
                            line: s.position.line,
                            message,
                        });
                    }
                    Ok(skip) => {
                        if tag_filter.is_none_or(|op| op.eval(tags.iter())) {
                            skip.map_or(Decision::Run, Decision::Skip)
                        } else {
                            Decision::Deselected
                        }
                    }
                };
                let timeout = scenario_timeout(&tags).map_err(|message| PlanError::Tag {
                    file: rel.clone(),
                    line: s.position.line,
                    message,
                })?;
                scenarios.push(Planned {
                    key: ScenarioKey::of(feature, s),
                    feature_name: feature.name.clone(),
                    feature_file: rel.clone(),
                    feature_stem: stem.clone(),
                    base_name: s.name.clone(),
                    name,
                    tags,
                    decision,
                    timeout,
                });
            }
        }
        Ok(Self { scenarios })
    }

    /// The decision for a scenario cucumber is about to run (unknown scenarios are not run).
    pub fn should_run(&self, key: &ScenarioKey) -> bool {
        self.scenarios
            .iter()
            .any(|p| &p.key == key && p.decision == Decision::Run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_scenarios_run_only_with_strict() {
        let tags = vec!["strict".to_string()];
        let skipped = req(|_| {}).check(&tags).unwrap();
        assert!(skipped.is_some_and(|r| r.contains("--strict")));
        assert_eq!(req(|r| r.strict = true).check(&tags).unwrap(), None);
    }

    fn req(edit: impl FnOnce(&mut Requirements)) -> Requirements {
        let mut r = Requirements {
            profile: Profile::default(),
            issuer_has_secret: true,
            loopback: true,
            slow: false,
            strict: false,
            profile_given: true,
        };
        edit(&mut r);
        r
    }

    fn skipped(r: &Requirements, tag: &str) -> bool {
        r.check(&[tag.to_owned()]).unwrap().is_some()
    }

    #[test]
    fn each_requirement_follows_the_profile() {
        let default = req(|_| {});
        for tag in REQUIREMENT_TAGS {
            // The built-in profile does not require RFC 6750 challenges.
            let expect_skip = matches!(*tag, "needs-no-hs256" | "needs-rfc6750")
                || tag.starts_with("needs-pat")
                || tag.starts_with("needs-mcp");
            assert_eq!(skipped(&default, tag), expect_skip, "{tag}");
        }
        assert!(!skipped(
            &req(|r| r.profile.strict.rfc6750_headers = true),
            "needs-rfc6750"
        ));
        assert!(skipped(
            &req(|r| r.profile_given = false),
            "needs-declared-leeway"
        ));
        assert!(skipped(&default, "slow"));
        assert!(!skipped(&req(|r| r.slow = true), "slow"));
        assert!(skipped(
            &req(|r| r.profile.routes.auth_proxy = None),
            "needs-auth-proxy"
        ));
        let no_hs = req(|r| r.profile.legacy_hs256 = false);
        assert!(skipped(&no_hs, "needs-hs256"));
        assert!(!skipped(&no_hs, "needs-no-hs256"));
        assert!(skipped(
            &req(|r| r.issuer_has_secret = false),
            "needs-hs256"
        ));
        let no_rl = req(|r| r.profile.rate_limit.enabled = false);
        assert!(skipped(&no_rl, "needs-rate-limit"));
        assert!(skipped(&no_rl, "needs-ip-rate-limit"));
        assert!(skipped(
            &req(|r| r.profile.rate_limit.ip.enabled = false),
            "needs-ip-rate-limit"
        ));
        assert!(skipped(
            &req(|r| r.profile.strict.rfc6750_headers = false),
            "needs-rfc6750"
        ));
        assert!(skipped(&req(|r| r.loopback = false), "needs-loopback"));
        let pats = req(|r| r.profile.pat.enabled = true);
        for tag in REQUIREMENT_TAGS
            .iter()
            .filter(|t| t.starts_with("needs-pat"))
        {
            assert!(!skipped(&pats, tag), "{tag}");
        }
        let pats_no_rotation = req(|r| {
            r.profile.pat.enabled = true;
            r.profile.pat.rotate.path = String::new();
        });
        assert!(skipped(&pats_no_rotation, "needs-pat-rotation"));
        assert!(!skipped(&pats_no_rotation, "needs-pat"));
        let pats_per_token = req(|r| {
            r.profile.pat.enabled = true;
            r.profile.pat.rate_limit_keying = crate::profile::pat::PatRateKeying::Token;
        });
        assert!(skipped(&pats_per_token, "needs-pat-owner-rate-limit"));
        let mcp = req(|r| r.profile.mcp.enabled = true);
        assert!(!skipped(&mcp, "needs-mcp"));
        assert!(!skipped(&mcp, "needs-mcp-supabase-audience"));
        assert!(skipped(&mcp, "needs-mcp-resource-audience"));
        assert!(skipped(&mcp, "needs-mcp-pat"));
        let mcp_resource = req(|r| {
            r.profile.mcp.enabled = true;
            r.profile.mcp.audience_mode = crate::profile::mcp::AudienceMode::Resource;
        });
        assert!(!skipped(&mcp_resource, "needs-mcp-resource-audience"));
        assert!(skipped(&mcp_resource, "needs-mcp-supabase-audience"));
        assert!(default.check(&["needs-magic".to_owned()]).is_err());
        assert_eq!(
            default.check(&["P0".to_owned(), "A01".to_owned()]).unwrap(),
            None
        );
    }

    #[test]
    fn timeout_tags() {
        assert_eq!(scenario_timeout(&["P0".into()]).unwrap(), None);
        assert_eq!(
            scenario_timeout(&["timeout(2m)".into()]).unwrap(),
            Some(std::time::Duration::from_secs(120))
        );
        assert!(scenario_timeout(&["timeout".into()]).is_err());
        assert!(scenario_timeout(&["timeout(0s)".into()]).is_err());
        assert!(scenario_timeout(&["timeout(2m".into()]).is_err());
        assert_eq!(scenario_timeout(&["timeouts".into()]).unwrap(), None);
    }

    #[test]
    fn tag_expressions() {
        let op = parse_tags("@a and not (@b or @c)").unwrap();
        assert!(op.eval(["a"].iter()));
        assert!(!op.eval(["a", "c"].iter()));
        assert!(parse_tags("@a and").is_err());
    }
}
