//! The JSON report's one type, [`JsonReport`] (shape `xauth-conformance/report/v1`): built from
//! a [`RunReport`] by the writer ([`super::json`]) and read back by the mutation gate
//! ([`crate::gate`]), so the two cannot disagree about a field. Fields are only ever added;
//! reading tolerates absent fields (they take their defaults) and unknown ones.

use serde::{Deserialize, Serialize};

use super::group::Group;
use super::{BySeverity, Failure, RunReport, Status};
use crate::severity::Severity;

/// The schema identifier.
pub const SCHEMA: &str = "xauth-conformance/report/v1";

/// The whole JSON report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonReport {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Facts about the run.
    pub run: RunInfo,
    /// The counts of the closing line and more.
    pub summary: Summary,
    /// Why the run stopped early, if it did.
    pub aborted: Option<String>,
    /// `--expect-fail` entries that matched no scenario.
    pub unused_expect_fail: Vec<String>,
    /// Failures folded by root cause, critical first.
    pub groups: Vec<GroupEntry>,
    /// Features in file order.
    pub features: Vec<FeatureEntry>,
}

/// `run`: [`super::RunMeta`] plus the scenario phase's wall time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunInfo {
    /// `xauth-conformance` version.
    pub tool_version: String,
    /// When the scenarios started (RFC 3339, UTC).
    pub started_at: String,
    /// Wall time of the scenario phase, in milliseconds.
    pub duration_ms: u64,
    /// Target base URL.
    pub target: String,
    /// The `--spawn` command, if any.
    pub spawn: Option<String>,
    /// The profile file, if any.
    pub profile_file: Option<String>,
    /// The profile's `name`.
    pub profile_name: String,
    /// The issuer's base URL.
    pub issuer: String,
    /// Whether the issuer ran in-process.
    pub issuer_in_process: bool,
    /// The `--tags` expression.
    pub tags: Option<String>,
    /// `--features`, `repository` or `embedded`.
    pub features_origin: String,
    /// The `--expect-fail` file, if any.
    pub expect_fail_file: Option<String>,
    /// Whether unexpected passes and unused entries fail the run.
    pub strict_expect_fail: bool,
    /// `--fail-on`.
    pub fail_on: Severity,
}

/// `summary`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Summary {
    /// Passed.
    pub passed: usize,
    /// What fails the run (verdicts at or above `fail_on`, suite errors).
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
    /// Suite errors (also in `failed`).
    pub errors: usize,
    /// Expected failures.
    pub expected_failures: usize,
    /// Unexpected passes.
    pub unexpected_passes: usize,
    /// Verdict failures below `fail_on`.
    pub below_fail_on: usize,
    /// Every status `failed` per severity.
    pub failed_by_severity: BySeverity,
    /// Scenarios in the report.
    pub total: usize,
    /// The run's exit status.
    pub exit_code: i32,
}

/// One feature.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureEntry {
    /// `Feature: …`.
    pub name: String,
    /// The file, relative to the features directory.
    pub file: String,
    /// Passed.
    pub passed: usize,
    /// Failing the run.
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
    /// Scenarios in file order.
    pub scenarios: Vec<ScenarioEntry>,
}

impl FeatureEntry {
    /// The file without `.feature`, as the gate names scenarios (`claims :: …`).
    pub fn short_file(&self) -> &str {
        self.file.strip_suffix(".feature").unwrap_or(&self.file)
    }
}

/// One scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioEntry {
    /// Its name.
    pub name: String,
    /// 1-based line.
    #[serde(default)]
    pub line: usize,
    /// Tags without `@` (the feature's and rule's included).
    #[serde(default)]
    pub tags: Vec<String>,
    /// From its tags.
    #[serde(default)]
    pub severity: Severity,
    /// The verdict.
    pub status: Status,
    /// Whether it fails the run.
    #[serde(default)]
    pub fails_run: bool,
    /// Wall time in milliseconds.
    #[serde(default)]
    pub duration_ms: u64,
    /// Failure details.
    #[serde(default)]
    pub failure: Option<FailureEntry>,
    /// Skip reason.
    #[serde(default)]
    pub skip_reason: Option<String>,
}

impl ScenarioEntry {
    /// Its attack-catalogue rows (`A01` … tags).
    pub fn catalogue_rows(&self) -> impl Iterator<Item = &str> {
        self.tags
            .iter()
            .map(String::as_str)
            .filter(|t| super::is_catalogue_row(t))
    }
}

/// Why a scenario failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FailureEntry {
    /// The failing step as written.
    pub step: String,
    /// The step's message.
    pub message: String,
    /// What the step expected (a typed verdict).
    pub expectation: Option<String>,
    /// What the target answered (a typed verdict).
    pub observed: Option<ObservedEntry>,
}

/// What the target answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ObservedEntry {
    /// The HTTP status, if a response came.
    pub status: Option<u16>,
    /// The error code at the profile's pointer.
    pub code: Option<String>,
    /// The body's shape.
    pub body_shape: String,
}

/// One group of failures with one root cause.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupEntry {
    /// `failed` or `error`.
    pub status: Option<Status>,
    /// The members' severity.
    pub severity: Severity,
    /// Whether the members fail the run.
    pub fails_run: bool,
    /// Whether a token that must be rejected was accepted.
    pub accepted: bool,
    /// The shared expectation.
    pub expectation: Option<String>,
    /// The grouping key.
    pub key: String,
    /// The shared observed answer.
    pub observed: Option<ObservedEntry>,
    /// One line for the group.
    pub summary: String,
    /// Members.
    pub count: usize,
    /// The members.
    pub scenarios: Vec<GroupMember>,
    /// The first member's failing step.
    pub step: Option<String>,
    /// The first member's full message.
    pub evidence: Option<String>,
}

/// A member of a group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupMember {
    /// Its feature's name.
    pub feature: String,
    /// Its feature file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// Its name.
    pub name: String,
}

impl From<&Failure> for FailureEntry {
    fn from(f: &Failure) -> Self {
        Self {
            step: f.step.clone(),
            message: f.message.clone(),
            expectation: f.expectation.clone(),
            observed: f.observed.as_ref().map(observed),
        }
    }
}

fn observed(o: &crate::failure::Observed) -> ObservedEntry {
    ObservedEntry {
        status: o.status,
        code: o.code.clone(),
        body_shape: o.body_shape.clone(),
    }
}

impl From<&Group<'_>> for GroupEntry {
    fn from(g: &Group<'_>) -> Self {
        let failure = g.failure();
        Self {
            status: Some(g.status),
            severity: g.severity,
            fails_run: g.fails_run,
            accepted: g.accepted(),
            expectation: failure.and_then(|f| f.expectation.clone()),
            key: g.claim.clone(),
            observed: g.observed.as_ref().map(observed),
            summary: g.summary(),
            count: g.members.len(),
            scenarios: g
                .members
                .iter()
                .map(|m| GroupMember {
                    feature: m.feature.name.clone(),
                    file: m.feature.file.clone(),
                    line: m.scenario.line,
                    name: m.scenario.name.clone(),
                })
                .collect(),
            step: failure.map(|f| f.step.clone()),
            evidence: failure.map(|f| f.message.clone()),
        }
    }
}

impl JsonReport {
    /// The report of a run.
    pub fn of(report: &RunReport) -> Self {
        let c = report.counts();
        let m = &report.meta;
        Self {
            schema: SCHEMA.to_owned(),
            run: RunInfo {
                tool_version: m.tool_version.clone(),
                started_at: m.started_at.clone(),
                duration_ms: m.duration.as_millis() as u64,
                target: m.target.clone(),
                spawn: m.spawn.clone(),
                profile_file: m.profile_file.clone(),
                profile_name: m.profile_name.clone(),
                issuer: m.issuer.clone(),
                issuer_in_process: m.issuer_in_process,
                tags: m.tags.clone(),
                features_origin: m.features_origin.clone(),
                expect_fail_file: m.expect_fail_file.clone(),
                strict_expect_fail: m.strict_expect_fail,
                fail_on: m.fail_on,
            },
            summary: Summary {
                passed: c.passed,
                failed: c.failed,
                skipped: c.skipped,
                errors: c.errors,
                expected_failures: c.expected_failures,
                unexpected_passes: c.unexpected_passes,
                below_fail_on: c.below_fail_on,
                failed_by_severity: c.failed_by_severity,
                total: report.features.iter().map(|f| f.scenarios.len()).sum(),
                exit_code: report.exit_code(),
            },
            aborted: report.aborted.clone(),
            unused_expect_fail: report.unused_expect_fail.clone(),
            groups: super::group::groups(report)
                .iter()
                .map(GroupEntry::from)
                .collect(),
            features: report
                .features
                .iter()
                .map(|f| {
                    let fc = report.feature_counts(f);
                    FeatureEntry {
                        name: f.name.clone(),
                        file: f.file.clone(),
                        passed: fc.passed,
                        failed: fc.failed,
                        skipped: fc.skipped,
                        scenarios: f
                            .scenarios
                            .iter()
                            .map(|s| ScenarioEntry {
                                name: s.name.clone(),
                                line: s.line,
                                tags: s.tags.clone(),
                                severity: s.severity(),
                                status: s.status,
                                fails_run: report.fails_run(s),
                                duration_ms: s.duration.as_millis() as u64,
                                failure: s.failure.as_ref().map(FailureEntry::from),
                                skip_reason: s.skip_reason.clone(),
                            })
                            .collect(),
                    }
                })
                .collect(),
        }
    }

    /// Reads a JSON report.
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Every scenario with its feature, in report order.
    pub fn scenarios(&self) -> impl Iterator<Item = (&FeatureEntry, &ScenarioEntry)> {
        self.features
            .iter()
            .flat_map(|f| f.scenarios.iter().map(move |s| (f, s)))
    }
}
