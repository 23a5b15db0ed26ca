//! The mutation gate end to end: `xauth-conformance gate` against the real `xauth-reference`
//! binary (built on demand), on a small selection (the claims scenarios) so it stays quick:
//! a defect the selection catches (in the catalogue rows it declares) is reported caught, one it
//! cannot see survives and fails the gate, and usage errors exit 2.

// Test code: unwrap() is the assertion (clippy does not treat integration tests as test code).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_xauth-conformance");

/// The xauth-reference binary next to this test's target directory, built if missing.
fn reference() -> PathBuf {
    // BIN is <target>/debug/xauth-conformance
    let dir = PathBuf::from(BIN).parent().unwrap().to_path_buf();
    let path = dir.join("xauth-reference");
    if !path.is_file() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let target = dir.parent().unwrap();
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "xauth-reference"])
            .env("CARGO_TARGET_DIR", target)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success(), "cannot build xauth-reference");
    }
    path
}

fn features() -> String {
    format!("{}/../../features", env!("CARGO_MANIFEST_DIR"))
}

fn gate(extra: &[&str]) -> (Output, tempfile::TempDir) {
    let work = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = vec![
        "gate".into(),
        "--reference".into(),
        reference().display().to_string(),
        "--features".into(),
        features(),
        "--work-dir".into(),
        work.path().display().to_string(),
        "--properties-cases".into(),
        "8".into(),
        "--run-arg=--tags".into(),
        "--run-arg=@claims and not @serial".into(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let out = Command::new(BIN).args(&args).output().unwrap();
    (out, work)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_caught_defect_passes_and_a_survivor_fails_the_gate() {
    let (out, work) = gate(&["--defect", "ignore-aud", "--defect", "no-rate-limit"]);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no table row for {name}:\n{text}"))
            .to_owned()
    };
    assert!(line("(clean)").contains("passed"), "{text}");
    let aud = line("ignore-aud");
    assert!(
        aud.contains("caught")
            && aud.contains("[A31]")
            && aud.contains("claims :: A token for another audience"),
        "{aud}"
    );
    // the legacy-HS256 claim checks (A11) fail too, but A11 is not a row ignore-aud declares
    assert!(aud.contains("also failed (not counted)"), "{aud}");
    assert!(line("no-rate-limit").contains("SURVIVED"), "{text}");
    assert!(
        text.contains("1 of 2 defects caught; clean run passed"),
        "{text}"
    );
    // every run left its JSON report
    for name in ["clean", "ignore-aud", "no-rate-limit"] {
        assert!(work.path().join(format!("{name}.json")).is_file(), "{name}");
    }
}

#[test]
fn every_selected_defect_caught_exits_0() {
    let (out, _work) = gate(&["--defect", "ignore-iss", "--jobs", "2"]);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("1 of 1 defects caught; clean run passed"),
        "{text}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let (out, _w) = gate(&["--defect", "no-such-defect"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-defect"));
    let out = Command::new(BIN)
        .args(["gate", "--reference", "/nonexistent/xauth-reference"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file"));
}
