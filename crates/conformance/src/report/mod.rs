//! The outcome of a run and its renderings: terminal ([`terminal`]), JUnit XML ([`junit`]) and
//! JSON ([`json`]). [`collect`] builds it from cucumber's events.

pub mod collect;
pub mod json;
pub mod junit;
pub mod terminal;

use std::time::Duration;

use serde::Serialize;

/// The verdict on one scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every step passed.
    Passed,
    /// A step failed, a step is undefined, the scenario timed out or never ran.
    Failed,
    /// The suite itself could not judge (a step's message starts with
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

/// A step message starting with this is a suite error ([`Status::Error`]), not a verdict.
pub const SUITE_ERROR_PREFIX: &str = "suite error";

/// Why a scenario failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The failing step as written (`Then the response status is 401`), or a description of
    /// what failed when no step did (timeout, hook, not run).
    pub step: String,
    /// The step's message: request sent, response received, expectation, curl reproduction.
    pub message: String,
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

/// Scenario counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Passed (unexpected passes included unless strict).
    pub passed: usize,
    /// Failures that fail the run (suite errors included; unexpected passes included when
    /// strict).
    pub failed: usize,
    /// Of `failed`: suite errors.
    pub errors: usize,
    /// Skipped with a reason, plus expected failures.
    pub skipped: usize,
    /// Of `skipped`: expected failures.
    pub expected_failures: usize,
    /// Of `passed` (or of `failed` when strict): listed in --expect-fail but passed.
    pub unexpected_passes: usize,
}

impl FeatureReport {
    /// Counts of this feature's scenarios.
    pub fn counts(&self, strict: bool) -> Counts {
        let mut c = Counts::default();
        for s in &self.scenarios {
            match s.status {
                Status::Passed => c.passed += 1,
                Status::Failed => c.failed += 1,
                Status::Error => {
                    c.failed += 1;
                    c.errors += 1;
                }
                Status::Skipped => c.skipped += 1,
                Status::ExpectedFailure => {
                    c.skipped += 1;
                    c.expected_failures += 1;
                }
                Status::UnexpectedPass => {
                    c.unexpected_passes += 1;
                    if strict {
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
    /// Counts over all features.
    pub fn counts(&self) -> Counts {
        let mut total = Counts::default();
        for f in &self.features {
            let c = f.counts(self.meta.strict_expect_fail);
            total.passed += c.passed;
            total.failed += c.failed;
            total.errors += c.errors;
            total.skipped += c.skipped;
            total.expected_failures += c.expected_failures;
            total.unexpected_passes += c.unexpected_passes;
        }
        total
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
