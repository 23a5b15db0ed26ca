//! A self-contained HTML report (`run --html FILE`): one file with inline CSS, no script and
//! no external asset, so it can be attached to a CI run or mailed as it is.
//!
//! Content: the run's facts, the severity summary (failed scenarios per severity, and which
//! of them fail the run under `--fail-on`), the grouped findings ([`super::group`]) with
//! critical ones first (and each critical scenario answered 2xx named `ACCEPTED …`), every
//! evidence block in `<pre>`, then suite errors, expected failures, unexpected passes and
//! skips, and the closing line.
//!
//! Everything that comes from the run is HTML-escaped ([`escape`]): the evidence holds
//! attacker-controlled bytes (forged headers, reflected bodies).

use std::fmt::Write as _;

use super::group::{self, Group};
use super::{RunReport, Status};
use crate::severity::Severity;

const STYLE: &str = "
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1f23;line-height:1.4}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}
.meta td,.meta th{text-align:left}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all;font-size:.85rem}
.group{border-left:6px solid #8c959f;padding:.2rem .8rem;margin:1rem 0}
.critical{border-color:#a40e26}.high{border-color:#d1242f}.medium{border-color:#bf8700}.low{border-color:#8c959f}
.badge{display:inline-block;font-weight:700;font-size:.75rem;padding:.05rem .4rem;border-radius:.3rem;color:#fff;background:#8c959f}
.badge.critical{background:#a40e26}.badge.high{background:#d1242f}.badge.medium{background:#9a6700}
.banner{background:#a40e26;color:#fff;padding:1rem;font-size:1.2rem;font-weight:700;margin-top:1.5rem}
.accepted{color:#a40e26;font-weight:700}
.muted{color:#57606a}
.closing{font-weight:700;font-size:1.1rem;margin-top:2rem}
ul.names{margin:.3rem 0;padding-left:1.2rem}
";

/// `s` with `& < > " '` escaped (safe in element content and quoted attributes).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Renders the report as one HTML document.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    let m = &report.meta;
    let c = report.counts();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>xauth conformance: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&report.closing_line())
    );
    let _ = writeln!(out, "<h1>xauth conformance report</h1>");
    let _ = writeln!(out, "<table class=\"meta\">");
    let mut fact = |k: &str, v: &str| {
        let _ = writeln!(out, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v));
    };
    fact("target", &m.target);
    if let Some(s) = &m.spawn {
        fact("spawned with", s);
    }
    fact("profile", &m.profile_name);
    fact("issuer", &m.issuer);
    fact("started", &m.started_at);
    fact("--fail-on", m.fail_on.as_str());
    if let Some(t) = &m.tags {
        fact("--tags", t);
    }
    fact("xauth-conformance", &m.tool_version);
    let _ = writeln!(out, "</table>");

    // Severity summary.
    let _ = writeln!(out, "<h2>Severity summary</h2>");
    let _ = writeln!(
        out,
        "<table><tr><th>severity</th><th>failed scenarios</th><th>fails the run</th></tr>"
    );
    for s in Severity::DESCENDING {
        let n = c.failed_by_severity.get(s);
        let _ = writeln!(
            out,
            "<tr><td><span class=\"badge {s}\">{}</span></td><td>{n}</td><td>{}</td></tr>",
            s.as_str().to_uppercase(),
            if s >= m.fail_on {
                "yes"
            } else {
                "no (below --fail-on)"
            }
        );
    }
    let _ = writeln!(out, "</table>");
    let _ = writeln!(
        out,
        "<table><tr><th>feature</th><th>passed</th><th>failed</th><th>skipped</th></tr>"
    );
    for f in &report.features {
        let fc = report.feature_counts(f);
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&f.file),
            fc.passed,
            fc.failed,
            fc.skipped
        );
    }
    let _ = writeln!(out, "</table>");

    // Findings.
    let groups = group::groups(report);
    let critical: Vec<&Group<'_>> = groups
        .iter()
        .filter(|g| g.status == Status::Failed && g.severity == Severity::Critical)
        .collect();
    if !critical.is_empty() {
        let accepted: Vec<_> = critical
            .iter()
            .filter(|g| g.accepted())
            .flat_map(|g| g.members.iter())
            .collect();
        let total: usize = critical.iter().map(|g| g.members.len()).sum();
        if accepted.is_empty() {
            let _ = writeln!(
                out,
                "<div class=\"banner\">CRITICAL: {total} critical scenario(s) failed (the checks that keep forged and unauthorized tokens out)</div>"
            );
        } else {
            let _ = writeln!(
                out,
                "<div class=\"banner\">CRITICAL: the implementation ACCEPTED tokens it must reject ({} accepted)</div>\n<ul>",
                accepted.len()
            );
            for mm in accepted {
                let _ = writeln!(
                    out,
                    "<li class=\"accepted\">ACCEPTED {} <span class=\"muted\">({}:{})</span></li>",
                    escape(&mm.scenario.name),
                    escape(&mm.feature.file),
                    mm.scenario.line
                );
            }
            let _ = writeln!(out, "</ul>");
        }
        for g in &critical {
            group_html(&mut out, report, g);
        }
    }
    let others: Vec<&Group<'_>> = groups
        .iter()
        .filter(|g| g.status == Status::Failed && g.severity != Severity::Critical)
        .collect();
    if !others.is_empty() {
        let _ = writeln!(out, "<h2>Failures</h2>");
        for g in others {
            group_html(&mut out, report, g);
        }
    }
    let errors: Vec<&Group<'_>> = groups
        .iter()
        .filter(|g| g.status == Status::Error)
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(
            out,
            "<h2>Suite errors</h2>\n<p class=\"muted\">The suite could not judge these: not a verdict on the target, but nothing was proven.</p>"
        );
        for g in errors {
            group_html(&mut out, report, g);
        }
    }
    listing(
        &mut out,
        report,
        Status::ExpectedFailure,
        "Expected failures (--expect-fail)",
    );
    listing(
        &mut out,
        report,
        Status::UnexpectedPass,
        "Unexpectedly passed (listed in --expect-fail)",
    );
    listing(&mut out, report, Status::Skipped, "Skipped");
    if let Some(why) = &report.aborted {
        let _ = writeln!(out, "<h2>Run stopped early</h2>\n<p>{}</p>", escape(why));
    }
    let _ = writeln!(
        out,
        "<p class=\"closing\">{}</p>\n</body>\n</html>",
        escape(&report.closing_line())
    );
    out
}

fn group_html(out: &mut String, report: &RunReport, g: &Group<'_>) {
    let sev = g.severity.as_str();
    let n = g.members.len();
    let _ = writeln!(out, "<div class=\"group {sev}\">");
    let below = if g.fails_run || g.status == Status::Error {
        String::new()
    } else {
        format!(
            " <span class=\"muted\">(below --fail-on {}: not failing the run)</span>",
            report.meta.fail_on
        )
    };
    let _ = writeln!(
        out,
        "<h3><span class=\"badge {sev}\">{}</span> {n} scenario{}: {}{below}</h3>",
        sev.to_uppercase(),
        if n == 1 { "" } else { "s" },
        escape(&g.summary())
    );
    let _ = writeln!(out, "<ul class=\"names\">");
    for m in &g.members {
        let _ = writeln!(
            out,
            "<li>{}{} <span class=\"muted\">({}:{})</span></li>",
            if g.accepted() {
                "<span class=\"accepted\">ACCEPTED</span> "
            } else {
                ""
            },
            escape(&format!("{} :: {}", m.feature.name, m.scenario.name)),
            escape(&m.feature.file),
            m.scenario.line
        );
    }
    let _ = writeln!(out, "</ul>");
    if let Some(f) = g.failure() {
        let _ = writeln!(
            out,
            "<p class=\"muted\">Evidence{}: step <code>{}</code></p>\n<pre>{}</pre>",
            if n > 1 { " of the first" } else { "" },
            escape(&f.step),
            escape(&f.message)
        );
    }
    let _ = writeln!(out, "</div>");
}

fn listing(out: &mut String, report: &RunReport, status: Status, title: &str) {
    let items: Vec<_> = report
        .scenarios()
        .filter(|(_, s)| s.status == status)
        .collect();
    if items.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<h2>{} ({})</h2>\n<details><summary>show</summary>\n<ul>",
        escape(title),
        items.len()
    );
    for (f, s) in items {
        let _ = writeln!(
            out,
            "<li>{} <span class=\"muted\">({}:{}){}</span></li>",
            escape(&format!("{} :: {}", f.name, s.name)),
            escape(&f.file),
            s.line,
            s.skip_reason
                .as_deref()
                .map(|r| format!(": {}", escape(r)))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(out, "</ul>\n</details>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::Observed;
    use crate::report::{Failure, ScenarioReport};
    use std::time::Duration;

    #[test]
    fn attacker_bytes_come_out_escaped() {
        let hostile = "<script>alert('x')</script>&\"";
        let r = crate::report::group::tests::report(
            vec![ScenarioReport {
                name: format!("kid {hostile}"),
                line: 3,
                tags: vec!["critical".into()],
                status: Status::Failed,
                duration: Duration::ZERO,
                failure: Some(Failure {
                    step: format!("Then {hostile} (line 5)"),
                    message: format!("response body: {hostile}"),
                    expectation: Some(hostile.into()),
                    observed: Some(Observed {
                        status: Some(200),
                        code: Some(hostile.into()),
                        body_shape: hostile.into(),
                    }),
                }),
                skip_reason: None,
            }],
            Severity::Medium,
        );
        let html = render(&r);
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"));
        assert!(html.contains("ACCEPTED tokens it must reject"), "{html}");
        assert!(
            !html.contains("src=") && !html.contains("href="),
            "no external asset"
        );
    }
}
