//! The outcome of a run and its renderings: terminal ([`terminal`]), JUnit XML ([`junit`]),
//! JSON ([`json`]), SARIF 2.1.0 ([`sarif`]) and a self-contained HTML page ([`html`]).
//! [`collect`] builds it from cucumber's events; [`group`] folds failures with one root cause
//! into one finding.
//!
//! Severity gating (`--fail-on`, [`RunMeta::fail_on`]): a verdict failure of a scenario whose
//! severity ([`crate::severity`]) is below the threshold keeps its status `failed` (the mutation
//! gate still sees the catch) but does not count in the closing line's failed count nor in the
//! exit status; it is counted apart ([`Counts::below_fail_on`]). Suite errors always fail the
//! run.

pub mod collect;
pub mod group;
pub mod html;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod schema;
pub mod terminal;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::failure::Observed;
use crate::severity::Severity;

/// The verdict on one scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every step passed.
    Passed,
    /// A step failed, a step is undefined, the scenario timed out or never ran.
    Failed,
    /// The suite itself could not judge (the step raised a
    /// [`crate::failure::FailureKind::SuiteError`], or a text message starting with
    /// [`SUITE_ERROR_PREFIX`], e.g. the issuer refused a mint, or the World could not be
    /// created): not a verdict on the target,
    /// but it fails the run, since nothing was proven.
    Error,
    /// Not run, with a reason (a requirement the profile does not declare, or `@slow`).
    Skipped,
    /// Failed and listed in `--expect-fail`: does not fail the run.
    ExpectedFailure,
    /// Passed although listed in `--expect-fail`: a warning (fails the run only with
    /// `--strict-expect-fail`).
    UnexpectedPass,
}

impl Status {
    /// The snake_case name used in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Error => "error",
            Status::Skipped => "skipped",
            Status::ExpectedFailure => "expected_failure",
            Status::UnexpectedPass => "unexpected_pass",
        }
    }
}

/// A text step message (a plain panic, or the properties phase's message) starting with this
/// is a suite error ([`Status::Error`]), not a verdict. Steps raise
/// [`crate::failure::StepFailure::suite_error`] instead.
pub const SUITE_ERROR_PREFIX: &str = "suite error";

/// Why a scenario failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The failing step as written (`Then the response status is 401`), or a description of
    /// what failed when no step did (timeout, hook, not run).
    pub step: String,
    /// The step's message: request sent, response received, expectation, curl reproduction.
    pub message: String,
    /// What the step expected, when it raised a [`crate::failure::StepFailure`] verdict.
    pub expectation: Option<String>,
    /// What the target answered, when the step raised it as data.
    pub observed: Option<Observed>,
}

/// One scenario (one row of a scenario outline).
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    /// Name (outline rows whose names would repeat get their example values appended).
    pub name: String,
    /// 1-based line in the feature file (an outline row's line for outline rows).
    pub line: usize,
    /// Tags (without `@`), the feature's and rule's included.
    pub tags: Vec<String>,
    /// The verdict.
    pub status: Status,
    /// Wall time from the first to the last event.
    #[serde(skip)]
    pub duration: Duration,
    /// Failure details (failed, expected_failure).
    pub failure: Option<Failure>,
    /// Skip reason (skipped).
    pub skip_reason: Option<String>,
}

impl ScenarioReport {
    /// Its severity, from its tags (`medium` when it has no severity tag).
    pub fn severity(&self) -> Severity {
        Severity::of_tags(&self.tags)
    }

    /// Its attack-catalogue rows (`A01` … tags).
    pub fn catalogue_rows(&self) -> impl Iterator<Item = &str> {
        self.tags
            .iter()
            .map(String::as_str)
            .filter(|t| is_catalogue_row(t))
    }

    /// Whether its outcome fails the run under `--fail-on fail_on`
    /// (`strict_expect_fail`: unexpected passes fail it too).
    pub fn fails_run(&self, fail_on: Severity, strict_expect_fail: bool) -> bool {
        match self.status {
            Status::Failed => self.severity() >= fail_on,
            Status::Error => true,
            Status::UnexpectedPass => strict_expect_fail,
            Status::Passed | Status::Skipped | Status::ExpectedFailure => false,
        }
    }

    /// Whether it is a verdict failure below `--fail-on` (reported, not failing the run).
    pub fn below_fail_on(&self, fail_on: Severity) -> bool {
        self.status == Status::Failed && self.severity() < fail_on
    }

    /// Whether a critical scenario was answered 2xx: the implementation accepted a token it
    /// must reject.
    pub fn accepted_critical(&self) -> bool {
        self.status == Status::Failed
            && self.severity() == Severity::Critical
            && self
                .failure
                .as_ref()
                .and_then(|f| f.observed.as_ref())
                .is_some_and(Observed::accepted)
    }
}

/// Whether a tag (without `@`) names an attack-catalogue row: `A` and two digits.
pub fn is_catalogue_row(tag: &str) -> bool {
    tag.len() == 3 && tag.starts_with('A') && tag[1..].bytes().all(|b| b.is_ascii_digit())
}

/// One feature file.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureReport {
    /// The feature's name (`Feature: …`).
    pub name: String,
    /// The file, relative to the features directory.
    pub file: String,
    /// Scenarios in file order.
    pub scenarios: Vec<ScenarioReport>,
}

/// Verdict failures per severity (below `--fail-on` included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BySeverity {
    /// `@critical` scenarios.
    pub critical: usize,
    /// `@high` scenarios.
    pub high: usize,
    /// `@medium` scenarios (and those without a severity tag).
    pub medium: usize,
    /// `@low` scenarios.
    pub low: usize,
}

impl BySeverity {
    /// The count of one severity.
    pub fn get(&self, s: Severity) -> usize {
        match s {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
        }
    }

    fn slot(&mut self, s: Severity) -> &mut usize {
        match s {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
        }
    }

    fn add(&mut self, other: &BySeverity) {
        for s in Severity::DESCENDING {
            *self.slot(s) += other.get(s);
        }
    }
}

/// Scenario counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Passed (unexpected passes included unless strict).
    pub passed: usize,
    /// Failures that fail the run: verdict failures at or above `--fail-on`, suite errors,
    /// and unexpected passes when strict.
    pub failed: usize,
    /// Of `failed`: suite errors.
    pub errors: usize,
    /// Verdict failures below `--fail-on`: reported, not in `failed`.
    pub below_fail_on: usize,
    /// Skipped with a reason.
    pub skipped: usize,
    /// Failed and listed in `--expect-fail` (in no other count).
    pub expected_failures: usize,
    /// Of `passed` (or of `failed` when strict): listed in --expect-fail but passed.
    pub unexpected_passes: usize,
    /// Verdict failures (status `failed`) per severity, `below_fail_on` included.
    pub failed_by_severity: BySeverity,
}

impl Counts {
    fn add(&mut self, c: &Counts) {
        self.passed += c.passed;
        self.failed += c.failed;
        self.errors += c.errors;
        self.below_fail_on += c.below_fail_on;
        self.skipped += c.skipped;
        self.expected_failures += c.expected_failures;
        self.unexpected_passes += c.unexpected_passes;
        self.failed_by_severity.add(&c.failed_by_severity);
    }
}

impl FeatureReport {
    /// Counts of this feature's scenarios under `--fail-on fail_on`.
    pub fn counts(&self, strict_expect_fail: bool, fail_on: Severity) -> Counts {
        let mut c = Counts::default();
        for s in &self.scenarios {
            match s.status {
                Status::Passed => c.passed += 1,
                Status::Failed => {
                    *c.failed_by_severity.slot(s.severity()) += 1;
                    if s.below_fail_on(fail_on) {
                        c.below_fail_on += 1;
                    } else {
                        c.failed += 1;
                    }
                }
                Status::Error => {
                    c.failed += 1;
                    c.errors += 1;
                }
                Status::Skipped => c.skipped += 1,
                Status::ExpectedFailure => c.expected_failures += 1,
                Status::UnexpectedPass => {
                    c.unexpected_passes += 1;
                    if strict_expect_fail {
                        c.failed += 1;
                    } else {
                        c.passed += 1;
                    }
                }
            }
        }
        c
    }
}

/// Facts about the run.
#[derive(Debug, Clone, Serialize)]
pub struct RunMeta {
    /// `xauth-conformance` version.
    pub tool_version: String,
    /// When the scenarios started (RFC 3339, UTC).
    pub started_at: String,
    /// Wall time of the scenario phase.
    #[serde(skip)]
    pub duration: Duration,
    /// Target base URL.
    pub target: String,
    /// The `--spawn` command, if any.
    pub spawn: Option<String>,
    /// The profile file, if any (None = built-in default).
    pub profile_file: Option<String>,
    /// The profile's `name`.
    pub profile_name: String,
    /// The issuer's base URL.
    pub issuer: String,
    /// Whether the issuer ran in-process.
    pub issuer_in_process: bool,
    /// The `--tags` expression.
    pub tags: Option<String>,
    /// Where the feature files came from: `--features`, `repository` or `embedded`.
    pub features_origin: String,
    /// The `--expect-fail` file, if any.
    pub expect_fail_file: Option<String>,
    /// Whether unexpected passes and unused entries fail the run.
    pub strict_expect_fail: bool,
    /// The lowest severity whose failures fail the run (`--fail-on`).
    pub fail_on: Severity,
}

/// The whole outcome.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Facts about the run.
    pub meta: RunMeta,
    /// Features in file order.
    pub features: Vec<FeatureReport>,
    /// `--expect-fail` entries that matched no scenario.
    pub unused_expect_fail: Vec<String>,
    /// Why the run stopped early, if it did (scenarios that never returned).
    pub aborted: Option<String>,
}

impl RunReport {
    /// Counts of one feature under this run's `--fail-on` and `--strict-expect-fail`.
    pub fn feature_counts(&self, f: &FeatureReport) -> Counts {
        f.counts(self.meta.strict_expect_fail, self.meta.fail_on)
    }

    /// Counts over all features.
    pub fn counts(&self) -> Counts {
        let mut total = Counts::default();
        for f in &self.features {
            total.add(&self.feature_counts(f));
        }
        total
    }

    /// Whether `s` fails this run.
    pub fn fails_run(&self, s: &ScenarioReport) -> bool {
        s.fails_run(self.meta.fail_on, self.meta.strict_expect_fail)
    }

    /// Every scenario with its feature, in report order.
    pub fn scenarios(&self) -> impl Iterator<Item = (&FeatureReport, &ScenarioReport)> {
        self.features
            .iter()
            .flat_map(|f| f.scenarios.iter().map(move |s| (f, s)))
    }

    /// 0 when nothing fails the run, else 1.
    pub fn exit_code(&self) -> i32 {
        let c = self.counts();
        let unused_fails = self.meta.strict_expect_fail && !self.unused_expect_fail.is_empty();
        if c.failed > 0 || unused_fails || self.aborted.is_some() {
            1
        } else {
            0
        }
    }

    /// The closing line: `N passed, N failed, N skipped`.
    pub fn closing_line(&self) -> String {
        let c = self.counts();
        format!(
            "{} passed, {} failed, {} skipped",
            c.passed, c.failed, c.skipped
        )
    }
}
