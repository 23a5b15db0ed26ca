//! Property-based checks run by the runner after the scenarios, against the same target
//! (proptest, bounded, replayable by seed).
//!
//! - **Mutation** ([`token_mutation`]): valid tokens minted by the issuer (ES256, RS256 and, when the
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
mod harness;
pub mod token_mutation;

use cucumber::gherkin::tagexpr::TagOperation;
use std::time::{Duration, Instant};

use cucumber::tag::Ext as _;
use futures::future::LocalBoxFuture;

use crate::context::RunContext;
use crate::report::{Failure, FeatureReport, ScenarioReport, Status};
use crate::run::PostPhase;
use harness::Harness;

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
