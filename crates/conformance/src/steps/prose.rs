//! Numbers in feature prose are constants in code: each phrase below is rendered from the
//! constant the steps use, and must appear both in a feature file and in a step definition, so
//! changing one without the other fails here (and a changed step phrase fails the step
//! self-test).

use std::path::{Path, PathBuf};

use super::stateful::flood::{FLOOD_LATENCY_FACTOR, FLOOD_LATENCY_SLACK};
use super::stateful::jwks_faults::RECOVERY_SLACK;
use super::stateful::rate_limit::{BURST_EXTRA, BURST_FACTOR};
use super::stateful::refresh::CLOCK_BACK_EXTRA_SECONDS;
use super::stateful::{FAULT_RESPONSE_BOUND, MARGIN};

fn read_all(dir: &Path, ext: &str, out: &mut String) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            read_all(&p, ext, out);
        } else if p.extension().is_some_and(|e| e == ext) {
            out.push_str(&std::fs::read_to_string(&p).unwrap());
            out.push('\n');
        }
    }
}

#[test]
fn prose_numbers_are_the_constants() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut features = String::new();
    read_all(&root.join("../../features"), "feature", &mut features);
    let mut steps = String::new();
    read_all(&root.join("src/steps"), "rs", &mut steps);
    let phrases = [
        format!("within {} seconds", FAULT_RESPONSE_BOUND.as_secs()),
        format!(
            "two declared cooldowns plus {} seconds",
            RECOVERY_SLACK.as_secs()
        ),
        format!(
            "{FLOOD_LATENCY_FACTOR} times the baseline plus {} ms",
            FLOOD_LATENCY_SLACK.as_millis()
        ),
        format!("{BURST_FACTOR} times the declared limit plus {BURST_EXTRA}"),
        format!("sends {BURST_FACTOR} times the declared limit of tokens"),
        format!(
            "the declared auth-proxy timeout plus {} seconds",
            MARGIN.as_secs()
        ),
        format!("the declared leeway plus {CLOCK_BACK_EXTRA_SECONDS} seconds"),
    ];
    let mut problems = Vec::new();
    for p in &phrases {
        if !features.contains(p.as_str()) {
            problems.push(format!("no feature says {p:?}"));
        }
        if !steps.contains(p.as_str()) {
            problems.push(format!("no step definition says {p:?}"));
        }
    }
    assert!(
        problems.is_empty(),
        "feature prose and constants disagree:\n{}",
        problems.join("\n")
    );
}
