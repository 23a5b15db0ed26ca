//! Property-based checks run by the runner after the scenarios, against the same target
//! (proptest, bounded, replayable by seed).
//!
//! - **Mutation** ([`mutation`]): valid tokens minted by the issuer (ES256, RS256 and, when the
//!   profile enables legacy HS256, HS256), mutated so that no correct implementation may accept
//!   them (bit flips, segment swaps, re-encodings, truncations, header and claim edits keeping
//!   the old signature), always get `401 UNAUTHENTICATED`: never 2xx, never 5xx, never a hang.
//! - **Differential** ([`differential`]): random claim sets and headers signed with the issuer's
//!   real keys get exactly the status and code that `xauth-verifier` (configured like the
//!   profile: issuer, leeway, legacy secret) plus the profile's route policy predicts.
//!
//! Both are reported as scenarios of a feature named [`FEATURE_NAME`], so they count in the
//! closing line, the JUnit and JSON reports and the mutation gate. A failure is shrunk to a
//! minimal input and shown with the seed, the token, the request, the response and a `curl`
//! reproduction. The case count is bounded (`--properties-cases`), every request by the
//! per-request timeout and each property by the scenario timeout.
//!
//! Each property uses its own fresh subject, and on loopback targets the requests are spread
//! over fresh source addresses (`127.1.x.y`) so that per-IP rate limits never interfere; on
//! other targets the number of requests is kept under half the declared limits.
//!
//! ```no_run
//! # fn f(ctx: &xauth_conformance::context::RunContext) {
//! use xauth_conformance::properties::{self, PropertiesConfig};
//! // blocking: call it from a plain thread or `spawn_blocking`, never on an async task
//! let feature = properties::run_properties(ctx, &PropertiesConfig { cases: 32, seed: Some(7), ..Default::default() });
//! assert!(feature.scenarios.iter().all(|s| s.failure.is_none()));
//! # }
//! ```

pub mod differential;
pub mod mutation;

use cucumber::gherkin::tagexpr::TagOperation;
use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use cucumber::tag::Ext as _;
use futures::future::LocalBoxFuture;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde_json::{Map, Value};
use sha2::Digest as _;

use crate::context::RunContext;
use crate::evidence::{self, Exchange, Secrets};
use crate::http::TargetClient;
use crate::issuer_client::{IssuerClient, MintRequest};
use crate::report::{Failure, FeatureReport, ScenarioReport, Status};
use crate::runner::PostPhase;
use differential::{Family, Route};

/// The feature name the properties are reported under.
pub const FEATURE_NAME: &str = "Properties (proptest)";
/// The pseudo file name of that feature.
pub const FEATURE_FILE: &str = "properties";
/// Name of the mutation property's scenario (stable: the mutation gate reports it).
pub const MUTATION_NAME: &str = "Mutated valid tokens are always 401 UNAUTHENTICATED";
/// Name of the differential property's scenario (stable).
pub const DIFFERENTIAL_NAME: &str =
    "Random claim sets get exactly the verdict xauth-verifier and the profile predict";

/// How the properties run.
#[derive(Debug, Clone)]
pub struct PropertiesConfig {
    /// Cases per property (before shrinking). Default 64.
    pub cases: u32,
    /// The seed (`None`: a random one, printed).
    pub seed: Option<u64>,
    /// Bound on the shrinking steps of a failure (each is one request). Default 256.
    pub max_shrink_iters: u32,
    /// Print nothing (the seed is still in every failure message).
    pub quiet: bool,
    /// The run's `--tags` expression: a property runs only when its tags match.
    pub tags: Option<String>,
    /// `--strict`: an expired, genuinely signed token that is also wrong in another way must
    /// be UNAUTHENTICATED; by default TOKEN_EXPIRED is accepted for it too (it is authentic:
    /// see features/expiry.feature).
    pub strict: bool,
}

impl Default for PropertiesConfig {
    fn default() -> Self {
        Self {
            cases: 64,
            seed: None,
            max_shrink_iters: 256,
            quiet: true,
            tags: None,
            strict: false,
        }
    }
}

/// The runner's post phase that runs the properties on a blocking thread.
#[derive(Debug, Clone)]
pub struct PropertiesPhase {
    config: PropertiesConfig,
}

impl PropertiesPhase {
    /// A phase with this configuration.
    pub fn new(config: PropertiesConfig) -> Self {
        Self { config }
    }
}

impl PostPhase for PropertiesPhase {
    fn name(&self) -> &str {
        "properties"
    }

    fn selected_by(&self, tags: &TagOperation) -> bool {
        selects(tags, TAGS_MUTATION) || selects(tags, TAGS_DIFFERENTIAL)
    }

    fn run<'a>(&'a self, ctx: &'a RunContext) -> LocalBoxFuture<'a, Vec<FeatureReport>> {
        let ctx = ctx.clone();
        let config = self.config.clone();
        Box::pin(async move {
            match tokio::task::spawn_blocking(move || run_properties(&ctx, &config)).await {
                Ok(f) if f.scenarios.is_empty() => Vec::new(),
                Ok(f) => vec![f],
                Err(e) => vec![FeatureReport {
                    name: FEATURE_NAME.into(),
                    file: FEATURE_FILE.into(),
                    scenarios: vec![errored(
                        MUTATION_NAME,
                        1,
                        &["properties", "mutation"],
                        format!("suite error: the properties thread failed: {e}"),
                    )],
                }],
            }
        })
    }
}

fn errored(name: &str, line: usize, tags: &[&str], message: String) -> ScenarioReport {
    ScenarioReport {
        name: name.into(),
        line,
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        status: Status::Error,
        duration: Duration::ZERO,
        failure: Some(Failure {
            step: "property setup".into(),
            message,
            ..Failure::default()
        }),
        skip_reason: None,
    }
}

/// The tags of the mutation property.
const TAGS_MUTATION: &[&str] = &["properties", "mutation"];
/// The tags of the differential property.
const TAGS_DIFFERENTIAL: &[&str] = &["properties", "differential"];

/// Whether `op` selects a property tagged `tags`.
fn selects(op: &TagOperation, tags: &[&str]) -> bool {
    op.eval(
        tags.iter()
            .map(|t| (*t).to_owned())
            .collect::<Vec<_>>()
            .iter(),
    )
}

/// Runs the selected properties against `ctx.target` and returns their feature report (no
/// scenarios when `--tags` selects none). Blocking: it drives its own small runtime, so it must
/// not be called from an async task (use `spawn_blocking`).
pub fn run_properties(ctx: &RunContext, config: &PropertiesConfig) -> FeatureReport {
    let mut feature = FeatureReport {
        name: FEATURE_NAME.into(),
        file: FEATURE_FILE.into(),
        scenarios: Vec::new(),
    };
    let selected = |tags: &[&str]| match &config.tags {
        None => true,
        Some(expr) => crate::plan::parse_tags(expr)
            .map(|op| selects(&op, tags))
            .unwrap_or(true),
    };
    let (run_mut, run_diff) = (selected(TAGS_MUTATION), selected(TAGS_DIFFERENTIAL));
    if !run_mut && !run_diff {
        return feature;
    }
    let seed = config.seed.unwrap_or_else(rand::random);
    if !config.quiet {
        println!(
            "properties: {} cases each, seed {seed} (replay: --properties-seed {seed})",
            config.cases
        );
    }
    let harness = match Harness::new(ctx, config, seed) {
        Ok(h) => h,
        Err(e) => {
            let msg = format!("suite error: cannot start the properties: {e}");
            if run_mut {
                feature
                    .scenarios
                    .push(errored(MUTATION_NAME, 1, TAGS_MUTATION, msg.clone()));
            }
            if run_diff {
                feature
                    .scenarios
                    .push(errored(DIFFERENTIAL_NAME, 2, TAGS_DIFFERENTIAL, msg));
            }
            return feature;
        }
    };
    let started = Instant::now();
    let bases = harness.base_tokens();
    let base_time = started.elapsed();
    if run_mut {
        let t = Instant::now();
        let mut s = harness.mutation_property(&bases);
        s.duration = t.elapsed() + base_time;
        feature.scenarios.push(s);
    }
    if run_diff {
        let t = Instant::now();
        let mut s = harness.differential_property(&bases);
        s.duration = t.elapsed();
        feature.scenarios.push(s);
    }
    feature
}

/// A valid token of one key family, accepted by the target (or the evidence that it was not).
struct Base {
    family: Family,
    /// The mint `key` selector.
    selector: String,
    token: String,
    /// The exchange showing the target accepted it (or refused it).
    exchange: Exchange,
    accepted: bool,
}

/// Distinct loopback source addresses 127.1.x.y (the scenarios use 127.0.x.y).
fn next_source() -> IpAddr {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let i = NEXT.fetch_add(1, Ordering::Relaxed);
    let x = (i / 254) % 254;
    let y = 1 + i % 254;
    IpAddr::V4(Ipv4Addr::new(127, 1, x as u8, y as u8))
}

/// Hands out a client, switching to a fresh source address every `per_source` requests.
struct Sources {
    client: Option<TargetClient>,
    used: usize,
    per_source: usize,
    loopback: bool,
    timeout: Duration,
    target: url::Url,
}

impl Sources {
    fn client(&mut self) -> Result<TargetClient, String> {
        if self.client.is_none() || (self.loopback && self.used >= self.per_source) {
            let source = self.loopback.then(next_source);
            self.client = Some(
                TargetClient::new(&self.target, self.timeout, source).map_err(|e| e.to_string())?,
            );
            self.used = 0;
        }
        self.used += 1;
        self.client.clone().ok_or_else(|| "no client".to_owned())
    }
}

/// What a case expects.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Accepted,
    Error(u16, &'static str),
    /// 401 with UNAUTHENTICATED or TOKEN_EXPIRED: an authentic but expired token that is also
    /// wrong in another way (the default reading of error precedence).
    Refused401,
}

impl Expect {
    fn describe(&self, pointer: &str) -> String {
        match self {
            Expect::Accepted => "a 2xx answer".into(),
            Expect::Error(s, c) => format!("{s} with error code {c} at {pointer}"),
            Expect::Refused401 => {
                format!("401 with error code UNAUTHENTICATED or TOKEN_EXPIRED at {pointer}")
            }
        }
    }
}

/// Why a property failed: the report's message and, for a verdict, the target's answer as data
/// (so the report can group it and say ACCEPTED when a mutated token got a 2xx).
#[derive(Debug)]
struct Refusal {
    message: String,
    observed: Option<crate::failure::Observed>,
}

impl From<String> for Refusal {
    fn from(message: String) -> Self {
        Self {
            message,
            observed: None,
        }
    }
}

impl From<&str> for Refusal {
    fn from(message: &str) -> Self {
        message.to_owned().into()
    }
}

/// A recorded failure of one case.
struct CaseFailure {
    input: String,
    recipe: Vec<String>,
    expectation: String,
    exchange: Exchange,
}

struct Harness {
    rt: tokio::runtime::Runtime,
    ctx: RunContext,
    issuer: IssuerClient,
    secrets: Secrets,
    sources: RefCell<Sources>,
    seed: u64,
    cases: u32,
    max_shrink_iters: u32,
    families: Vec<Family>,
    strict: bool,
}

impl Harness {
    fn new(ctx: &RunContext, config: &PropertiesConfig, seed: u64) -> Result<Self, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("runtime: {e}"))?;
        let issuer = IssuerClient::new(
            &ctx.issuer.base_url,
            &ctx.issuer.control_key,
            ctx.timeouts.request,
        )
        .map_err(|e| e.to_string())?;
        let secrets = Secrets::of_run(ctx);
        // Rate limits: stay under half of every declared limit per source address (loopback)
        // or in total (elsewhere, where the source cannot change).
        let rl = &ctx.profile.rate_limit;
        let mut limit = usize::MAX;
        if rl.enabled {
            if rl.ip.enabled {
                limit = limit.min(rl.ip.requests.get() as usize);
            }
            if rl.keying == crate::profile::RateLimitKeying::Ip {
                limit = limit.min(rl.requests.get() as usize);
            }
        }
        let half = (limit / 2).max(1);
        let (cases, max_shrink_iters) = if ctx.loopback_sources || limit == usize::MAX {
            (config.cases, config.max_shrink_iters)
        } else {
            // two properties, each with its cases and shrinking, plus a few base requests
            let per_property = (half.saturating_sub(8) / 2).max(2) as u32;
            (
                config.cases.min(per_property / 2).max(1),
                config.max_shrink_iters.min(per_property / 2),
            )
        };
        let mut families = vec![Family::Es256, Family::Rs256];
        if ctx.profile.legacy_hs256 && ctx.issuer.jwt_secret.is_some() {
            families.push(Family::Hs256);
        }
        Ok(Self {
            rt,
            ctx: ctx.clone(),
            issuer,
            secrets,
            sources: RefCell::new(Sources {
                client: None,
                used: 0,
                per_source: half,
                loopback: ctx.loopback_sources,
                timeout: ctx.timeouts.request,
                target: ctx.target.clone(),
            }),
            seed,
            cases: cases.max(1),
            max_shrink_iters,
            families,
            strict: config.strict,
        })
    }

    fn runner(&self, property: &str) -> TestRunner {
        let mut h = sha2::Sha256::new();
        h.update(self.seed.to_le_bytes());
        h.update(property.as_bytes());
        let seed: [u8; 32] = h.finalize().into();
        let config = Config {
            cases: self.cases,
            max_shrink_iters: self.max_shrink_iters,
            max_shrink_time: 0,
            failure_persistence: None,
            max_global_rejects: 4096,
            max_local_rejects: 4096,
            fork: false,
            timeout: 0,
            verbose: 0,
            ..Config::default()
        };
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed))
    }

    fn send(&self, path: &str, token: &str) -> Exchange {
        let url = self.ctx.target_url(path);
        let client = match self.sources.borrow_mut().client() {
            Ok(c) => c,
            Err(e) => {
                return Exchange {
                    method: "GET".into(),
                    url: url.to_string(),
                    request_headers: Vec::new(),
                    token: Some(token.to_owned()),
                    outcome: Err(format!("suite error: cannot build the HTTP client: {e}")),
                    elapsed: Duration::ZERO,
                };
            }
        };
        self.rt.block_on(client.send(
            reqwest::Method::GET,
            url,
            vec![(
                "authorization".into(),
                format!("Bearer {token}").into_bytes(),
            )],
            Some(token.to_owned()),
        ))
    }

    fn meets(&self, ex: &Exchange, expect: &Expect) -> bool {
        let Ok(r) = &ex.outcome else { return false };
        let code = || {
            r.json().and_then(|b| {
                self.ctx
                    .profile
                    .error_code_pointer
                    .lookup(&b)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
        };
        match expect {
            Expect::Accepted => (200..300).contains(&r.status),
            Expect::Error(status, want) => r.status == *status && code().as_deref() == Some(*want),
            Expect::Refused401 => {
                r.status == 401
                    && matches!(code().as_deref(), Some("UNAUTHENTICATED" | "TOKEN_EXPIRED"))
            }
        }
    }

    fn mint(&self, req: &MintRequest) -> Result<String, String> {
        self.rt
            .block_on(self.issuer.mint(req))
            .map(|m| m.token)
            .map_err(|e| e.to_string())
    }

    /// Mint `key` selectors to try for a family, best first.
    fn selectors(&self, family: Family) -> Result<Vec<String>, String> {
        if family == Family::Hs256 {
            return Ok(vec!["legacy".into()]);
        }
        let keys = self
            .rt
            .block_on(self.issuer.keys())
            .map_err(|e| e.to_string())?;
        let rank = |s: &str| match s {
            "current" => 0,
            "standby" => 1,
            "previous" => 2,
            _ => 9,
        };
        let mut ks: Vec<_> = keys
            .into_iter()
            .filter(|k| k.alg == family.alg() && rank(&k.state) < 9)
            .collect();
        ks.sort_by_key(|k| rank(&k.state));
        Ok(ks.into_iter().map(|k| k.kid).collect())
    }

    /// One valid token per family, checked against the target (a fresh subject for them all).
    fn base_tokens(&self) -> Vec<Result<Base, String>> {
        let subject = uuid::Uuid::new_v4().to_string();
        let mut out = Vec::new();
        for &family in &self.families {
            let selectors = match self.selectors(family) {
                Ok(s) if s.is_empty() => {
                    out.push(Err(format!("the issuer publishes no {} key", family.alg())));
                    continue;
                }
                Ok(s) => s,
                Err(e) => {
                    out.push(Err(e));
                    continue;
                }
            };
            let mut first_refusal: Option<Base> = None;
            let mut found = None;
            for selector in selectors.into_iter().take(3) {
                let mut claims = Map::new();
                claims.insert("sub".into(), Value::String(subject.clone()));
                let req = MintRequest {
                    key: Some(selector.clone()),
                    claims: Some(claims),
                    ..MintRequest::default()
                };
                let token = match self.mint(&req) {
                    Ok(t) => t,
                    Err(e) => {
                        found = Some(Err(e));
                        break;
                    }
                };
                let exchange = self.send(self.ctx.profile.routes.protected.as_str(), &token);
                let accepted = self.meets(&exchange, &Expect::Accepted);
                let base = Base {
                    family,
                    selector,
                    token,
                    exchange,
                    accepted,
                };
                if accepted {
                    found = Some(Ok(base));
                    break;
                }
                first_refusal.get_or_insert(base);
            }
            out.push(match (found, first_refusal) {
                (Some(r), _) => r,
                (None, Some(b)) => Ok(b),
                (None, None) => Err(format!("no {} key to mint with", family.alg())),
            });
        }
        out
    }

    fn header_line(&self, cases_run: u32, seed_note: &str) -> String {
        format!(
            "property failed (seed {}, {} cases{seed_note}; replay: --properties-seed {} --properties-cases {})",
            self.seed, cases_run, self.seed, self.cases
        )
    }

    fn failure_message(&self, f: &CaseFailure, error: &str) -> String {
        format!(
            "{}\nminimal failing input (after shrinking): {}\nproptest: {error}\n{}",
            self.header_line(self.cases, ""),
            f.input,
            evidence::failure_report(&f.expectation, &f.recipe, &[&f.exchange], &self.secrets)
        )
    }

    fn scenario(
        &self,
        name: &str,
        line: usize,
        tags: &[&str],
        result: Result<(), Refusal>,
    ) -> ScenarioReport {
        let (status, failure) = match result {
            Ok(()) => (Status::Passed, None),
            Err(Refusal { message, observed }) => (
                if message.starts_with(crate::report::SUITE_ERROR_PREFIX) {
                    Status::Error
                } else {
                    Status::Failed
                },
                Some(Failure {
                    step: format!("property: {name}"),
                    message,
                    observed,
                    ..Failure::default()
                }),
            ),
        };
        ScenarioReport {
            name: name.into(),
            line,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            status,
            duration: Duration::ZERO,
            failure,
            skip_reason: None,
        }
    }

    /// Usable bases, or the failure to report (a valid token refused, or a suite error).
    fn usable<'b>(&self, bases: &'b [Result<Base, String>]) -> Result<Vec<&'b Base>, String> {
        let mut usable = Vec::new();
        for b in bases {
            match b {
                Ok(b) if b.accepted => usable.push(b),
                Ok(b) => {
                    return Err(format!(
                        "a valid {} token minted by the issuer (the property's starting point) was not accepted\n{}",
                        b.family.alg(),
                        evidence::failure_report(
                            "a 2xx answer (a valid, unmutated token)",
                            &[format!("minted by the issuer with key {}", b.selector)],
                            &[&b.exchange],
                            &self.secrets
                        )
                    ));
                }
                Err(e) => return Err(format!("suite error: {e}")),
            }
        }
        Ok(usable)
    }

    fn deadline(&self) -> Instant {
        Instant::now() + self.ctx.timeouts.scenario
    }

    fn mutation_property(&self, bases: &[Result<Base, String>]) -> ScenarioReport {
        let tags = &["properties", "mutation"];
        let result = self
            .usable(bases)
            .map_err(Refusal::from)
            .and_then(|usable| {
                if usable.is_empty() {
                    return Err("suite error: no key family to mint with".into());
                }
                let path = self.ctx.profile.routes.protected.as_str();
                let expect = Expect::Error(401, "UNAUTHENTICATED");
                let expectation = format!(
                    "{} (the token was mutated so that no correct implementation accepts it)",
                    expect.describe(self.ctx.profile.error_code_pointer.as_str())
                );
                let last: RefCell<Option<CaseFailure>> = RefCell::new(None);
                let deadline = self.deadline();
                let timed_out = RefCell::new(false);
                let n = usable.len();
                let strategy = (0..n, mutation::mutation());
                let mut runner = self.runner("mutation");
                let outcome = runner.run(&strategy, |(i, m)| {
                    if Instant::now() >= deadline {
                        *timed_out.borrow_mut() = true;
                        return Ok(());
                    }
                    let base = usable[i];
                    let Some(token) = m.apply(&base.token, base.family.alg()) else {
                        return Ok(()); // an equivalent of a valid token: not a mutation
                    };
                    let ex = self.send(path, &token);
                    if self.meets(&ex, &expect) {
                        return Ok(());
                    }
                    *last.borrow_mut() = Some(CaseFailure {
                        input: format!("{} base token, {m:?}", base.family.alg()),
                        recipe: vec![
                            format!("a valid {} token minted by the issuer", base.family.alg()),
                            format!("mutated: {m:?}"),
                        ],
                        expectation: expectation.clone(),
                        exchange: ex,
                    });
                    Err(TestCaseError::fail("wrong verdict"))
                });
                self.conclude(outcome, &last, &timed_out)
            });
        self.scenario(MUTATION_NAME, 1, tags, result)
    }

    fn conclude<V: std::fmt::Debug>(
        &self,
        outcome: Result<(), TestError<V>>,
        last: &RefCell<Option<CaseFailure>>,
        timed_out: &RefCell<bool>,
    ) -> Result<(), Refusal> {
        let outcome = match outcome {
            Err(TestError::Fail(reason, _)) => match last.borrow_mut().take() {
                Some(f) if !f.input.starts_with("suite error") && f.exchange.outcome.is_ok() => {
                    return Err(Refusal {
                        message: self.failure_message(&f, &reason.to_string()),
                        observed: Some(crate::failure::Observed::of_exchange(
                            &f.exchange,
                            &self.ctx.profile.error_code_pointer,
                        )),
                    });
                }
                other => {
                    *last.borrow_mut() = other;
                    Err(TestError::Fail(reason, ()))
                }
            },
            Err(TestError::Abort(reason)) => Err(TestError::Abort(reason)),
            Ok(()) => Ok(()),
        };
        self.conclude_text(outcome, last, timed_out)
            .map_err(Refusal::from)
    }

    fn conclude_text(
        &self,
        outcome: Result<(), TestError<()>>,
        last: &RefCell<Option<CaseFailure>>,
        timed_out: &RefCell<bool>,
    ) -> Result<(), String> {
        match outcome {
            Ok(()) if *timed_out.borrow() => Err(format!(
                "the property did not finish within the scenario timeout of {:.0} s (seed {})",
                self.ctx.timeouts.scenario.as_secs_f64(),
                self.seed
            )),
            Ok(()) => Ok(()),
            Err(TestError::Fail(reason, _)) => match last.borrow_mut().take() {
                Some(f) if f.input.starts_with("suite error") => Err(f.input),
                Some(f)
                    if f.exchange
                        .outcome
                        .as_ref()
                        .is_err_and(|e| e.starts_with("suite error")) =>
                {
                    Err(format!(
                        "suite error: {}",
                        self.failure_message(&f, &reason.to_string())
                    ))
                }
                Some(f) => Err(self.failure_message(&f, &reason.to_string())),
                None => Err(format!("{}: {reason}", self.header_line(self.cases, ""))),
            },
            Err(TestError::Abort(reason)) => Err(format!(
                "suite error: proptest aborted: {reason} (seed {})",
                self.seed
            )),
        }
    }

    fn differential_property(&self, bases: &[Result<Base, String>]) -> ScenarioReport {
        let tags = &["properties", "differential"];
        let result = self.usable(bases).map_err(Refusal::from).and_then(|usable| {
            let families: Vec<Family> = usable.iter().map(|b| b.family).collect();
            if families.is_empty() {
                return Err("suite error: no key family to mint with".into());
            }
            let selector = |f: Family| {
                usable
                    .iter()
                    .find(|b| b.family == f)
                    .map(|b| b.selector.clone())
                    .unwrap_or_default()
            };
            let oracle = self.oracle()?;
            let issuer_iss = self.ctx.issuer.auth_url().as_str().trim_end_matches('/').to_owned();
            let leeway = self.ctx.profile.leeway_seconds as i64;
            let perm = &self.ctx.profile.routes.permission;
            let (grant, lack) = (perm.grant_claims.clone(), perm.lack_claims.clone());
            let grant_for_policy = grant.clone();
            let permission_policy = xauth_verifier::Policy::any().and_claim(
                "the profile's routes.permission.grant_claims",
                move |c| {
                    grant_for_policy
                        .iter()
                        .all(|(k, v)| c.raw.get(k) == Some(v))
                },
            );
            let pointer = self.ctx.profile.error_code_pointer.as_str().to_owned();
            let last: RefCell<Option<CaseFailure>> = RefCell::new(None);
            let deadline = self.deadline();
            let timed_out = RefCell::new(false);
            let mut runner = self.runner("differential");
            let outcome = runner.run(&differential::claim_case(families), |case| {
                if Instant::now() >= deadline {
                    *timed_out.borrow_mut() = true;
                    return Ok(());
                }
                let now = crate::world::now_unix();
                let (header, claims) = case.build(now, leeway, &issuer_iss, &grant, &lack);
                let req = MintRequest {
                    key: Some(selector(case.family)),
                    header: Some(header),
                    claims: Some(claims.clone()),
                    ..MintRequest::default()
                };
                let token = match self.mint(&req) {
                    Ok(t) => t,
                    Err(e) => {
                        *last.borrow_mut() = Some(CaseFailure {
                            input: format!("suite error: the issuer refused to mint {case:?}: {e}"),
                            recipe: Vec::new(),
                            expectation: String::new(),
                            exchange: self.no_exchange(),
                        });
                        return Err(TestCaseError::fail("mint failed"));
                    }
                };
                let expect = match self.rt.block_on(oracle.verify(&token)) {
                    Err(xauth_verifier::Rejection::KeysUnavailable) => {
                        *last.borrow_mut() = Some(CaseFailure {
                            input: "suite error: the oracle could not fetch the issuer's JWKS".into(),
                            recipe: Vec::new(),
                            expectation: String::new(),
                            exchange: self.no_exchange(),
                        });
                        return Err(TestCaseError::fail("oracle"));
                    }
                    // Every token here is genuinely signed by the issuer: an expired one is
                    // authentic, so unless --strict its other faults may be answered
                    // TOKEN_EXPIRED too (exp checked first, as mainstream libraries do).
                    Err(rej)
                        if !self.strict
                            && matches!(case.exp, differential::Exp::Past(_))
                            && rej.outcome() == xauth_verifier::Outcome::Unauthenticated =>
                    {
                        (
                            Expect::Refused401,
                            format!(
                                "xauth-verifier rejects it ({}); it is also expired, and authentic, so TOKEN_EXPIRED is accepted too without --strict",
                                rej.reason()
                            ),
                        )
                    }
                    Err(rej) => (
                        Expect::Error(401, rej.outcome().code()),
                        format!("xauth-verifier rejects it ({})", rej.reason()),
                    ),
                    Ok(verified) => match case.route {
                        Route::Protected => (
                            Expect::Accepted,
                            "xauth-verifier accepts it; any valid user token may read the protected route".into(),
                        ),
                        _ => match permission_policy.check(&verified) {
                            Ok(()) => (
                                Expect::Accepted,
                                "xauth-verifier accepts it and it carries the profile's grant_claims".into(),
                            ),
                            Err(_) => (
                                Expect::Error(403, "FORBIDDEN"),
                                "xauth-verifier accepts it but it lacks the profile's grant_claims".into(),
                            ),
                        },
                    },
                };
                let path = match case.route {
                    Route::Protected => self.ctx.profile.routes.protected.as_str(),
                    _ => perm.path.as_str(),
                };
                let ex = self.send(path, &token);
                if self.meets(&ex, &expect.0) {
                    return Ok(());
                }
                *last.borrow_mut() = Some(CaseFailure {
                    input: format!("{case:?}"),
                    recipe: vec![format!(
                        "minted by the issuer ({}) with header members {} and claims {}",
                        case.family.alg(),
                        Value::Object(req.header.clone().unwrap_or_default()),
                        Value::Object(claims)
                    )],
                    expectation: format!("{} ({})", expect.0.describe(&pointer), expect.1),
                    exchange: ex,
                });
                Err(TestCaseError::fail("wrong verdict"))
            });
            self.conclude(outcome, &last, &timed_out)
        });
        self.scenario(DIFFERENTIAL_NAME, 2, tags, result)
    }

    fn no_exchange(&self) -> Exchange {
        Exchange {
            method: "GET".into(),
            url: self.ctx.target.to_string(),
            request_headers: Vec::new(),
            token: None,
            outcome: Err("suite error: no request sent".into()),
            elapsed: Duration::ZERO,
        }
    }

    /// The reference verifier configured like the profile, pointed at the issuer's JWKS.
    fn oracle(&self) -> Result<xauth_verifier::Verifier, String> {
        let base = self
            .ctx
            .issuer
            .base_url
            .as_str()
            .trim_end_matches('/')
            .to_owned();
        let mut config = xauth_verifier::VerifierConfig::supabase(&base)
            .map_err(|e| format!("suite error: oracle configuration: {e}"))?
            .leeway(Duration::from_secs(self.ctx.profile.leeway_seconds));
        if self.families.contains(&Family::Hs256)
            && let Some(secret) = &self.ctx.issuer.jwt_secret
        {
            config = config.legacy_secret(secret.as_bytes().to_vec());
        }
        let _guard = self.rt.enter();
        let verifier = xauth_verifier::Verifier::new(config)
            .map_err(|e| format!("suite error: oracle: {e}"))?;
        self.rt
            .block_on(verifier.refresh_jwks())
            .map_err(|e| format!("suite error: the oracle cannot fetch the issuer's JWKS: {e}"))?;
        Ok(verifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_phase_is_selected_by_its_own_tags() {
        let phase = PropertiesPhase::new(PropertiesConfig::default());
        let selects = |expr: &str| phase.selected_by(&crate::plan::parse_tags(expr).unwrap());
        assert!(selects("@properties"));
        assert!(selects("@differential"));
        assert!(selects("@mutation and not @differential"));
        assert!(selects("@algorithms or @properties"));
        assert!(!selects("@algorithms"));
        assert!(!selects("not @properties"));
    }
}
