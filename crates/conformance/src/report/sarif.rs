//! SARIF 2.1.0 (`run --sarif FILE`), for code-scanning dashboards (GitHub's
//! `github/codeql-action/upload-sarif` among them).
//!
//! - **Rules**: one per attack-catalogue row (`A01` … `A80`, the `@Axx` tags on scenarios),
//!   in the order the rows first appear; `name` and `shortDescription` are the name of the
//!   first scenario carrying the row. A failing scenario without a row (the properties, a
//!   fixture) gets a rule per feature, `xauth/<feature file stem>`. `defaultConfiguration.level`
//!   and `properties.security-severity` follow the highest severity among the rule's scenarios.
//! - **Results**: one per failing scenario (status `failed`, below `--fail-on` included;
//!   expected failures too, with an external suppression); suite errors are not findings on
//!   the target and are left out. `ruleId`/`ruleIndex` = the scenario's first row; `level` from
//!   its severity (critical, high → `error`; medium → `warning`; low → `note`); the location
//!   is the feature file (`features/<file>`) and the scenario's line; the message is the
//!   scenario name and the observed answer (`ACCEPTED …` for a critical scenario answered
//!   2xx); `partialFingerprints` identify the scenario across runs (file and name, not line).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use serde_sarif::sarif::{
    self, ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation,
    PropertyBag, Region, ReportingConfiguration, ReportingDescriptor, ResultLevel, Run, Sarif,
    Suppression, Tool, ToolComponent,
};

use super::{FeatureReport, RunReport, ScenarioReport, Status};
use crate::severity::Severity;

/// The SARIF version written.
pub const VERSION: &str = "2.1.0";

/// The SARIF `level` of a severity.
pub fn level(s: Severity) -> ResultLevel {
    match s {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low => ResultLevel::Note,
    }
}

/// GitHub code scanning's `security-severity` score of a severity (its bands: ≥ 9 critical,
/// ≥ 7 high, ≥ 4 medium, else low).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

/// The rule id of a scenario: its first catalogue row, else `xauth/<feature file stem>`.
fn rule_id(f: &FeatureReport, s: &ScenarioReport) -> String {
    match s.catalogue_rows().next() {
        Some(row) => row.to_owned(),
        None => format!(
            "xauth/{}",
            f.file.strip_suffix(".feature").unwrap_or(&f.file)
        ),
    }
}

/// Whether a scenario becomes a result.
fn is_finding(s: &ScenarioReport) -> bool {
    matches!(s.status, Status::Failed | Status::ExpectedFailure)
}

struct RuleDraft {
    id: String,
    name: String,
    severity: Severity,
}

fn rules(report: &RunReport) -> Vec<RuleDraft> {
    let mut rules: Vec<RuleDraft> = Vec::new();
    let mut upsert =
        |id: &str, name: &str, sev: Severity| match rules.iter_mut().find(|r| r.id == id) {
            Some(r) => r.severity = r.severity.max(sev),
            None => rules.push(RuleDraft {
                id: id.to_owned(),
                name: name.to_owned(),
                severity: sev,
            }),
        };
    for (f, s) in report.scenarios() {
        for row in s.catalogue_rows() {
            upsert(row, &s.name, s.severity());
        }
        if is_finding(s) && s.catalogue_rows().next().is_none() {
            upsert(&rule_id(f, s), &f.name, s.severity());
        }
    }
    rules
}

fn message_text(s: &ScenarioReport) -> String {
    let failure = s.failure.as_ref();
    let observed = failure.and_then(|f| f.observed.as_ref());
    let mut text = if s.accepted_critical() {
        format!("ACCEPTED {}", s.name)
    } else {
        s.name.clone()
    };
    match (observed, failure) {
        (Some(o), Some(f)) => {
            text.push_str(&format!(": observed {}", o.describe()));
            if let Some(e) = &f.expectation {
                text.push_str(&format!(" (expected {e})"));
            }
        }
        (None, Some(f)) => {
            if let Some(line) = f.message.lines().find(|l| !l.trim().is_empty()) {
                text.push_str(&format!(": {line}"));
            }
        }
        _ => {}
    }
    text
}

/// The SARIF log of a report.
pub fn to_sarif(report: &RunReport) -> Sarif {
    let drafts = rules(report);
    let descriptors: Vec<ReportingDescriptor> = drafts
        .iter()
        .map(|r| {
            let mut props = BTreeMap::new();
            props.insert(
                "security-severity".to_owned(),
                Value::from(security_severity(r.severity)),
            );
            props.insert("severity".to_owned(), Value::from(r.severity.as_str()));
            ReportingDescriptor::builder()
                .id(r.id.clone())
                .name(r.name.clone())
                .short_description(
                    MultiformatMessageString::builder()
                        .text(r.name.clone())
                        .build(),
                )
                .default_configuration(
                    ReportingConfiguration::builder()
                        .level(Value::from(level(r.severity).to_string()))
                        .build(),
                )
                .properties(
                    PropertyBag::builder()
                        .tags(vec!["security".to_owned(), "authentication".to_owned()])
                        .additional_properties(props)
                        .build(),
                )
                .build()
        })
        .collect();
    let results: Vec<sarif::Result> = report
        .scenarios()
        .filter(|(_, s)| is_finding(s))
        .map(|(f, s)| {
            let id = rule_id(f, s);
            let index = drafts.iter().position(|r| r.id == id).unwrap_or(0);
            let uri = if f.file.ends_with(".feature") {
                format!("features/{}", f.file)
            } else {
                f.file.clone()
            };
            let location = Location::builder()
                .physical_location(
                    PhysicalLocation::builder()
                        .artifact_location(ArtifactLocation::builder().uri(uri).build())
                        .region(Region::builder().start_line(s.line as i64).build())
                        .build(),
                )
                .build();
            let mut fingerprints = BTreeMap::new();
            fingerprints.insert(
                "xauthScenario/v1".to_owned(),
                format!("{}::{}", f.file, s.name),
            );
            let mut props = BTreeMap::new();
            props.insert("severity".to_owned(), Value::from(s.severity().as_str()));
            props.insert("status".to_owned(), Value::from(s.status.as_str()));
            if let Some(o) = s.failure.as_ref().and_then(|x| x.observed.as_ref()) {
                props.insert("observed".to_owned(), json!(o));
            }
            let builder = sarif::Result::builder()
                .rule_id(id)
                .rule_index(index as i64)
                .level(level(s.severity()))
                .message(Message::builder().text(message_text(s)).build())
                .locations(vec![location])
                .partial_fingerprints(fingerprints)
                .properties(PropertyBag::builder().additional_properties(props).build());
            if s.status == Status::ExpectedFailure {
                builder
                    .suppressions(vec![
                        Suppression::builder()
                            .kind(Value::from("external"))
                            .justification("listed in --expect-fail")
                            .build(),
                    ])
                    .build()
            } else {
                builder.build()
            }
        })
        .collect();
    let driver = ToolComponent::builder()
        .name("xauth-conformance")
        .version(report.meta.tool_version.clone())
        .semantic_version(report.meta.tool_version.clone())
        .rules(descriptors)
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .build();
    Sarif::builder()
        .schema(sarif::SCHEMA_URL)
        .version(Value::from(VERSION))
        .runs(vec![run])
        .build()
}

/// The SARIF log as pretty JSON text.
pub fn render(report: &RunReport) -> String {
    let mut s = serde_json::to_string_pretty(&to_sarif(report)).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::Observed;
    use crate::report::Failure;
    use std::time::Duration;

    fn scenario(
        name: &str,
        line: usize,
        tags: &[&str],
        status: Status,
        code: u16,
    ) -> ScenarioReport {
        ScenarioReport {
            name: name.into(),
            line,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            status,
            duration: Duration::ZERO,
            failure: (status != Status::Passed).then(|| Failure {
                step: "Then x (line 3)".into(),
                message: "expected: 401".into(),
                expectation: Some("401".into()),
                observed: Some(Observed {
                    status: Some(code),
                    code: None,
                    body_shape: String::new(),
                }),
            }),
            skip_reason: None,
        }
    }

    #[test]
    fn rules_results_and_levels() {
        let mut r = crate::report::group::tests::report(
            vec![
                scenario(
                    "forged token is refused",
                    4,
                    &["A07", "critical"],
                    Status::Failed,
                    200,
                ),
                scenario(
                    "another none token",
                    9,
                    &["A07", "critical"],
                    Status::Passed,
                    0,
                ),
                scenario(
                    "hostile kid is refused",
                    12,
                    &["A30", "high"],
                    Status::Failed,
                    500,
                ),
                scenario("no row", 20, &["low"], Status::Failed, 401),
            ],
            Severity::Medium,
        );
        r.features[0].file = "algorithms.feature".into();
        let v = serde_json::to_value(to_sarif(&r)).unwrap();
        assert_eq!(v["version"], "2.1.0");
        assert!(v["$schema"].as_str().unwrap().contains("sarif"));
        let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        let ids: Vec<_> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["A07", "A30", "xauth/algorithms"]);
        assert_eq!(rules[0]["name"], "forged token is refused");
        assert_eq!(rules[0]["defaultConfiguration"]["level"], "error");
        let results = v["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        assert_eq!(results[0]["ruleId"], "A07");
        assert_eq!(results[0]["level"], "error");
        assert!(
            results[0]["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("ACCEPTED forged token is refused: observed HTTP 200"),
            "{}",
            results[0]["message"]["text"]
        );
        assert_eq!(
            results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "features/algorithms.feature"
        );
        assert_eq!(
            results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
            4
        );
        assert_eq!(results[2]["ruleId"], "xauth/algorithms");
        assert_eq!(results[2]["ruleIndex"], 2);
        assert_eq!(results[2]["level"], "note");
    }
}
