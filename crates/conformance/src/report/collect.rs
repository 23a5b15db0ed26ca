//! The cucumber [`Writer`](cucumber::Writer) of the runner: records each scenario's outcome
//! as its events arrive (events of concurrent scenarios interleave; each is keyed by file and
//! position), prints a progress line when a feature finishes, and lets a watchdog fail
//! scenarios that exceed the per-scenario timeout.
//!
//! A failing step's panic payload is read as a typed [`StepFailure`] (the expectation and the
//! observed answer as data, verdict or suite error); a text payload (a plain panic, an
//! assertion) is reported by its text, and counts as a suite error when it starts with
//! [`super::SUITE_ERROR_PREFIX`] or is cucumber's "failed to initialize `World`".
//!
//! Slightly over 500 lines: the writer, the watchdog and the final assembly share the one
//! `Live` table of running and finished scenarios, which stays private to this file.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cucumber::{Event, World, event, gherkin, parser};
use parking_lot::Mutex;

use super::{Failure, FeatureReport, RunMeta, RunReport, ScenarioReport, Status};
use crate::deadline::Deadlines;
use crate::expect_fail::ExpectFail;
use crate::failure::{FailureKind, StepFailure};
use crate::plan::{Decision, Plan, ScenarioKey};
use crate::severity::Severity;

/// The raw outcome of one scenario that ran.
#[derive(Debug, Clone)]
struct Outcome {
    failure: Option<(Failure, FailureKind)>,
    duration: Duration,
}

#[derive(Debug)]
struct Running {
    started: Instant,
    step: Option<String>,
    failure: Option<(Failure, FailureKind)>,
}

/// State shared by the writer, the watchdog and the final assembly.
#[derive(Debug)]
pub struct Live {
    running: HashMap<ScenarioKey, Running>,
    done: HashMap<ScenarioKey, Outcome>,
    timed_out: HashSet<ScenarioKey>,
    last_event: Instant,
    errors: Vec<String>,
    features_done: usize,
}

impl Live {
    fn new() -> Self {
        Self {
            running: HashMap::new(),
            done: HashMap::new(),
            timed_out: HashSet::new(),
            last_event: Instant::now(),
            errors: Vec::new(),
            features_done: 0,
        }
    }
}

/// The writer.
pub struct Collector {
    live: Arc<Mutex<Live>>,
    plan: Arc<Plan>,
    expect_fail: Arc<ExpectFail>,
    progress: bool,
    fail_on: Severity,
}

impl Collector {
    /// A collector for `plan`; `progress` prints a line per finished feature, counting failures
    /// below `fail_on` apart.
    pub fn new(
        plan: Arc<Plan>,
        expect_fail: Arc<ExpectFail>,
        progress: bool,
        fail_on: Severity,
    ) -> Self {
        Self {
            live: Arc::new(Mutex::new(Live::new())),
            plan,
            expect_fail,
            progress,
            fail_on,
        }
    }

    /// The shared state (for [`watchdog`] and [`assemble`]).
    pub fn live(&self) -> Arc<Mutex<Live>> {
        self.live.clone()
    }

    fn on_scenario<W>(
        &self,
        feature: &gherkin::Feature,
        scenario: &gherkin::Scenario,
        ev: event::Scenario<W>,
    ) {
        let key = ScenarioKey::of(feature, scenario);
        let mut live = self.live.lock();
        live.last_event = Instant::now();
        if live.timed_out.contains(&key) {
            return;
        }
        match ev {
            event::Scenario::Started => {
                live.running.insert(
                    key,
                    Running {
                        started: Instant::now(),
                        step: None,
                        failure: None,
                    },
                );
            }
            event::Scenario::Step(step, ev) | event::Scenario::Background(step, ev) => {
                let Some(r) = live.running.get_mut(&key) else {
                    return;
                };
                let text = step_text(&step);
                match ev {
                    event::Step::Started => r.step = Some(text),
                    event::Step::Passed(..) => {}
                    event::Step::Skipped => {
                        r.failure.get_or_insert((
                            Failure {
                                step: text,
                                message: "no step definition matches this step (undefined step)"
                                    .to_owned(),
                                ..Failure::default()
                            },
                            FailureKind::Verdict,
                        ));
                    }
                    event::Step::Failed(_, _, _, err) => {
                        r.failure.get_or_insert(step_failure(text, &err));
                    }
                }
            }
            event::Scenario::Hook(which, event::Hook::Failed(_, info)) => {
                if let Some(r) = live.running.get_mut(&key) {
                    r.failure
                        .get_or_insert(payload_failure(format!("{which} hook"), &info));
                }
            }
            event::Scenario::Hook(..) | event::Scenario::Log(_) => {}
            event::Scenario::Finished => {
                if let Some(r) = live.running.remove(&key) {
                    live.done.insert(
                        key,
                        Outcome {
                            failure: r.failure,
                            duration: r.started.elapsed(),
                        },
                    );
                }
            }
        }
    }

    fn on_feature_finished(&self, feature: &gherkin::Feature) {
        let file = feature.path.clone().unwrap_or_default();
        let mut live = self.live.lock();
        live.features_done += 1;
        if !self.progress {
            return;
        }
        if self
            .plan
            .scenarios
            .iter()
            .all(|p| p.key.file != file || p.decision == Decision::Deselected)
        {
            return; // nothing of this feature was selected
        }
        let mut c = super::Counts::default();
        for p in self.plan.scenarios.iter().filter(|p| p.key.file == file) {
            match &p.decision {
                Decision::Deselected => {}
                Decision::Skip(_) => c.skipped += 1,
                Decision::Run => match live.done.get(&p.key) {
                    Some(o) if o.failure.is_none() => c.passed += 1,
                    Some(Outcome {
                        failure: Some((_, FailureKind::Verdict)),
                        ..
                    }) if Severity::of_tags(&p.tags) < self.fail_on
                        && !self
                            .expect_fail
                            .matches(&p.feature_name, &p.feature_stem, &p.name)
                        && !self.expect_fail.matches(
                            &p.feature_name,
                            &p.feature_stem,
                            &p.base_name,
                        ) =>
                    {
                        c.below_fail_on += 1
                    }
                    Some(_)
                        if self
                            .expect_fail
                            .matches(&p.feature_name, &p.feature_stem, &p.name)
                            || self.expect_fail.matches(
                                &p.feature_name,
                                &p.feature_stem,
                                &p.base_name,
                            ) =>
                    {
                        c.expected_failures += 1
                    }
                    _ => c.failed += 1,
                },
            }
        }
        let mark = match (c.failed, c.below_fail_on) {
            (0, 0) => " ok ",
            (0, _) => "warn",
            _ => "FAIL",
        };
        let rel = self
            .plan
            .scenarios
            .iter()
            .find(|p| p.key.file == file)
            .map_or_else(|| feature.name.clone(), |p| p.feature_file.clone());
        let mut line = format!(
            "[{mark}] {rel}: {} passed, {} failed, {} skipped",
            c.passed, c.failed, c.skipped
        );
        if c.below_fail_on > 0 {
            line.push_str(&format!(
                ", {} failed below --fail-on {}",
                c.below_fail_on, self.fail_on
            ));
        }
        if c.expected_failures > 0 {
            line.push_str(&format!(", {} expected failures", c.expected_failures));
        }
        println!("{line}");
    }
}

impl cucumber::writer::Normalized for Collector {}

impl<W: World> cucumber::Writer<W> for Collector {
    type Cli = cucumber::cli::Empty;

    async fn handle_event(
        &mut self,
        event: parser::Result<Event<event::Cucumber<W>>>,
        _cli: &Self::Cli,
    ) {
        let ev = match event {
            Ok(ev) => ev.into_inner(),
            Err(e) => {
                self.live.lock().errors.push(e.to_string());
                return;
            }
        };
        match ev {
            event::Cucumber::Feature(feature, ev) => match ev {
                event::Feature::Scenario(sc, ev) => self.on_scenario(&feature, &sc, ev.event),
                event::Feature::Rule(_, event::Rule::Scenario(sc, ev)) => {
                    self.on_scenario(&feature, &sc, ev.event)
                }
                event::Feature::Finished => self.on_feature_finished(&feature),
                _ => {}
            },
            event::Cucumber::Started | event::Cucumber::Finished => {}
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }
}

fn step_text(step: &gherkin::Step) -> String {
    format!(
        "{} {} (line {})",
        step.keyword.trim(),
        step.value,
        step.position.line
    )
}

fn panic_message(info: &event::Info) -> String {
    if let Some(s) = info.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = info.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else {
        "the step panicked with a non-text payload".to_owned()
    }
}

/// How cucumber words a World that could not be created: a suite error, not a verdict.
const WORLD_INIT_FAILED: &str = "failed to initialize `World`";

/// Failure messages longer than this are cut (the evidence of one step is bounded).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

fn step_failure(step: String, err: &event::StepError) -> (Failure, FailureKind) {
    match err {
        event::StepError::Panic(info) => payload_failure(step, info),
        other => text_failure(step, other.to_string()),
    }
}

/// The failure a panic payload describes: a typed [`StepFailure`], else its text.
fn payload_failure(step: String, info: &event::Info) -> (Failure, FailureKind) {
    match StepFailure::of_payload(info.as_ref()) {
        Some(f) => (
            Failure {
                step,
                message: truncate(f.message.clone(), MAX_MESSAGE_BYTES),
                expectation: f.expectation.clone(),
                observed: f.observed.clone(),
            },
            f.kind,
        ),
        None => text_failure(step, panic_message(info)),
    }
}

fn text_failure(step: String, message: String) -> (Failure, FailureKind) {
    let kind = if message.starts_with(super::SUITE_ERROR_PREFIX)
        || message.starts_with(WORLD_INIT_FAILED)
    {
        FailureKind::SuiteError
    } else {
        FailureKind::Verdict
    };
    (
        Failure {
            step,
            message: truncate(message, MAX_MESSAGE_BYTES),
            ..Failure::default()
        },
        kind,
    )
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() <= max {
        return s;
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    let dropped = s.len() - cut;
    s.truncate(cut);
    s.push_str(&format!("\n… ({dropped} more bytes cut)"));
    s
}

/// Fails scenarios that run longer than `scenario_timeout`; returns (ending the run) when every
/// running scenario has timed out and nothing has happened for `stall`, i.e. the run can make
/// no more progress.
///
/// `overrides` holds per-scenario timeouts from `@timeout(…)` tags.
pub async fn watchdog(
    live: Arc<Mutex<Live>>,
    scenario_timeout: Duration,
    overrides: HashMap<ScenarioKey, Duration>,
    deadlines: Deadlines,
    stall: Duration,
) -> String {
    let base = |k: &ScenarioKey| overrides.get(k).copied().unwrap_or(scenario_timeout);
    let limit = |k: &ScenarioKey| base(k) + deadlines.extension(k);
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut l = live.lock();
        let expired: Vec<ScenarioKey> = l
            .running
            .iter()
            .filter(|(k, r)| r.started.elapsed() >= limit(k))
            .map(|(k, _)| k.clone())
            .collect();
        for key in expired {
            if let Some(r) = l.running.remove(&key) {
                let step = r
                    .step
                    .unwrap_or_else(|| "(before the first step)".to_owned());
                let (timeout, source) = match overrides.get(&key) {
                    Some(t) => (*t, "its @timeout tag"),
                    None => (scenario_timeout, "--scenario-timeout"),
                };
                let extension = deadlines.extension(&key);
                let source = if extension.is_zero() {
                    source.to_owned()
                } else {
                    format!(
                        "{source}, plus {:.1} s of waits derived from the profile",
                        extension.as_secs_f64()
                    )
                };
                let timeout = timeout + extension;
                l.done.insert(
                    key.clone(),
                    Outcome {
                        failure: Some((
                            Failure {
                                step: step.clone(),
                                message: format!(
                                    "the scenario did not finish within the scenario timeout of {:.1} s \
                                     ({source}); it was still running this step",
                                    timeout.as_secs_f64()
                                ),
                                ..Failure::default()
                            },
                            FailureKind::Verdict,
                        )),
                        duration: r.started.elapsed(),
                    },
                );
                l.timed_out.insert(key);
            }
        }
        // Timed-out scenarios keep their concurrency slots in cucumber; when nothing else
        // runs and nothing has happened for a while, the run cannot progress.
        if !l.timed_out.is_empty() && l.running.is_empty() && l.last_event.elapsed() >= stall {
            return format!(
                "{} scenario(s) exceeded the scenario timeout and never returned; the run was \
                 stopped and the scenarios that had not run yet are reported as failed",
                l.timed_out.len()
            );
        }
    }
}

/// Builds the report: every planned scenario gets a verdict (selected ones that never
/// reported back fail as "not run").
pub fn assemble(
    live: &Mutex<Live>,
    plan: &Plan,
    expect_fail: &ExpectFail,
    meta: RunMeta,
    mut aborted: Option<String>,
) -> RunReport {
    let live = live.lock();
    let mut features: Vec<FeatureReport> = Vec::new();
    let mut index: HashMap<PathBuf, usize> = HashMap::new();
    for p in &plan.scenarios {
        let (status, failure, skip_reason, duration) = match &p.decision {
            Decision::Deselected => continue,
            Decision::Skip(reason) => (Status::Skipped, None, Some(reason.clone()), Duration::ZERO),
            Decision::Run => {
                let (failure, duration) = match live.done.get(&p.key) {
                    Some(o) => (o.failure.clone(), o.duration),
                    None => (
                        Some((
                            Failure {
                                step: "(not run)".to_owned(),
                                message: if aborted.is_some() {
                                    "not run: the run was stopped early (see above)".to_owned()
                                } else {
                                    "not run: cucumber never reported this scenario".to_owned()
                                },
                                ..Failure::default()
                            },
                            FailureKind::Verdict,
                        )),
                        Duration::ZERO,
                    ),
                };
                let listed = expect_fail.matches(&p.feature_name, &p.feature_stem, &p.name)
                    | expect_fail.matches(&p.feature_name, &p.feature_stem, &p.base_name);
                let suite_error = matches!(failure, Some((_, FailureKind::SuiteError)));
                let failure = failure.map(|(f, _)| f);
                let status = match (failure.is_some(), listed) {
                    (false, false) => Status::Passed,
                    (true, false) if suite_error => Status::Error,
                    (true, false) => Status::Failed,
                    (true, true) => Status::ExpectedFailure,
                    (false, true) => Status::UnexpectedPass,
                };
                (status, failure, None, duration)
            }
        };
        let i = *index.entry(p.key.file.clone()).or_insert_with(|| {
            features.push(FeatureReport {
                name: p.feature_name.clone(),
                file: p.feature_file.clone(),
                scenarios: Vec::new(),
            });
            features.len() - 1
        });
        features[i].scenarios.push(ScenarioReport {
            name: p.name.clone(),
            line: p.key.line,
            tags: p.tags.clone(),
            status,
            duration,
            failure,
            skip_reason,
        });
    }
    if !live.errors.is_empty() && aborted.is_none() {
        aborted = Some(format!(
            "cucumber reported errors: {}",
            live.errors.join("; ")
        ));
    }
    features.sort_by(|a, b| a.file.cmp(&b.file));
    for f in &mut features {
        f.scenarios.sort_by_key(|s| s.line);
    }
    RunReport {
        meta,
        features,
        unused_expect_fail: expect_fail.unused().iter().map(|e| e.display()).collect(),
        aborted,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_messages_are_cut_on_a_char_boundary() {
        let s = super::truncate("é".repeat(10), 5);
        assert!(s.starts_with("éé\n… (16 more bytes cut)"), "{s}");
        assert_eq!(super::truncate("short".into(), 5), "short");
    }
}
