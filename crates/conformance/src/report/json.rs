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
//! message. The one type behind this shape is [`JsonReport`] (`report::schema`); the mutation
//! gate reads the file back into it: a defect is caught by the scenarios whose `status` is
//! `failed` (never `error`), whatever their severity, tagged with a catalogue row the defect
//! declares.

use serde_json::Value;

use super::RunReport;
pub use super::schema::{JsonReport, SCHEMA};

/// Renders the report as a JSON value.
pub fn to_value(report: &RunReport) -> Value {
    serde_json::to_value(JsonReport::of(report)).unwrap_or(Value::Null)
}

/// Renders the report as pretty JSON text (through [`Value`], so members are sorted by name).
pub fn render(report: &RunReport) -> String {
    let mut s = serde_json::to_string_pretty(&to_value(report)).unwrap_or_default();
    s.push('\n');
    s
}
