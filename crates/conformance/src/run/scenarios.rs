//! The cucumber phase: the planned scenarios, `--concurrency` at a time (`@serial` ones alone),
//! with the self-test steps, the before-hook that tells each World its scenario, the
//! after-hook that puts back shared issuer state after every `@serial` scenario, and the
//! watchdog that bounds every scenario.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cucumber::{World, event, gherkin};
use parking_lot::Mutex;

use crate::cli::RunArgs;
use crate::deadline::{Deadlines, ScenarioBound};
use crate::expect_fail::ExpectFail;
use crate::hooks::SharedState;
use crate::plan::{Decision, Plan, ScenarioKey};
use crate::report::collect;
use crate::severity::Severity;

use super::selftest;

/// What the World of a run must be: a cucumber World that learns its scenario
/// ([`ScenarioBound`]) and can put back shared issuer state ([`SharedState`]).
pub trait SuiteWorld:
    World + ScenarioBound + SharedState + cucumber::codegen::WorldInventory + std::fmt::Debug
{
}

impl<W> SuiteWorld for W where
    W: World + ScenarioBound + SharedState + cucumber::codegen::WorldInventory + std::fmt::Debug
{
}

/// Whether the scenario is tagged `@serial` (on the feature, the rule or itself).
pub fn is_serial(
    feature: &gherkin::Feature,
    rule: Option<&gherkin::Rule>,
    scenario: &gherkin::Scenario,
) -> bool {
    feature
        .tags
        .iter()
        .chain(rule.into_iter().flat_map(|r| r.tags.iter()))
        .chain(scenario.tags.iter())
        .any(|t| t == "serial")
}

/// Whether a scenario that finished this way failed (a before-hook failure, a failed step, or
/// a step that did not run because it is undefined, which fails the scenario in the report).
pub fn finished_failed(finished: &event::ScenarioFinished) -> bool {
    !matches!(finished, event::ScenarioFinished::StepPassed)
}

/// Runs the planned scenarios into a live collector; returns why the run was aborted, if the
/// watchdog stopped it.
pub(crate) async fn run<W: SuiteWorld>(
    args: &RunArgs,
    plan: &Arc<Plan>,
    features_dir: &std::path::Path,
    expect_fail: &Arc<ExpectFail>,
    fail_on: Severity,
    deadlines: Deadlines,
) -> (Arc<Mutex<collect::Live>>, Option<String>) {
    let collector =
        collect::Collector::new(plan.clone(), expect_fail.clone(), !args.quiet, fail_on);
    let live = collector.live();
    let run_keys: HashSet<ScenarioKey> = plan
        .scenarios
        .iter()
        .filter(|p| p.decision == Decision::Run)
        .map(|p| p.key.clone())
        .collect();
    let to_run = run_keys.len();
    let cucumber = W::cucumber::<PathBuf>()
        .max_concurrent_scenarios(args.concurrency.get())
        .given(selftest::pass_re(), selftest::pass::<W>)
        .when(selftest::pass_re(), selftest::pass::<W>)
        .then(selftest::pass_re(), selftest::pass::<W>)
        .given(selftest::fail_re(), selftest::fail::<W>)
        .when(selftest::fail_re(), selftest::fail::<W>)
        .then(selftest::fail_re(), selftest::fail::<W>)
        .given(selftest::sleep_re(), selftest::sleep::<W>)
        .when(selftest::sleep_re(), selftest::sleep::<W>)
        .then(selftest::sleep_re(), selftest::sleep::<W>)
        .then(selftest::observes_re(), selftest::observes::<W>)
        .given(selftest::suite_error_re(), selftest::suite_error::<W>)
        .then(selftest::suite_error_re(), selftest::suite_error::<W>)
        .before(|feature, _rule, scenario, world| {
            world.bind_scenario(ScenarioKey::of(feature, scenario));
            Box::pin(async {})
        })
        .after(|feature, rule, scenario, finished, world| {
            // Whatever way a @serial scenario ended, the shared issuer state it changed is
            // put back before the next scenario starts (hooks.rs).
            let failed = finished_failed(finished);
            match world {
                Some(world) if is_serial(feature, rule, scenario) => {
                    world.restore_shared_state(failed)
                }
                _ => Box::pin(async {}),
            }
        })
        .with_writer(collector)
        .with_default_cli();
    let scenarios = cucumber.filter_run(features_dir.to_owned(), move |f, _, s| {
        run_keys.contains(&ScenarioKey::of(f, s))
    });
    let stall = Duration::from_secs(2);
    let overrides = plan
        .scenarios
        .iter()
        .filter_map(|p| p.timeout.map(|t| (p.key.clone(), t)))
        .collect();
    let aborted = if to_run == 0 {
        None
    } else {
        tokio::select! {
            _ = scenarios => None,
            why = collect::watchdog(live.clone(), args.scenario_timeout, overrides, deadlines, stall) => Some(why),
        }
    };
    (live, aborted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feature(text: &str) -> gherkin::Feature {
        gherkin::Feature::parse(text, gherkin::GherkinEnv::default()).unwrap()
    }

    #[test]
    fn serial_is_read_from_the_feature_the_rule_or_the_scenario() {
        let f = feature(
            "Feature: f\n  @serial\n  Scenario: own tag\n    Given x\n  Scenario: none\n    Given x\n  @serial\n  Rule: r\n    Scenario: rule tag\n      Given x\n",
        );
        assert!(is_serial(&f, None, &f.scenarios[0]));
        assert!(!is_serial(&f, None, &f.scenarios[1]));
        let rule = &f.rules[0];
        assert!(is_serial(&f, Some(rule), &rule.scenarios[0]));
        let f = feature("@serial\nFeature: f\n  Scenario: s\n    Given x\n");
        assert!(is_serial(&f, None, &f.scenarios[0]));
        let f = feature("@serialized\nFeature: f\n  Scenario: s\n    Given x\n");
        assert!(!is_serial(&f, None, &f.scenarios[0]));
    }

    #[test]
    fn only_a_passed_scenario_counts_as_not_failed() {
        assert!(!finished_failed(&event::ScenarioFinished::StepPassed));
        assert!(finished_failed(&event::ScenarioFinished::StepSkipped));
    }
}
