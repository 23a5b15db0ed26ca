//! The properties' harness: the target and issuer clients, the valid base tokens, sending and
//! judging one case, and turning proptest's outcome into a scenario report. (Just over 500
//! lines: these pieces share the harness's runtime, clients and seed; apart they would pass
//! them back and forth.)

use std::cell::RefCell;
use std::time::{Duration, Instant};

use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};
use serde_json::{Map, Value};
use sha2::Digest as _;

use super::PropertiesConfig;
use crate::context::RunContext;
use crate::net::control::{IssuerClient, MintRequest};
use crate::net::evidence::{self, Exchange, Secrets};
use crate::net::sources::{SourceBlock, next_source};
use crate::net::target::{TargetClient, TransportError};
use crate::report::{Failure, ScenarioReport, Status};
use crate::scenario::params::Family;
use crate::severity::Severity;

/// A valid token of one key family, accepted by the target (or the evidence that it was not).
pub(super) struct Base {
    pub(super) family: Family,
    /// The mint `key` selector.
    pub(super) selector: String,
    pub(super) token: String,
    /// The exchange showing the target accepted it (or refused it).
    pub(super) exchange: Exchange,
    pub(super) accepted: bool,
}

/// The property cases' clients: a new loopback source address (block 127.1) every
/// `per_source` requests.
pub(super) struct Sources {
    pub(super) client: Option<TargetClient>,
    pub(super) used: usize,
    pub(super) per_source: usize,
    pub(super) loopback: bool,
    pub(super) timeout: Duration,
    pub(super) target: url::Url,
}

impl Sources {
    pub(super) fn client(&mut self) -> Result<TargetClient, String> {
        if self.client.is_none() || (self.loopback && self.used >= self.per_source) {
            let source = self.loopback.then(|| next_source(SourceBlock::Properties));
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
pub(super) enum Expect {
    Accepted,
    Error(u16, &'static str),
    /// 401 with UNAUTHENTICATED or TOKEN_EXPIRED: an authentic but expired token that is also
    /// wrong in another way (the default reading of error precedence).
    Refused401,
}

impl Expect {
    pub(super) fn describe(&self, pointer: &str) -> String {
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
pub(super) struct Refusal {
    pub(super) message: String,
    pub(super) observed: Option<crate::failure::Observed>,
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
pub(super) struct CaseFailure {
    /// Whether the suite, not the target, failed this case (`input` then says how).
    pub(super) suite_error: bool,
    pub(super) input: String,
    pub(super) recipe: Vec<String>,
    pub(super) expectation: String,
    pub(super) exchange: Exchange,
}

pub(super) struct Harness {
    pub(super) rt: tokio::runtime::Runtime,
    pub(super) ctx: RunContext,
    pub(super) issuer: IssuerClient,
    pub(super) secrets: Secrets,
    pub(super) sources: RefCell<Sources>,
    pub(super) seed: u64,
    pub(super) cases: u32,
    pub(super) max_shrink_iters: u32,
    pub(super) families: Vec<Family>,
    pub(super) strict: bool,
}

impl Harness {
    pub(super) fn new(
        ctx: &RunContext,
        config: &PropertiesConfig,
        seed: u64,
    ) -> Result<Self, String> {
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
        let secrets = ctx.secrets();
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

    pub(super) fn runner(&self, property: &str) -> TestRunner {
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

    pub(super) fn send(&self, path: &str, token: &str) -> Exchange {
        let url = self.ctx.target_url(path);
        let client = match self.sources.borrow_mut().client() {
            Ok(c) => c,
            Err(e) => {
                return Exchange {
                    method: "GET".into(),
                    url: url.to_string(),
                    request_headers: Vec::new(),
                    token: Some(token.to_owned()),
                    outcome: Err(TransportError::Suite(format!(
                        "cannot build the HTTP client: {e}"
                    ))),
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

    pub(super) fn meets(&self, ex: &Exchange, expect: &Expect) -> bool {
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

    pub(super) fn mint(&self, req: &MintRequest) -> Result<String, String> {
        self.rt
            .block_on(self.issuer.mint(req))
            .map(|m| m.token)
            .map_err(|e| e.to_string())
    }

    /// Mint `key` selectors to try for a family, best first.
    pub(super) fn selectors(&self, family: Family) -> Result<Vec<String>, String> {
        if family == Family::Hs256 {
            return Ok(vec!["legacy".into()]);
        }
        let keys = self
            .rt
            .block_on(self.issuer.keys())
            .map_err(|e| e.to_string())?;
        let Ok(alg) = family.alg().parse() else {
            return Ok(Vec::new());
        };
        Ok(crate::net::control::published_keys(&keys, alg)
            .into_iter()
            .map(|k| k.kid.clone())
            .collect())
    }

    /// One valid token per family, checked against the target (a fresh subject for them all).
    pub(super) fn base_tokens(&self) -> Vec<Result<Base, String>> {
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

    pub(super) fn header_line(&self, cases_run: u32, seed_note: &str) -> String {
        format!(
            "property failed (seed {}, {} cases{seed_note}; replay: --properties-seed {} --properties-cases {})",
            self.seed, cases_run, self.seed, self.cases
        )
    }

    pub(super) fn failure_message(&self, f: &CaseFailure, error: &str) -> String {
        format!(
            "{}\nminimal failing input (after shrinking): {}\nproptest: {error}\n{}",
            self.header_line(self.cases, ""),
            f.input,
            evidence::failure_report(&f.expectation, &f.recipe, &[&f.exchange], &self.secrets)
        )
    }

    pub(super) fn scenario(
        &self,
        name: &str,
        line: usize,
        tags: &[&str],
        result: Result<(), Refusal>,
    ) -> ScenarioReport {
        // A property's severity follows what it caught: an acceptance of a token the oracle
        // (or the mutation) says must be refused is critical, a 5xx or no answer high, a wrong
        // status or code medium. Passing, it is as severe as what it guards (critical).
        let severity = match &result {
            Ok(()) => Severity::Critical,
            Err(Refusal { observed, .. }) => match observed.as_ref().and_then(|o| o.status) {
                Some(s) if (200..300).contains(&s) => Severity::Critical,
                Some(s) if s >= 500 => Severity::High,
                None if observed.is_some() => Severity::High,
                _ => Severity::Medium,
            },
        };
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
            tags: tags
                .iter()
                .map(|t| (*t).to_owned())
                .chain(std::iter::once(severity.as_str().to_owned()))
                .collect(),
            status,
            duration: Duration::ZERO,
            failure,
            skip_reason: None,
        }
    }

    /// Usable bases, or the failure to report (a valid token refused, or a suite error).
    pub(super) fn usable<'b>(
        &self,
        bases: &'b [Result<Base, String>],
    ) -> Result<Vec<&'b Base>, String> {
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

    pub(super) fn deadline(&self) -> Instant {
        Instant::now() + self.ctx.timeouts.scenario
    }

    pub(super) fn conclude<V: std::fmt::Debug>(
        &self,
        outcome: Result<(), TestError<V>>,
        last: &RefCell<Option<CaseFailure>>,
        timed_out: &RefCell<bool>,
    ) -> Result<(), Refusal> {
        let outcome = match outcome {
            Err(TestError::Fail(reason, _)) => match last.borrow_mut().take() {
                Some(f) if !f.suite_error && f.exchange.outcome.is_ok() => {
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

    pub(super) fn conclude_text(
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
                Some(f) if f.suite_error => Err(f.input),
                Some(f)
                    if f.exchange
                        .outcome
                        .as_ref()
                        .is_err_and(TransportError::is_suite_error) =>
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

    pub(super) fn no_exchange(&self) -> Exchange {
        Exchange {
            method: "GET".into(),
            url: self.ctx.target.to_string(),
            request_headers: Vec::new(),
            token: None,
            outcome: Err(TransportError::Suite("no request sent".into())),
            elapsed: Duration::ZERO,
        }
    }
}
