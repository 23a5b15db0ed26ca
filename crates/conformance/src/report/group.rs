//! Failures with one root cause, folded into one finding.
//!
//! One bug usually fails many scenarios the same way (a library answering 500 to every bad
//! `kid` fails a hundred of them); printing a hundred near-identical evidence blocks hides
//! the other findings. A [`Group`] is the failures (status `failed` or `error`) that share a
//! key; reports print the group once: how many, every scenario name, and the first failure's
//! full evidence (with its curl reproduction).
//!
//! # The key
//!
//! `(status, severity, expectation, observed answer)`; whether a group fails the run follows
//! from its status and severity, so its members agree on it:
//!
//! - **status**: a verdict failure never joins a suite error.
//! - **severity**: groups are printed by severity, and a group never straddles `--fail-on`.
//! - **expectation**: what the step expected, [`shape`]d (the contract claim the answer
//!   breaks, e.g. `401 with error code UNAUTHENTICATED at /error/code`). The root cause is
//!   the *answer*, but the same answer can break different claims (401 UNAUTHENTICATED where
//!   `TOKEN_EXPIRED` is due is the `expired-as-unauthenticated` bug; where `403 FORBIDDEN` is
//!   due it is `forbidden-as-401`): those stay apart. The failing step's text is *not* in the
//!   key: outline rows carry their example values in it, while the expectation derived from
//!   it is the same for every row.
//! - **observed answer** ([`Observed`]): HTTP status (or none: a hang, a closed
//!   connection), the error code at the profile's `error_code_pointer`, and the body's shape
//!   (quoted values, numbers, hex, ids and tokens blanked, so that a message reflecting the
//!   attacker's `kid` still matches). A 200 (ACCEPTED) and a 401 with the wrong code are
//!   different answers, hence different groups.
//!
//! A failure the step did not raise as data (a scenario timeout, an undefined step, a plain
//! panic, the properties phase) has no expectation and no observed answer: its key is the
//! failing step's text (without its line) and the first line of its message, both shaped.

use std::collections::HashMap;

use super::{Failure, FeatureReport, RunReport, ScenarioReport, Status};
use crate::failure::{Observed, shape};
use crate::severity::Severity;

/// Longest shaped expectation or message line in a key.
const KEY_TEXT_MAX: usize = 200;

/// How many scenario names a report lists per group before "… and N more".
pub const NAMES_SHOWN: usize = 20;

/// What groups failures.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    status: Status,
    severity: Severity,
    claim: String,
    observed: Option<Observed>,
}

/// One scenario of a group.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    /// Its feature.
    pub feature: &'a FeatureReport,
    /// The scenario.
    pub scenario: &'a ScenarioReport,
}

impl Member<'_> {
    /// `Feature :: scenario  (file:line)`.
    pub fn label(&self) -> String {
        format!(
            "{} :: {}  ({}:{})",
            self.feature.name, self.scenario.name, self.feature.file, self.scenario.line
        )
    }
}

/// Failures sharing a key.
#[derive(Debug, Clone)]
pub struct Group<'a> {
    /// `failed` or `error`.
    pub status: Status,
    /// The members' severity.
    pub severity: Severity,
    /// Whether the members fail the run (false: below `--fail-on`).
    pub fails_run: bool,
    /// The shaped expectation (or step and message line) of the key.
    pub claim: String,
    /// The observed answer, when the steps raised it as data.
    pub observed: Option<Observed>,
    /// The members, in report order (at least one).
    pub members: Vec<Member<'a>>,
}

impl<'a> Group<'a> {
    /// The first member (whose evidence the reports show).
    pub fn first(&self) -> Member<'a> {
        self.members[0]
    }

    /// The first member's failure.
    pub fn failure(&self) -> Option<&'a Failure> {
        self.first().scenario.failure.as_ref()
    }

    /// Whether the members are critical scenarios answered 2xx.
    pub fn accepted(&self) -> bool {
        self.status == Status::Failed
            && self.severity == Severity::Critical
            && self.observed.as_ref().is_some_and(Observed::accepted)
    }

    /// One line: what was expected and what came instead, from the first member's failure.
    pub fn summary(&self) -> String {
        let first_line = || {
            self.failure()
                .and_then(|f| f.message.lines().find(|l| !l.trim().is_empty()))
                .unwrap_or("")
                .to_owned()
        };
        let expectation = self.failure().and_then(|f| f.expectation.clone());
        match (&expectation, &self.observed) {
            (Some(e), Some(o)) => format!("expected {e}; got {}", o.describe()),
            (Some(e), None) => format!("expected {e}"),
            (None, Some(o)) => format!("got {}", o.describe()),
            (None, None) => first_line(),
        }
    }
}

fn key_of(s: &ScenarioReport) -> Key {
    let failure = s.failure.as_ref();
    let claim = match failure {
        Some(Failure {
            expectation: Some(e),
            ..
        }) => shape(e, KEY_TEXT_MAX),
        Some(f) => {
            let step = f
                .step
                .rsplit_once(" (line ")
                .map_or(f.step.as_str(), |(s, _)| s);
            let line = f
                .message
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            format!(
                "{} | {}",
                shape(step, KEY_TEXT_MAX),
                shape(line, KEY_TEXT_MAX)
            )
        }
        None => String::new(),
    };
    Key {
        status: s.status,
        severity: s.severity(),
        claim,
        observed: failure.and_then(|f| f.observed.clone()),
    }
}

/// The groups of a report's failures (status `failed` and `error`): suite errors last,
/// verdicts by severity (critical first), then by size (largest first), then by the first
/// member's place in the report.
pub fn groups(report: &RunReport) -> Vec<Group<'_>> {
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut out: Vec<Group<'_>> = Vec::new();
    for (feature, scenario) in report.scenarios() {
        if !matches!(scenario.status, Status::Failed | Status::Error) {
            continue;
        }
        let key = key_of(scenario);
        let member = Member { feature, scenario };
        match index.get(&key) {
            Some(&i) => out[i].members.push(member),
            None => {
                index.insert(key.clone(), out.len());
                out.push(Group {
                    status: key.status,
                    severity: key.severity,
                    fails_run: report.fails_run(scenario),
                    claim: key.claim,
                    observed: key.observed,
                    members: vec![member],
                });
            }
        }
    }
    // stable: equal keys keep report order
    out.sort_by(|a, b| {
        (a.status == Status::Error)
            .cmp(&(b.status == Status::Error))
            .then(b.severity.cmp(&a.severity))
            .then(b.members.len().cmp(&a.members.len()))
    });
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::report::RunMeta;
    use std::time::Duration;

    fn observed(status: u16, code: &str) -> Option<Observed> {
        Some(Observed {
            status: Some(status),
            code: Some(code.to_owned()),
            body_shape: format!("{{\"error\":{{\"code\":\"{code}\"}}}}"),
        })
    }

    fn failed(
        name: &str,
        line: usize,
        sev: &str,
        expectation: &str,
        obs: Option<Observed>,
    ) -> ScenarioReport {
        ScenarioReport {
            name: name.into(),
            line,
            tags: vec![sev.into()],
            status: Status::Failed,
            duration: Duration::ZERO,
            failure: Some(Failure {
                step: format!("Then the response is {expectation} (line {})", line + 3),
                message: format!("expected: {expectation}\nrow {line}"),
                expectation: Some(expectation.into()),
                observed: obs,
            }),
            skip_reason: None,
        }
    }

    pub(crate) fn report(scenarios: Vec<ScenarioReport>, fail_on: Severity) -> RunReport {
        RunReport {
            meta: RunMeta {
                tool_version: "0".into(),
                started_at: "t".into(),
                duration: Duration::ZERO,
                target: "http://t/".into(),
                spawn: None,
                profile_file: None,
                profile_name: "p".into(),
                issuer: "http://i/".into(),
                issuer_in_process: true,
                tags: None,
                features_origin: "test".into(),
                expect_fail_file: None,
                strict_expect_fail: false,
                fail_on,
            },
            features: vec![FeatureReport {
                name: "F".into(),
                file: "f.feature".into(),
                scenarios,
            }],
            unused_expect_fail: Vec::new(),
            aborted: None,
        }
    }

    const E401: &str = "401 with error code UNAUTHENTICATED at /error/code";

    #[test]
    fn one_answer_to_many_attacks_is_one_group() {
        let mut scenarios: Vec<_> = (0..126)
            .map(|i| {
                failed(
                    &format!("kid {i}"),
                    10 + i,
                    "high",
                    E401,
                    observed(500, "X"),
                )
            })
            .collect();
        scenarios.push(failed(
            "forged",
            500,
            "critical",
            E401,
            observed(200, "none"),
        ));
        let r = report(scenarios, Severity::Medium);
        let g = groups(&r);
        assert_eq!(g.len(), 2, "{g:#?}");
        assert_eq!(g[0].severity, Severity::Critical, "critical first");
        assert!(g[0].accepted());
        assert_eq!(g[1].members.len(), 126);
        assert_eq!(g[1].first().scenario.name, "kid 0");
        assert!(!g[1].accepted());
    }

    #[test]
    fn an_accepted_token_never_joins_a_wrong_code() {
        let r = report(
            vec![
                failed("a", 1, "critical", E401, observed(200, "")),
                failed("b", 2, "critical", E401, observed(401, "TOKEN_EXPIRED")),
                failed(
                    "c",
                    3,
                    "medium",
                    "401 with error code TOKEN_EXPIRED at /error/code",
                    observed(401, "UNAUTHENTICATED"),
                ),
                failed(
                    "d",
                    4,
                    "medium",
                    "403 with error code FORBIDDEN at /error/code",
                    observed(401, "UNAUTHENTICATED"),
                ),
            ],
            Severity::Medium,
        );
        assert_eq!(groups(&r).len(), 4);
    }

    #[test]
    fn a_group_below_fail_on_does_not_fail_the_run() {
        let r = report(
            vec![failed("s", 1, "low", E401, observed(200, ""))],
            Severity::Medium,
        );
        let g = groups(&r);
        assert!(!g[0].fails_run);
        assert_eq!(r.counts().failed, 0);
        assert_eq!(r.counts().below_fail_on, 1);
        assert_eq!(r.exit_code(), 0);
        let r = report(
            vec![failed("s", 1, "low", E401, observed(200, ""))],
            Severity::Low,
        );
        assert!(groups(&r)[0].fails_run);
        assert_eq!(r.exit_code(), 1);
    }

    #[test]
    fn failures_without_data_group_by_step_and_message() {
        let mut a = failed("a", 1, "medium", E401, None);
        let mut b = failed("b", 2, "medium", E401, None);
        let mut c = failed("c", 3, "medium", E401, None);
        for (s, msg) in [
            (&mut a, "the scenario did not finish within 60.0 s"),
            (&mut b, "the scenario did not finish within 75.5 s"),
            (&mut c, "no step definition matches this step"),
        ] {
            if let Some(f) = s.failure.as_mut() {
                f.expectation = None;
                f.step = format!("Then it waits (line {})", s.line);
                f.message = msg.into();
            }
        }
        let r = report(vec![a, b, c], Severity::Medium);
        let g = groups(&r);
        assert_eq!(g.len(), 2, "{g:#?}");
        assert_eq!(g[0].members.len(), 2);
        assert_eq!(g[0].summary(), "the scenario did not finish within 60.0 s");
    }
}
