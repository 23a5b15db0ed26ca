//! What one run produced ([`RunOutcome`], read back from its JSON report), the verdict on a
//! defect ([`Row`]: caught only by a failing scenario of the rows it declares) and the table.

use std::time::Duration;

use super::defects::Defect;
use crate::report::Status;
use crate::report::schema::JsonReport;

/// How many catching scenarios the table names before `(+N more)`.
const NAMES_SHOWN: usize = 3;

/// A scenario whose status is `failed` in a run's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedScenario {
    /// `feature-file :: scenario name`.
    pub name: String,
    /// Its tags (without `@`).
    pub tags: Vec<String>,
}

impl FailedScenario {
    /// Whether it is tagged with one of `rows`.
    pub fn in_rows(&self, rows: &[String]) -> bool {
        self.tags.iter().any(|t| rows.contains(t))
    }
}

/// The outcome of one suite run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// The run finished and wrote its report.
    Report {
        /// The process's exit status.
        exit_code: i32,
        /// Every scenario whose status is `failed`.
        failed: Vec<FailedScenario>,
        /// Scenarios whose status is `error` (suite errors).
        errors: Vec<String>,
        /// The closing line counts.
        closing: String,
    },
    /// The run could not judge (setup error, timeout, unreadable report).
    Broken(String),
}

/// The verdict on one defect (or the clean run).
#[derive(Debug, Clone)]
pub struct Row {
    /// The defect, or `None` for the clean run.
    pub defect: Option<Defect>,
    /// What the run produced.
    pub outcome: RunOutcome,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl Row {
    /// The defect's name, `(clean)` for the clean run.
    pub fn label(&self) -> &str {
        self.defect.as_ref().map_or("(clean)", |d| d.name.as_str())
    }

    /// The failing scenarios that count as catches: tagged with a row the defect declares.
    pub fn catches(&self) -> Vec<&FailedScenario> {
        match (&self.defect, &self.outcome) {
            (Some(d), RunOutcome::Report { failed, .. }) => {
                failed.iter().filter(|f| f.in_rows(&d.rows)).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The failing scenarios outside the declared rows (reported, not counted).
    pub fn also_failed(&self) -> Vec<&FailedScenario> {
        match (&self.defect, &self.outcome) {
            (Some(d), RunOutcome::Report { failed, .. }) => {
                failed.iter().filter(|f| !f.in_rows(&d.rows)).collect()
            }
            _ => Vec::new(),
        }
    }

    /// Whether this row is what the gate needs: the clean run passes, a defect is caught by a
    /// scenario of its declared rows.
    pub fn ok(&self) -> bool {
        match (&self.defect, &self.outcome) {
            (
                None,
                RunOutcome::Report {
                    exit_code,
                    failed,
                    errors,
                    ..
                },
            ) => *exit_code == 0 && failed.is_empty() && errors.is_empty(),
            (Some(_), RunOutcome::Report { .. }) => !self.catches().is_empty(),
            (_, RunOutcome::Broken(_)) => false,
        }
    }
}

/// Reads a JSON report ([`JsonReport`], `xauth-conformance/report/v1`) into a [`RunOutcome`].
///
/// ```
/// use xauth_conformance::gate::{read_report, RunOutcome};
/// let json = r#"{"summary":{"passed":1,"failed":1,"skipped":0,"exit_code":1},
///   "features":[{"name":"Claims","file":"claims.feature","scenarios":[
///     {"name":"a","status":"passed"},{"name":"b","status":"failed","tags":["A07"]}]}]}"#;
/// match read_report(json, 1) {
///     RunOutcome::Report { failed, .. } => {
///         assert_eq!(failed[0].name, "claims :: b");
///         assert_eq!(failed[0].tags, ["A07"]);
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
pub fn read_report(text: &str, exit_code: i32) -> RunOutcome {
    let report = match JsonReport::parse(text) {
        Ok(r) => r,
        Err(e) => return RunOutcome::Broken(format!("unreadable JSON report: {e}")),
    };
    let mut failed = Vec::new();
    let mut errors = Vec::new();
    for (f, s) in report.scenarios() {
        let name = format!("{} :: {}", f.short_file(), s.name);
        match s.status {
            Status::Failed => failed.push(FailedScenario {
                name,
                tags: s.tags.clone(),
            }),
            Status::Error => errors.push(name),
            _ => {}
        }
    }
    let sum = &report.summary;
    RunOutcome::Report {
        exit_code,
        failed,
        errors,
        closing: format!(
            "{} passed, {} failed, {} skipped",
            sum.passed, sum.failed, sum.skipped
        ),
    }
}

/// `N scenario(s): a; b; c (+N more)`.
fn named(list: &[&str]) -> String {
    let more = list.len().saturating_sub(NAMES_SHOWN);
    let more = if more > 0 {
        format!(" (+{more} more)")
    } else {
        String::new()
    };
    format!(
        "{} scenario{}: {}{more}",
        list.len(),
        if list.len() == 1 { "" } else { "s" },
        list.iter()
            .take(NAMES_SHOWN)
            .copied()
            .collect::<Vec<_>>()
            .join("; ")
    )
}

pub(super) fn describe(row: &Row) -> (&'static str, String) {
    match (&row.defect, &row.outcome) {
        (_, RunOutcome::Broken(why)) => ("BROKEN", why.clone()),
        (
            None,
            RunOutcome::Report {
                failed,
                errors,
                closing,
                ..
            },
        ) => {
            if row.ok() {
                ("passed", closing.clone())
            } else {
                let names: Vec<&str> = failed
                    .iter()
                    .map(|f| f.name.as_str())
                    .chain(errors.iter().map(String::as_str))
                    .collect();
                ("FAILED", format!("{closing}: {}", named(&names)))
            }
        }
        (Some(d), RunOutcome::Report { errors, .. }) => {
            let rows = d.rows.join(",");
            let catches: Vec<&str> = row.catches().iter().map(|f| f.name.as_str()).collect();
            let also: Vec<&str> = row.also_failed().iter().map(|f| f.name.as_str()).collect();
            let also = if also.is_empty() {
                String::new()
            } else {
                format!("; also failed (not counted): {}", named(&also))
            };
            if catches.is_empty() {
                let note = if errors.is_empty() {
                    String::new()
                } else {
                    format!(" ({} suite errors: {})", errors.len(), errors.join("; "))
                };
                (
                    "SURVIVED",
                    format!("no scenario of rows {rows} failed{note}{also}"),
                )
            } else {
                ("caught", format!("[{rows}] {}{also}", named(&catches)))
            }
        }
    }
}

/// The gate's table (one row per run, clean first).
pub fn render_table(rows: &[Row]) -> String {
    use std::fmt::Write as _;
    let width = rows
        .iter()
        .map(|r| r.label().len())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<width$}  {:<8}  {:>5}  [declared rows] caught by",
        "defect", "verdict", "time"
    );
    for r in rows {
        let (verdict, detail) = describe(r);
        let _ = writeln!(
            out,
            "{:<width$}  {:<8}  {:>4}s  {detail}",
            r.label(),
            verdict,
            r.elapsed.as_secs()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(name: &str, tags: &[&str]) -> FailedScenario {
        FailedScenario {
            name: name.to_owned(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        }
    }

    fn row(defect: Option<(&str, &[&str])>, failed: Vec<FailedScenario>, exit_code: i32) -> Row {
        Row {
            defect: defect.map(|(name, rows)| Defect {
                name: name.to_owned(),
                rows: rows.iter().map(|r| (*r).to_owned()).collect(),
            }),
            outcome: RunOutcome::Report {
                exit_code,
                closing: format!("1 passed, {} failed, 0 skipped", failed.len()),
                failed,
                errors: Vec::new(),
            },
            elapsed: Duration::from_secs(3),
        }
    }

    #[test]
    fn verdicts_and_table() {
        let in_row = |n: &str| failed(n, &["A01", "critical"]);
        let rows = vec![
            row(None, vec![], 0),
            row(
                Some(("alg-none", &["A01"])),
                vec![
                    in_row("a :: 1"),
                    in_row("a :: 2"),
                    in_row("b :: 3"),
                    in_row("c :: 4"),
                    in_row("c :: 5"),
                    failed("d :: flaky", &["A40"]),
                ],
                1,
            ),
            row(Some(("no-rate-limit", &["A40"])), vec![], 0),
            Row {
                defect: Some(Defect {
                    name: "x".into(),
                    rows: vec!["A02".into()],
                }),
                outcome: RunOutcome::Broken("the run exited with 2: bad".into()),
                elapsed: Duration::ZERO,
            },
        ];
        assert!(rows[0].ok() && rows[1].ok());
        assert!(!rows[2].ok() && !rows[3].ok());
        let t = render_table(&rows);
        assert!(
            t.contains("caught    ")
                && t.contains("[A01] 5 scenarios: a :: 1; a :: 2; b :: 3 (+2 more)")
                && t.contains("also failed (not counted): 1 scenario: d :: flaky"),
            "{t}"
        );
        assert!(t.contains("SURVIVED") && t.contains("BROKEN"), "{t}");
        assert!(!row(None, vec![in_row("a :: 1")], 1).ok());
    }

    #[test]
    fn a_failure_outside_the_declared_rows_is_not_a_catch() {
        let r = row(
            Some(("ignore-aud", &["A20"])),
            vec![failed(
                "rate_limiting :: a timing flake",
                &["A40", "serial"],
            )],
            1,
        );
        assert!(!r.ok());
        assert!(r.catches().is_empty());
        let (verdict, detail) = describe(&r);
        assert_eq!(verdict, "SURVIVED");
        assert!(
            detail.contains("no scenario of rows A20 failed")
                && detail.contains(
                    "also failed (not counted): 1 scenario: rate_limiting :: a timing flake"
                ),
            "{detail}"
        );
        // the properties phase counts for a defect that declares `properties`
        let p = row(
            Some(("x", &["A01", "properties"])),
            vec![failed(
                "properties :: mutated tokens",
                &["properties", "mutation"],
            )],
            1,
        );
        assert!(p.ok());
    }
}
