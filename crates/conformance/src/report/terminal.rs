//! The terminal report, in this order:
//!
//! 1. the summary table: per feature, passed / failed (failing the run) / skipped, and the
//!    verdict failures per severity;
//! 2. **critical** failures first, under a banner: each critical scenario answered 2xx as
//!    `ACCEPTED <scenario name>`, then their groups with evidence;
//! 3. the other failures, grouped ([`super::group`]): one evidence block per group, every
//!    scenario named; groups below `--fail-on` say so;
//! 4. suite errors (grouped), expected failures, unexpected passes, unused `--expect-fail`
//!    entries, skips, an early stop;
//! 5. one line each for failures below `--fail-on` and expected failures, then the closing
//!    line `N passed, N failed, N skipped` (always the last line; CI parses it).

use std::fmt::Write as _;

use super::group::{self, Group, NAMES_SHOWN};
use super::{RunReport, Status};
use crate::severity::Severity;

/// Renders everything after the progress lines.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    summary(&mut out, report);
    let groups = group::groups(report);
    let verdicts: Vec<&Group<'_>> = groups
        .iter()
        .filter(|g| g.status == Status::Failed)
        .collect();
    critical(&mut out, report, &verdicts);
    let others: Vec<&Group<'_>> = verdicts
        .iter()
        .copied()
        .filter(|g| g.severity != Severity::Critical)
        .collect();
    if !others.is_empty() {
        let n: usize = others.iter().map(|g| g.members.len()).sum();
        let _ = writeln!(
            out,
            "\nFailures ({n} in {} group{}; --fail-on {})",
            others.len(),
            plural(others.len()),
            report.meta.fail_on
        );
        for g in others {
            group_block(&mut out, report, g);
        }
    }
    let errors: Vec<&Group<'_>> = groups
        .iter()
        .filter(|g| g.status == Status::Error)
        .collect();
    if !errors.is_empty() {
        let n: usize = errors.iter().map(|g| g.members.len()).sum();
        let _ = writeln!(
            out,
            "\nSuite errors ({n}; the suite could not judge these: not a verdict on the target, but nothing was proven)"
        );
        for g in errors {
            group_block(&mut out, report, g);
        }
    }
    rest(&mut out, report);
    closing(&mut out, report);
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn summary(out: &mut String, report: &RunReport) {
    let width = report
        .features
        .iter()
        .map(|f| f.file.len())
        .max()
        .unwrap_or(7)
        .max(7);
    let _ = writeln!(
        out,
        "\nSummary ({} against {}; --fail-on {})",
        report.meta.profile_name, report.meta.target, report.meta.fail_on
    );
    let _ = writeln!(
        out,
        "  {:<width$}  {:>6}  {:>6}  {:>7}  {:>8}  {:>4}  {:>6}  {:>3}",
        "feature", "passed", "failed", "skipped", "critical", "high", "medium", "low"
    );
    let row = |out: &mut String, name: &str, c: &super::Counts| {
        let by = &c.failed_by_severity;
        let _ = writeln!(
            out,
            "  {name:<width$}  {:>6}  {:>6}  {:>7}  {:>8}  {:>4}  {:>6}  {:>3}",
            c.passed, c.failed, c.skipped, by.critical, by.high, by.medium, by.low
        );
    };
    for f in &report.features {
        row(out, &f.file, &report.feature_counts(f));
    }
    if report.features.len() > 1 {
        row(out, "total", &report.counts());
    }
    let _ = writeln!(
        out,
        "  (critical … low: failed scenarios by severity, those below --fail-on included)"
    );
}

fn critical(out: &mut String, report: &RunReport, verdicts: &[&Group<'_>]) {
    let groups: Vec<&Group<'_>> = verdicts
        .iter()
        .copied()
        .filter(|g| g.severity == Severity::Critical)
        .collect();
    if groups.is_empty() {
        return;
    }
    let total: usize = groups.iter().map(|g| g.members.len()).sum();
    let accepted: Vec<_> = groups
        .iter()
        .filter(|g| g.accepted())
        .flat_map(|g| g.members.iter())
        .collect();
    let heading = if accepted.is_empty() {
        // Not "no token was accepted": a failure without an observed answer (a property, a
        // timeout) may hide one.
        format!(
            "CRITICAL: {total} critical scenario{} failed (the checks that keep forged and \
             unauthorized tokens out)",
            plural(total)
        )
    } else {
        format!(
            "CRITICAL: the implementation ACCEPTED tokens it must reject ({} accepted{})",
            accepted.len(),
            match total - accepted.len() {
                0 => String::new(),
                n => format!(", {n} other critical failure{}", plural(n)),
            }
        )
    };
    let bar = "=".repeat(heading.chars().count().min(100));
    let _ = writeln!(out, "\n{bar}\n{heading}\n{bar}");
    for m in &accepted {
        let _ = writeln!(
            out,
            "  ACCEPTED {}  ({}:{})",
            m.scenario.name, m.feature.file, m.scenario.line
        );
    }
    for g in groups {
        group_block(out, report, g);
    }
}

/// One group: a header line, every scenario (up to [`NAMES_SHOWN`]), the first failure's step
/// and full evidence.
fn group_block(out: &mut String, report: &RunReport, g: &Group<'_>) {
    let n = g.members.len();
    let below = if g.fails_run || g.status == Status::Error {
        String::new()
    } else {
        format!(
            "; below --fail-on {}: not failing the run",
            report.meta.fail_on
        )
    };
    let _ = writeln!(
        out,
        "\n  [{}{below}] {n} scenario{}: {}",
        g.severity.as_str().to_uppercase(),
        plural(n),
        g.summary()
    );
    if let Some(o) = &g.observed
        && o.status.is_some()
        && !o.body_shape.is_empty()
    {
        let _ = writeln!(out, "    body shape: {}", o.body_shape);
    }
    for m in g.members.iter().take(NAMES_SHOWN) {
        let _ = writeln!(out, "  ✗ {}", m.label());
    }
    if n > NAMES_SHOWN {
        let _ = writeln!(out, "    … and {} more", n - NAMES_SHOWN);
    }
    if let Some(fail) = g.failure() {
        if n > 1 {
            let _ = writeln!(
                out,
                "    evidence of the first ({}):",
                g.first().scenario.name
            );
        }
        let _ = writeln!(out, "    step: {}", fail.step);
        for line in fail.message.lines() {
            let _ = writeln!(out, "    | {line}");
        }
    }
}

fn rest(out: &mut String, report: &RunReport) {
    let strict = report.meta.strict_expect_fail;
    let with = |status: Status| -> Vec<_> {
        report
            .scenarios()
            .filter(|(_, s)| s.status == status)
            .collect()
    };
    let expected = with(Status::ExpectedFailure);
    if !expected.is_empty() {
        let _ = writeln!(
            out,
            "\nExpected failures ({}; listed in --expect-fail; they do not fail the run)",
            expected.len()
        );
        for (f, s) in expected {
            let _ = writeln!(
                out,
                "\n  ✗ {} :: {}  ({}:{})",
                f.name, s.name, f.file, s.line
            );
            if let Some(fail) = &s.failure {
                let _ = writeln!(out, "    step: {}", fail.step);
            }
        }
    }
    let unexpected = with(Status::UnexpectedPass);
    if !unexpected.is_empty() {
        let _ = writeln!(
            out,
            "\nUnexpectedly passed ({}; listed in --expect-fail: remove the entries{})",
            unexpected.len(),
            if strict {
                "; --strict-expect-fail: this fails the run"
            } else {
                ""
            }
        );
        for (f, s) in unexpected {
            let _ = writeln!(out, "  ! {} :: {}  ({}:{})", f.name, s.name, f.file, s.line);
        }
    }
    if !report.unused_expect_fail.is_empty() {
        let _ = writeln!(
            out,
            "\n--expect-fail entries that match no scenario ({}{})",
            report.unused_expect_fail.len(),
            if strict {
                "; --strict-expect-fail: this fails the run"
            } else {
                ""
            }
        );
        for e in &report.unused_expect_fail {
            let _ = writeln!(out, "  ? {e}");
        }
    }
    let skipped = with(Status::Skipped);
    if !skipped.is_empty() {
        let _ = writeln!(out, "\nSkipped ({})", skipped.len());
        for (f, s) in skipped {
            let _ = writeln!(
                out,
                "  - {} :: {}: {}",
                f.name,
                s.name,
                s.skip_reason.as_deref().unwrap_or("skipped")
            );
        }
    }
    if let Some(why) = &report.aborted {
        let _ = writeln!(out, "\nRun stopped early: {why}");
    }
}

fn closing(out: &mut String, report: &RunReport) {
    let c = report.counts();
    let mut notes = Vec::new();
    if c.below_fail_on > 0 {
        notes.push(format!(
            "{} failed below --fail-on {} (not failing the run)",
            c.below_fail_on, report.meta.fail_on
        ));
    }
    if c.expected_failures > 0 {
        notes.push(format!(
            "{} expected failure{} (--expect-fail)",
            c.expected_failures,
            plural(c.expected_failures)
        ));
    }
    if c.errors > 0 {
        notes.push(format!(
            "{} suite error{} (counted as failed)",
            c.errors,
            plural(c.errors)
        ));
    }
    if c.unexpected_passes > 0 {
        notes.push(format!(
            "{} unexpected pass{} (counted as {})",
            c.unexpected_passes,
            if c.unexpected_passes == 1 { "" } else { "es" },
            if report.meta.strict_expect_fail {
                "failed: --strict-expect-fail"
            } else {
                "passed"
            }
        ));
    }
    if !notes.is_empty() {
        out.push('\n');
        for n in notes {
            let _ = writeln!(out, "{n}");
        }
    }
    let _ = writeln!(out, "\n{}", report.closing_line());
}
