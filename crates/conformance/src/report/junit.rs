//! JUnit XML (`--junit FILE`): one `<testsuite>` per feature file, one `<testcase>` per
//! scenario. Suite errors are `<error>`. Failures carry the failing step as `message` and the full text as the body;
//! skipped scenarios and expected failures are `<skipped>` (an expected failure's text goes to
//! `<system-out>`); an unexpected pass is a passing test case with a `<system-out>` note (a
//! `<failure>` under `--strict-expect-fail`). The output does not depend on `--fail-on`: a
//! failure below the threshold is still a `<failure>` (the test did fail; the exit status is
//! what gates).

use std::fmt::Write as _;

use super::{RunReport, Status};

/// Renders the report as JUnit XML.
pub fn render(report: &RunReport) -> String {
    let strict = report.meta.strict_expect_fail;
    // JUnit counts every failed test case and files expected failures under skipped.
    let failures = |c: &super::Counts| c.failed - c.errors + c.below_fail_on;
    let skipped = |c: &super::Counts| c.skipped + c.expected_failures;
    let total = report.counts();
    let tests: usize = report.features.iter().map(|f| f.scenarios.len()).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"xauth-conformance\" tests=\"{tests}\" failures=\"{}\" skipped=\"{}\" errors=\"{}\" time=\"{:.3}\">",
        failures(&total),
        skipped(&total),
        total.errors,
        report.meta.duration.as_secs_f64()
    );
    for f in &report.features {
        let c = report.feature_counts(f);
        let time: f64 = f.scenarios.iter().map(|s| s.duration.as_secs_f64()).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" file=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"{}\" time=\"{time:.3}\">",
            esc(&f.name),
            esc(&f.file),
            f.scenarios.len(),
            failures(&c),
            skipped(&c),
            c.errors
        );
        for s in &f.scenarios {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\" time=\"{:.3}\"",
                esc(&s.name),
                esc(&f.name),
                esc(&f.file),
                s.line,
                s.duration.as_secs_f64()
            );
            let failure_text = s
                .failure
                .as_ref()
                .map(|x| format!("{}\n\n{}", x.step, x.message))
                .unwrap_or_default();
            match s.status {
                Status::Passed => out.push_str("/>\n"),
                Status::Failed => {
                    let step = s.failure.as_ref().map(|x| x.step.as_str()).unwrap_or("");
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\" type=\"failure\">{}</failure>\n    </testcase>",
                        esc(step),
                        esc(&failure_text)
                    );
                }
                Status::Error => {
                    let step = s.failure.as_ref().map(|x| x.step.as_str()).unwrap_or("");
                    let _ = writeln!(
                        out,
                        ">\n      <error message=\"{}\" type=\"suite_error\">{}</error>\n    </testcase>",
                        esc(step),
                        esc(&failure_text)
                    );
                }
                Status::Skipped => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        esc(s.skip_reason.as_deref().unwrap_or("skipped"))
                    );
                }
                Status::ExpectedFailure => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"expected failure (--expect-fail)\"/>\n      <system-out>{}</system-out>\n    </testcase>",
                        esc(&failure_text)
                    );
                }
                Status::UnexpectedPass if strict => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"passed but listed in --expect-fail\" type=\"unexpected_pass\"/>\n    </testcase>"
                    );
                }
                Status::UnexpectedPass => {
                    let _ = writeln!(
                        out,
                        ">\n      <system-out>passed but listed in --expect-fail: remove the entry</system-out>\n    </testcase>"
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// XML-escapes text for attributes and bodies; drops characters XML 1.0 cannot carry.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes() {
        assert_eq!(
            super::esc("a<&>\"'\u{1}"),
            "a&lt;&amp;&gt;&quot;&apos;\\u{1}"
        );
    }
}
