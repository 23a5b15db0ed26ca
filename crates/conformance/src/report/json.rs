//! The JSON report (`--json FILE`), shape `xauth-conformance/report/v1`, stable: fields are
//! only ever added.
//!
//! ```text
//! {
//!   "schema": "xauth-conformance/report/v1",
//!   "run": { "tool_version", "started_at" (RFC 3339), "duration_ms", "target", "spawn"|null,
//!            "profile_file"|null, "profile_name", "issuer", "issuer_in_process", "tags"|null,
//!            "features_origin", "expect_fail_file"|null, "strict_expect_fail",
//!            "fail_on": "critical"|"high"|"medium"|"low" },
//!   "summary": { "passed", "failed", "skipped", "errors", "expected_failures", "unexpected_passes",
//!                "below_fail_on", "failed_by_severity": {"critical","high","medium","low"},
//!                "total", "exit_code" },
//!   "aborted": null | "why the run stopped early",
//!   "unused_expect_fail": ["entry", …],
//!   "groups": [ { "status": "failed"|"error", "severity", "fails_run", "accepted",
//!                 "expectation"|null, "key", "observed": null | {"status"|null, "code"|null,
//!                 "body_shape"}, "summary", "count",
//!                 "scenarios": [ {"feature", "file", "line", "name"} ],
//!                 "step"|null, "evidence"|null } ],
//!   "features": [ { "name", "file", "passed", "failed", "skipped",
//!                   "scenarios": [ { "name", "line", "tags": […], "severity", "status",
//!                                    "fails_run", "duration_ms",
//!                                    "failure": null | {"step", "message", "expectation"|null,
//!                                                       "observed"|null},
//!                                    "skip_reason": null | "…" } ] } ]
//! }
//! ```
//! `status` ∈ `passed`, `failed`, `error` (a suite error: the suite could not judge),
//! `skipped`, `expected_failure`, `unexpected_pass`. The counts follow the closing line:
//! `failed` counts what fails the run: verdict failures at or above `fail_on` and suite errors
//! (also in `errors`); verdict failures below `fail_on` keep status `failed` with `fails_run`
//! false and count in `below_fail_on` only; expected failures count in `expected_failures`
//! only (no longer in `skipped`); unexpected passes as passed (as failed under
//! `--strict-expect-fail`). `failed_by_severity` counts every scenario with status `failed`.
//! `groups` folds failures with one root cause (`report::group`: same status, severity,
//! expectation and observed answer), critical first; `evidence` is the first member's full
//! message. The mutation gate reads this file: a defect is caught by the scenarios whose
//! `status` is `failed` (never `error`), whatever their severity.

use serde_json::{Value, json};

use super::RunReport;

/// The schema identifier.
pub const SCHEMA: &str = "xauth-conformance/report/v1";

/// Renders the report as a JSON value.
pub fn to_value(report: &RunReport) -> Value {
    let c = report.counts();
    let mut run = serde_json::to_value(&report.meta).unwrap_or(Value::Null);
    if let Some(o) = run.as_object_mut() {
        o.insert(
            "duration_ms".to_owned(),
            json!(report.meta.duration.as_millis() as u64),
        );
    }
    let features: Vec<Value> = report
        .features
        .iter()
        .map(|f| {
            let fc = report.feature_counts(f);
            json!({
                "name": f.name,
                "file": f.file,
                "passed": fc.passed,
                "failed": fc.failed,
                "skipped": fc.skipped,
                "scenarios": f.scenarios.iter().map(|s| json!({
                    "name": s.name,
                    "line": s.line,
                    "tags": s.tags,
                    "severity": s.severity(),
                    "status": s.status.as_str(),
                    "fails_run": report.fails_run(s),
                    "duration_ms": s.duration.as_millis() as u64,
                    "failure": s.failure,
                    "skip_reason": s.skip_reason,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "schema": SCHEMA,
        "run": run,
        "summary": {
            "passed": c.passed,
            "failed": c.failed,
            "skipped": c.skipped,
            "errors": c.errors,
            "expected_failures": c.expected_failures,
            "unexpected_passes": c.unexpected_passes,
            "below_fail_on": c.below_fail_on,
            "failed_by_severity": c.failed_by_severity,
            "total": report.features.iter().map(|f| f.scenarios.len()).sum::<usize>(),
            "exit_code": report.exit_code(),
        },
        "aborted": report.aborted,
        "unused_expect_fail": report.unused_expect_fail,
        "groups": super::group::groups(report)
            .iter()
            .map(super::group::Group::to_json)
            .collect::<Vec<_>>(),
        "features": features,
    })
}

/// Renders the report as pretty JSON text.
pub fn render(report: &RunReport) -> String {
    let mut s = serde_json::to_string_pretty(&to_value(report)).unwrap_or_default();
    s.push('\n');
    s
}
