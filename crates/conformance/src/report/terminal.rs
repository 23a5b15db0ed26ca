//! The terminal report: summary table, failures, expected failures, unexpected passes, skips,
//! and the closing line `N passed, N failed, N skipped` (always the last line).

use std::fmt::Write as _;

use super::{RunReport, Status};

/// Renders everything after the progress lines.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    let strict = report.meta.strict_expect_fail;
    let width = report
        .features
        .iter()
        .map(|f| f.file.len())
        .max()
        .unwrap_or(7)
        .max(7);
    let _ = writeln!(
        out,
        "\nSummary ({} against {})",
        report.meta.profile_name, report.meta.target
    );
    let _ = writeln!(
        out,
        "  {:<width$}  {:>6}  {:>6}  {:>7}",
        "feature", "passed", "failed", "skipped"
    );
    for f in &report.features {
        let c = f.counts(strict);
        let _ = writeln!(
            out,
            "  {:<width$}  {:>6}  {:>6}  {:>7}",
            f.file, c.passed, c.failed, c.skipped
        );
    }

    let section = |out: &mut String, title: &str, status: Status, with_text: bool| {
        let items: Vec<_> = report
            .features
            .iter()
            .flat_map(|f| f.scenarios.iter().map(move |s| (f, s)))
            .filter(|(_, s)| s.status == status)
            .collect();
        if items.is_empty() {
            return;
        }
        let _ = writeln!(out, "\n{title} ({})", items.len());
        for (f, s) in items {
            let _ = writeln!(
                out,
                "\n  ✗ {} :: {}  ({}:{})",
                f.name, s.name, f.file, s.line
            );
            if let Some(fail) = &s.failure {
                let _ = writeln!(out, "    step: {}", fail.step);
                if with_text {
                    for line in fail.message.lines() {
                        let _ = writeln!(out, "    | {line}");
                    }
                }
            }
        }
    };
    section(&mut out, "Failures", Status::Failed, true);
    section(
        &mut out,
        "Suite errors (the suite could not judge these: not a verdict on the target, but nothing was proven)",
        Status::Error,
        true,
    );
    section(
        &mut out,
        "Expected failures (listed in --expect-fail; they do not fail the run)",
        Status::ExpectedFailure,
        false,
    );

    let unexpected: Vec<_> = report
        .features
        .iter()
        .flat_map(|f| f.scenarios.iter().map(move |s| (f, s)))
        .filter(|(_, s)| s.status == Status::UnexpectedPass)
        .collect();
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
    let skipped: Vec<_> = report
        .features
        .iter()
        .flat_map(|f| f.scenarios.iter().map(move |s| (f, s)))
        .filter(|(_, s)| s.status == Status::Skipped)
        .collect();
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
    let c = report.counts();
    if c.expected_failures > 0 || c.unexpected_passes > 0 || c.errors > 0 {
        let _ = writeln!(
            out,
            "\n({} suite errors counted as failed, {} expected failures counted as skipped, {} unexpected passes)",
            c.errors, c.expected_failures, c.unexpected_passes
        );
    }
    let _ = writeln!(out, "\n{}", report.closing_line());
    out
}
