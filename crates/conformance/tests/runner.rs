//! Tests of the runner itself: the built `xauth-conformance` binary against tiny feature sets
//! (written per test into a temporary directory, using the runner's self-test steps), the
//! in-process issuer on an ephemeral port, and `xauth-conformance stub-target` as the spawned
//! implementation.
//!
//! One file of ~1100 lines on purpose: every test drives the same built binary through the same
//! `Fixture` and feature texts, and splitting it would split those.

// Test code: unwrap() is the assertion (clippy does not treat integration tests as test code).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_xauth-conformance");

const PASSING: &str = "\
@selftest
Feature: Runner self test
  Scenario: it passes
    Given the runner self-test passes
    Then the runner self-test passes
";

const MIXED: &str = "\
@selftest
Feature: Mixed results
  Some pass, one fails, one is skipped by a requirement tag.

  Scenario: first passes
    Given the runner self-test passes

  @known
  Scenario: second fails
    Given the runner self-test passes
    Then the runner self-test fails with \"expected 401 UNAUTHENTICATED, got 200\"

  @needs-no-hs256
  Scenario: third needs HS256 off
    Given the runner self-test passes

  Scenario Outline: outline row
    Given the runner self-test <step>

    Examples:
      | step |
      | passes |
      | sleeps for 5 ms |
";

/// One scenario per severity, failing through the typed self-test steps (the observed answer
/// as data), an outline whose three rows fail the same way (one root cause), and a suite error.
const SEVERE: &str = r#"@selftest
Feature: Severities

  @A07 @critical
  Scenario: a forged token is refused
    Given the runner self-test passes
    Then the runner self-test observes 200 and body "{"ok":true}"

  @A30 @high
  Scenario Outline: a hostile kid <kid> is refused
    Then the runner self-test observes 500 with code INTERNAL and body "{"error":{"code":"INTERNAL","message":"kid '<kid>' broke 12 things"}}"

    Examples:
      | kid                       |
      | ../../etc/passwd          |
      | <script>alert(1)</script> |
      | %00                       |

  @A12 @medium
  Scenario: an expired token says TOKEN_EXPIRED
    Then the runner self-test observes 401 with code TOKEN_EXPIRED and body "{"error":{"code":"TOKEN_EXPIRED"}}"

  @A40 @low
  Scenario: a hardened reading holds
    Then the runner self-test observes 200

  @A50 @medium
  Scenario: the suite cannot judge
    Given the runner self-test has a suite error "the issuer refused a mint"

  @A12 @medium
  Scenario: a valid token is accepted
    Given the runner self-test passes
"#;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(features: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("features")).unwrap();
        for (name, text) in features {
            std::fs::write(dir.path().join("features").join(name), text).unwrap();
        }
        Self { dir }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }
    /// `run --features <dir> --issuer-addr 127.0.0.1:0 --log-dir <dir>/logs` plus `args`.
    fn run(&self, args: &[&str]) -> Output {
        let features = self.path("features");
        let logs = self.path("logs");
        let mut cmd = Command::new(BIN);
        cmd.arg("run")
            .arg("--no-properties")
            .arg("--features")
            .arg(&features)
            .args(["--issuer-addr", "127.0.0.1:0"])
            .arg("--log-dir")
            .arg(&logs)
            .args(args)
            .env_remove("XAUTH_CONTROL_KEY")
            .env_remove("RUST_LOG");
        cmd.output().unwrap()
    }
    fn run_spawned(&self, args: &[&str]) -> Output {
        let spawn = format!("{BIN} stub-target");
        let mut all = vec!["--spawn", spawn.as_str()];
        all.extend_from_slice(args);
        self.run(&all)
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
fn last_line(o: &Output) -> String {
    stdout(o).lines().last().unwrap_or_default().to_owned()
}

/// Whether a process is gone (absent or a zombie awaiting its reaper).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

/// Waits (bounded) until the process is gone; its reaper may need a moment.
fn assert_gone(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gone(pid) {
        assert!(Instant::now() < deadline, "process {pid} is still running");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read_pid(path: &Path) -> u32 {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .parse()
        .unwrap()
}

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

// ---------------------------------------------------------------- exit codes

#[test]
fn all_passing_exits_0_with_the_closing_line() {
    let f = Fixture::new(&[("pass.feature", PASSING)]);
    let out = f.run_spawned(&[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(last_line(&out), "1 passed, 0 failed, 0 skipped");
    assert!(stdout(&out).contains("[ ok ] pass.feature: 1 passed, 0 failed, 0 skipped"));
}

#[test]
fn quiet_prints_only_the_closing_line() {
    let f = Fixture::new(&[("mixed.feature", MIXED)]);
    let json = f.path("r.json");
    let out = f.run_spawned(&["--quiet", "--json", json.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "3 passed, 1 failed, 1 skipped\n");
    assert!(json.exists());
}

#[test]
fn a_failure_exits_1_and_shows_the_step_message() {
    let f = Fixture::new(&[("mixed.feature", MIXED)]);
    let out = f.run_spawned(&[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    assert_eq!(last_line(&out), "3 passed, 1 failed, 1 skipped");
    assert!(
        text.contains("Failures (1 in 1 group; --fail-on medium)"),
        "{text}"
    );
    assert!(
        text.contains("Mixed results :: second fails  (mixed.feature:9)"),
        "{text}"
    );
    assert!(
        text.contains("| expected 401 UNAUTHENTICATED, got 200"),
        "{text}"
    );
    assert!(
        text.contains("third needs HS256 off: skipped: the profile enables legacy HS256"),
        "{text}"
    );
}

#[test]
fn a_bad_profile_exits_2_naming_file_line_and_field() {
    let f = Fixture::new(&[("pass.feature", PASSING)]);
    let profile = f.write(
        "bad.toml",
        "[routes]\nprotected = \"/api\"\nprotectd = \"/x\"\n",
    );
    let out = f.run_spawned(&["--profile", profile.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "xauth-conformance: error: {}:3: routes.protectd: unknown field `protectd`",
            profile.display()
        )),
        "{err}"
    );
    assert!(!stdout(&out).contains("passed"), "no scenario may run");
}

#[test]
fn an_unreachable_target_exits_2_before_any_scenario() {
    let f = Fixture::new(&[("pass.feature", PASSING)]);
    let target = format!("http://127.0.0.1:{}", closed_port());
    let out = f.run(&["--target", &target]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("target unreachable"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!stdout(&out).contains("passed"));
}

#[test]
fn a_running_target_is_used_with_target() {
    // Start a stub ourselves, then point --target at it.
    let f = Fixture::new(&[("pass.feature", PASSING)]);
    let port = closed_port();
    let mut stub = Command::new(BIN)
        .args(["stub-target", "--port", &port.to_string()])
        .spawn()
        .unwrap();
    let target = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "stub never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = f.run(&["--target", &target]);
    let _ = stub.kill();
    let _ = stub.wait();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn the_issuer_port_taken_exits_2() {
    let f = Fixture::new(&[("pass.feature", PASSING)]);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let spawn = format!("{BIN} stub-target");
    let out = Command::new(BIN)
        .arg("run")
        // The properties need a real implementation; these stand-ins only answer scenarios.
        .arg("--no-properties")
        .arg("--features")
        .arg(f.path("features"))
        .args(["--issuer-addr", &addr, "--spawn", &spawn])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "cannot start the fake issuer on {addr}: the address is already in use"
        )),
        "{err}"
    );
    assert!(err.contains("--issuer-addr"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// Holds 127.0.0.1:54321 (where `supabase start` serves) if nothing else does; either way the
/// port is taken while the guard lives.
fn occupy_54321() -> Option<std::net::TcpListener> {
    std::net::TcpListener::bind("127.0.0.1:54321").ok()
}

#[test]
fn spawn_uses_an_ephemeral_issuer_port_and_target_keeps_54321() {
    let _taken = occupy_54321();
    let f = Fixture::new(&[("pass.feature", PASSING)]);
    // --spawn without --issuer-addr: an ephemeral port, announced in SUPABASE_URL.
    let cmd = format!(
        "sh -c 'env > {}; exec {BIN} stub-target'",
        f.path("env").display()
    );
    let out = Command::new(BIN)
        .args(["run", "--no-properties", "--spawn", &cmd, "--features"])
        .arg(f.path("features"))
        .arg("--log-dir")
        .arg(f.path("logs"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let env = std::fs::read_to_string(f.path("env")).unwrap();
    let url = env
        .lines()
        .find_map(|l| l.strip_prefix("SUPABASE_URL="))
        .unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_ne!(url, "http://127.0.0.1:54321", "{url}");

    // --target without --issuer-addr: 54321, and a taken 54321 names the fix.
    let target = format!("http://127.0.0.1:{}", closed_port());
    let out = Command::new(BIN)
        .args(["run", "--no-properties", "--target", &target, "--features"])
        .arg(f.path("features"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "cannot start the fake issuer on 127.0.0.1:54321: the address is already in use"
        ),
        "{err}"
    );
    assert!(err.contains("--issuer-addr"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let f = Fixture::new(&[("pass.feature", PASSING)]);
    // Neither --target nor --spawn.
    let out = f.run(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nothing to test"), "{}", stderr(&out));
    // A bad tag expression.
    let out = f.run_spawned(&["--tags", "@a and (@b"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--tags"), "{}", stderr(&out));
    // Unbalanced quotes in --spawn.
    let out = f.run(&["--spawn", "sh -c 'oops"]);
    assert_eq!(out.status.code(), Some(2));
    // A report that cannot be written fails before any scenario runs.
    let out = f.run_spawned(&["--junit", "/nonexistent-dir/r.xml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--junit /nonexistent-dir/r.xml"),
        "{}",
        stderr(&out)
    );
    assert!(!stdout(&out).contains("passed"));
    // An unknown flag (clap).
    let out = f.run(&["--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    // --issuer without --control-key.
    let out = Command::new(BIN)
        .args([
            "run",
            "--no-properties",
            "--issuer",
            "http://127.0.0.1:1",
            "--target",
            "http://127.0.0.1:1",
        ])
        .env_remove("XAUTH_CONTROL_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_unknown_requirement_tag_is_a_setup_error() {
    let f = Fixture::new(&[(
        "typo.feature",
        "Feature: typo\n  @needs-auth-proxi\n  Scenario: s\n    Given the runner self-test passes\n",
    )]);
    let out = f.run_spawned(&[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("typo.feature:3: unknown requirement tag @needs-auth-proxi"),
        "{err}"
    );
}

#[test]
fn tags_select_scenarios() {
    let f = Fixture::new(&[("mixed.feature", MIXED)]);
    let out = f.run_spawned(&["--tags", "@selftest and not @known"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(last_line(&out), "3 passed, 0 failed, 1 skipped");
    let out = f.run_spawned(&["--tags", "@known or @nothing"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(last_line(&out), "0 passed, 1 failed, 0 skipped");
    let out = f.run_spawned(&["--tags", "@nothing"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("selects no scenario"));
}

#[test]
fn an_undefined_step_fails_its_scenario() {
    let f = Fixture::new(&[(
        "undefined.feature",
        "Feature: undefined\n  Scenario: s\n    Given a step nobody wrote\n",
    )]);
    let out = f.run_spawned(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("undefined step"), "{}", stdout(&out));
}

#[test]
fn a_hanging_scenario_is_failed_by_the_scenario_timeout() {
    let f = Fixture::new(&[(
        "slow.feature",
        "Feature: hangs\n  Scenario: hangs\n    Given the runner self-test sleeps for 600000 ms\n\n  Scenario: fine\n    Given the runner self-test passes\n",
    )]);
    let start = Instant::now();
    let out = f.run_spawned(&["--scenario-timeout", "1s"]);
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "the run must not hang"
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("did not finish within the scenario timeout of 1.0 s"),
        "{text}"
    );
    assert_eq!(last_line(&out), "1 passed, 1 failed, 0 skipped");
}

#[test]
fn a_timeout_tag_gives_a_scenario_its_own_timeout() {
    let f = Fixture::new(&[(
        "slow.feature",
        "Feature: waits\n  @timeout(5s)\n  Scenario: may wait longer\n    Given the runner self-test sleeps for 1500 ms\n\n  @timeout(500ms)\n  Scenario: may not\n    Given the runner self-test sleeps for 600000 ms\n",
    )]);
    let out = f.run_spawned(&["--scenario-timeout", "1s"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("timeout of 0.5 s (its @timeout tag)"),
        "{text}"
    );
    assert_eq!(last_line(&out), "1 passed, 1 failed, 0 skipped");
    let bad = Fixture::new(&[(
        "bad.feature",
        "Feature: bad\n  @timeout(soon)\n  Scenario: s\n    Given the runner self-test passes\n",
    )]);
    let out = bad.run_spawned(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("bad.feature:3: @timeout(soon):"),
        "{}",
        stderr(&out)
    );
}

// ---------------------------------------------------------------- --expect-fail

#[test]
fn expected_failures_do_not_fail_the_run() {
    let f = Fixture::new(&[("mixed.feature", MIXED)]);
    let list = f.write(
        "expect.txt",
        "# known bugs\nmixed :: second fails   # tracked upstream\n\n",
    );
    let out = f.run_spawned(&["--expect-fail", list.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("Expected failures (1; listed in --expect-fail"),
        "{text}"
    );
    // Expected failures are not skips: their own line before the closing line.
    assert!(
        text.ends_with("\n1 expected failure (--expect-fail)\n\n3 passed, 0 failed, 1 skipped\n"),
        "{text}"
    );
}

#[test]
fn an_unexpected_pass_warns_and_fails_only_when_strict() {
    let f = Fixture::new(&[("mixed.feature", MIXED)]);
    let list = f.write(
        "expect.txt",
        "Mixed results :: second fails\nfirst passes\nno such scenario\n",
    );
    let l = list.to_str().unwrap();
    let out = f.run_spawned(&["--expect-fail", l]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("Unexpectedly passed (1;"), "{text}");
    assert!(text.contains("! Mixed results :: first passes"), "{text}");
    assert!(text.contains("? no such scenario"), "{text}");
    let out = f.run_spawned(&["--expect-fail", l, "--strict-expect-fail"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(last_line(&out), "2 passed, 1 failed, 1 skipped");
}

#[test]
fn a_bad_expect_fail_line_exits_2() {
    let f = Fixture::new(&[("pass.feature", PASSING)]);
    let list = f.write("expect.txt", "ok\n  :: nothing\n");
    let out = f.run_spawned(&["--expect-fail", list.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("expect.txt:2:"), "{}", stderr(&out));
}

// ---------------------------------------------------------------- --spawn lifecycle

/// A stand-in implementation: records its pid (and a background child's pid), then becomes
/// the stub target (exec keeps the pid).
fn stand_in(f: &Fixture) -> String {
    format!(
        "sh -c 'echo $$ > {pid}; sleep 600 & echo $! > {bg}; exec {BIN} stub-target'",
        pid = f.path("pid").display(),
        bg = f.path("bg").display()
    )
}

#[test]
fn the_implementation_is_stopped_after_a_passing_run() {
    let f = Fixture::new(&[("pass.feature", PASSING)]);
    let out = f.run(&["--spawn", &stand_in(&f)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert_gone(read_pid(&f.path("pid")));
    assert_gone(read_pid(&f.path("bg")));
    assert!(
        stdout(&out).contains("implementation log: "),
        "{}",
        stdout(&out)
    );
}

#[test]
fn spawn_replicas_starts_every_copy_on_its_own_port_and_stops_them_all() {
    let f = Fixture::new(&[("pass.feature", PASSING)]);
    // Each copy appends its pid and port; all must be gone at the end.
    let cmd = format!(
        "sh -c 'echo $$ $PORT >> {}; exec {BIN} stub-target'",
        f.path("copies").display()
    );
    let out = f.run(&["--spawn", &cmd, "--spawn-replicas", "3"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let copies = std::fs::read_to_string(f.path("copies")).unwrap();
    let copies: Vec<(u32, u16)> = copies
        .lines()
        .map(|l| {
            let (pid, port) = l.split_once(' ').unwrap();
            (pid.parse().unwrap(), port.parse().unwrap())
        })
        .collect();
    assert_eq!(copies.len(), 3, "{copies:?}");
    let ports: std::collections::HashSet<u16> = copies.iter().map(|c| c.1).collect();
    assert_eq!(ports.len(), 3, "{copies:?}");
    assert!(
        stdout(&out).contains("and 2 replica(s)"),
        "{}",
        stdout(&out)
    );
    for (pid, _) in copies {
        assert_gone(pid);
    }
    // --replica needs --target, --spawn-replicas needs --spawn.
    let out = f.run(&["--spawn-replicas", "2", "--target", "http://127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = f.run(&["--spawn", &cmd, "--replica", "http://127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn an_unreachable_replica_exits_2_before_any_scenario() {
    let f = Fixture::new(&[("pass.feature", PASSING)]);
    let port = closed_port();
    let mut stub = Command::new(BIN)
        .args(["stub-target", "--port", &port.to_string()])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "stub never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    let target = format!("http://127.0.0.1:{port}");
    let replica = format!("http://127.0.0.1:{}", closed_port());
    let out = f.run(&["--target", &target, "--replica", &replica]);
    let _ = stub.kill();
    let _ = stub.wait();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains(&replica), "{}", stderr(&out));
}

#[test]
fn the_implementation_is_stopped_after_a_failing_run() {
    let f = Fixture::new(&[("mixed.feature", MIXED)]);
    let out = f.run(&["--spawn", &stand_in(&f)]);
    assert_eq!(out.status.code(), Some(1));
    assert_gone(read_pid(&f.path("pid")));
    assert_gone(read_pid(&f.path("bg")));
}

#[test]
fn an_implementation_that_never_becomes_ready_is_stopped() {
    let f = Fixture::new(&[("pass.feature", PASSING)]);
    let cmd = format!(
        "sh -c 'echo $$ > {}; exec sleep 600'",
        f.path("pid").display()
    );
    let start = Instant::now();
    let out = f.run(&["--spawn", &cmd, "--ready-timeout", "1s"]);
    assert!(start.elapsed() < Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("was not ready within 1.0 s"), "{err}");
    assert!(err.contains("implementation.log"), "{err}");
    assert_gone(read_pid(&f.path("pid")));
}

#[test]
fn an_implementation_that_exits_early_is_a_setup_error() {
    let f = Fixture::new(&[("pass.feature", PASSING)]);
    let out = f.run(&["--spawn", "sh -c 'echo boom >&2; exit 3'"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("exited"), "{}", stderr(&out));
    let log = std::fs::read_to_string(f.path("logs").join("implementation.log")).unwrap();
    assert_eq!(log.trim(), "boom");
}

#[test]
fn a_missing_program_is_a_setup_error() {
    let f = Fixture::new(&[("pass.feature", PASSING)]);
    let out = f.run(&["--spawn", "/nonexistent/xauth-impl --flag"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot start \"/nonexistent/xauth-impl\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_implementation_gets_the_environment_contract() {
    let f = Fixture::new(&[("pass.feature", PASSING)]);
    let cmd = format!(
        "sh -c 'env > {}; exec {BIN} stub-target'",
        f.path("env").display()
    );
    let out = Command::new(BIN)
        .arg("run")
        // The properties need a real implementation; these stand-ins only answer scenarios.
        .arg("--no-properties")
        .arg("--features")
        .arg(f.path("features"))
        .args(["--issuer-addr", "127.0.0.1:0", "--spawn", &cmd])
        .arg("--log-dir")
        .arg(f.path("logs"))
        .env("SUPABASE_JWT_SECRET", "inherited-must-not-leak")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let env = std::fs::read_to_string(f.path("env")).unwrap();
    assert!(
        env.lines()
            .any(|l| l.starts_with("SUPABASE_URL=http://127.0.0.1:")),
        "{env}"
    );
    assert!(env.lines().any(|l| l.starts_with("PORT=")), "{env}");
    let secret = env
        .lines()
        .find(|l| l.starts_with("SUPABASE_JWT_SECRET="))
        .unwrap();
    assert!(secret.len() > "SUPABASE_JWT_SECRET=".len() + 31, "{secret}");
    assert_ne!(secret, "SUPABASE_JWT_SECRET=inherited-must-not-leak");

    // legacy_hs256 = false: no secret at all, not even the inherited one.
    let profile = f.write("nohs.toml", "legacy_hs256 = false\n");
    let out = Command::new(BIN)
        .arg("run")
        // The properties need a real implementation; these stand-ins only answer scenarios.
        .arg("--no-properties")
        .arg("--features")
        .arg(f.path("features"))
        .args(["--issuer-addr", "127.0.0.1:0", "--spawn", &cmd, "--profile"])
        .arg(&profile)
        .arg("--log-dir")
        .arg(f.path("logs"))
        .env("SUPABASE_JWT_SECRET", "inherited-must-not-leak")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let env = std::fs::read_to_string(f.path("env")).unwrap();
    assert!(!env.contains("SUPABASE_JWT_SECRET"), "{env}");
}

#[test]
fn sigterm_stops_the_run_and_the_implementation() {
    let f = Fixture::new(&[(
        "slow.feature",
        "Feature: slow\n  Scenario: sleeps\n    Given the runner self-test sleeps for 600000 ms\n",
    )]);
    let mut child = Command::new(BIN)
        .arg("run")
        // The properties need a real implementation; these stand-ins only answer scenarios.
        .arg("--no-properties")
        .arg("--features")
        .arg(f.path("features"))
        .args(["--issuer-addr", "127.0.0.1:0", "--spawn", &stand_in(&f)])
        .arg("--log-dir")
        .arg(f.path("logs"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the implementation is up (it wrote its pid and the run has started).
    let deadline = Instant::now() + Duration::from_secs(20);
    while !(f.path("pid").exists() && f.path("bg").exists()) {
        assert!(
            Instant::now() < deadline,
            "the implementation never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = read_pid(&f.path("pid"));
    let bg = read_pid(&f.path("bg"));
    let runner = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(runner, rustix::process::Signal::TERM).unwrap();
    let status = child.wait().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        status.code(),
        Some(130),
        "{status:?} {}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert_gone(pid);
    assert_gone(bg);
}

// ---------------------------------------------------------------- reports

fn redact_junit(xml: &str) -> String {
    let time = regex::Regex::new(r#"time="[0-9.]+""#).unwrap();
    time.replace_all(xml, r#"time="[time]""#).into_owned()
}

#[test]
fn junit_and_json_reports_have_a_stable_shape() {
    let f = Fixture::new(&[("mixed.feature", MIXED), ("pass.feature", PASSING)]);
    let list = f.write("expect.txt", "outline row [passes]\n");
    let junit = f.path("report.xml");
    let json = f.path("report.json");
    let out = f.run_spawned(&[
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--expect-fail",
        list.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));

    let xml = std::fs::read_to_string(&junit).unwrap();
    insta::assert_snapshot!("junit", redact_junit(&xml));

    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    insta::assert_json_snapshot!("json", value, {
        ".run.started_at" => "[time]",
        ".run.duration_ms" => "[duration]",
        ".run.target" => "[target]",
        ".run.issuer" => "[issuer]",
        ".run.spawn" => "[spawn]",
        ".run.expect_fail_file" => "[file]",
        ".features[].scenarios[].duration_ms" => "[duration]",
    });
}

// ---------------------------------------------------------------- severities, groups

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

#[test]
fn failures_are_grouped_and_critical_ones_come_first() {
    let f = Fixture::new(&[("severe.feature", SEVERE)]);
    let json = f.path("r.json");
    let out = f.run_spawned(&["--json", json.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    // critical 1 + high 3 + medium 1 + the suite error; the low failure is below --fail-on.
    assert_eq!(last_line(&out), "1 passed, 6 failed, 0 skipped");
    assert!(
        text.contains("\n1 failed below --fail-on medium (not failing the run)\n"),
        "{text}"
    );
    // The critical banner opens the failure section, and names what was accepted.
    let banner = text
        .find("CRITICAL: the implementation ACCEPTED tokens it must reject (1 accepted)")
        .expect(&text);
    let failures = text.find("\nFailures (").expect(&text);
    assert!(banner < failures, "{text}");
    assert!(
        text.contains("  ACCEPTED a forged token is refused  (severe.feature:5)"),
        "{text}"
    );
    // One root cause, three outline rows: one group, every row named, one evidence block.
    assert!(
        text.contains("[HIGH] 3 scenarios: expected 401 with error code UNAUTHENTICATED (runner self-test); got HTTP 500, error code \"INTERNAL\""),
        "{text}"
    );
    for kid in ["../../etc/passwd", "<script>alert(1)</script>", "%00"] {
        assert!(
            text.contains(&format!("a hostile kid {kid} is refused")),
            "{text}"
        );
    }
    // critical, high, medium and low verdict groups: four evidence blocks for six failures
    assert_eq!(
        count(&text, "    | expected: 401 with error code"),
        4,
        "{text}"
    );
    assert!(
        text.contains("[LOW; below --fail-on medium: not failing the run] 1 scenario"),
        "{text}"
    );
    assert!(text.contains("Suite errors (1;"), "{text}");
    // The summary counts failures per severity.
    assert!(
        text.contains("  feature         passed  failed  skipped  critical  high  medium  low"),
        "{text}"
    );
    assert!(
        text.contains("  severe.feature       1       6        0         1     3       1    1"),
        "{text}"
    );

    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["run"]["fail_on"], "medium");
    assert_eq!(v["summary"]["failed"], 6);
    assert_eq!(v["summary"]["below_fail_on"], 1);
    assert_eq!(
        v["summary"]["failed_by_severity"],
        serde_json::json!({"critical": 1, "high": 3, "medium": 1, "low": 1})
    );
    let groups = v["groups"].as_array().unwrap();
    let shape: Vec<_> = groups
        .iter()
        .map(|g| {
            (
                g["status"].as_str().unwrap(),
                g["severity"].as_str().unwrap(),
                g["count"].as_u64().unwrap(),
                g["fails_run"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("failed", "critical", 1, true),
            ("failed", "high", 3, true),
            ("failed", "medium", 1, true),
            ("failed", "low", 1, false),
            ("error", "medium", 1, true),
        ]
    );
    assert_eq!(groups[0]["accepted"], true);
    assert_eq!(groups[1]["observed"]["status"], 500);
    assert_eq!(groups[1]["observed"]["code"], "INTERNAL");
    assert_eq!(
        groups[1]["observed"]["body_shape"],
        r#"{"error":{"code":"INTERNAL","message":"kid '…' broke # things"}}"#
    );
    assert_eq!(groups[1]["scenarios"][0]["file"], "severe.feature");
    assert_eq!(groups[1]["scenarios"][0]["line"], 15);
    assert!(
        groups[1]["evidence"]
            .as_str()
            .unwrap()
            .contains("reproduce: curl"),
        "{}",
        groups[1]
    );
    let low = &v["features"][0]["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "a hardened reading holds")
        .cloned()
        .unwrap();
    assert_eq!(low["status"], "failed", "the mutation gate still sees it");
    assert_eq!(low["severity"], "low");
    assert_eq!(low["fails_run"], false);
}

#[test]
fn fail_on_sets_the_threshold_and_strict_lowers_it() {
    let f = Fixture::new(&[("severe.feature", SEVERE)]);
    // --fail-on critical: only the accepted token (and the suite error) fail the run.
    let out = f.run_spawned(&["--fail-on", "critical"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_eq!(last_line(&out), "1 passed, 2 failed, 0 skipped");
    assert!(
        text.contains("\n5 failed below --fail-on critical (not failing the run)\n"),
        "{text}"
    );
    // Nothing at or above the threshold failed (suite error deselected): exit 0.
    let out = f.run_spawned(&[
        "--fail-on",
        "critical",
        "--tags",
        "not @critical and not @A50",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(last_line(&out), "1 passed, 0 failed, 0 skipped");
    // --strict: the low failure fails the run too; an explicit --fail-on wins over it.
    let out = f.run_spawned(&["--strict", "--tags", "@low"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(last_line(&out), "0 passed, 1 failed, 0 skipped");
    let out = f.run_spawned(&["--strict", "--fail-on", "medium", "--tags", "@low"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // A suite error fails the run whatever the threshold.
    let out = f.run_spawned(&["--fail-on", "critical", "--tags", "@A50"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(last_line(&out), "0 passed, 1 failed, 0 skipped");
}

#[test]
fn sarif_and_html_reports() {
    let f = Fixture::new(&[("severe.feature", SEVERE)]);
    let sarif = f.path("r.sarif");
    let html = f.path("r.html");
    let out = f.run_spawned(&[
        "--sarif",
        sarif.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));

    // SARIF 2.1.0: rules for the catalogue rows, results that reference them.
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert!(v["$schema"].as_str().unwrap().ends_with("sarif-2.1.0.json"));
    let driver = &v["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "xauth-conformance");
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["A07", "A30", "A12", "A40", "A50"]);
    assert_eq!(
        rules[0]["shortDescription"]["text"],
        "a forged token is refused"
    );
    let results = v["runs"][0]["results"].as_array().unwrap();
    // one per failing scenario; the suite error is not a finding on the target
    assert_eq!(results.len(), 6);
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(ids.get(index), Some(&id), "{r}");
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "features/severe.feature");
        assert!(loc["region"]["startLine"].as_u64().unwrap() > 0);
    }
    let levels: Vec<&str> = results
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert_eq!(
        levels,
        ["error", "error", "error", "error", "warning", "note"]
    );
    assert!(
        results[0]["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("ACCEPTED a forged token is refused: observed HTTP 200"),
        "{}",
        results[0]
    );

    // HTML: self-contained, attacker bytes escaped, critical first.
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(
        !page.contains("<script"),
        "the hostile kid must come out escaped"
    );
    assert!(page.contains("a hostile kid &lt;script&gt;alert(1)&lt;/script&gt; is refused"));
    assert!(
        !page.contains("src=") && !page.contains("<link"),
        "no external asset"
    );
    let banner = page.find("ACCEPTED tokens it must reject").expect(&page);
    let high = page.find("3 scenarios: expected").expect(&page);
    assert!(banner < high);
    assert!(page.contains("1 passed, 6 failed, 0 skipped"));
}

#[test]
fn a_suite_error_is_reported_apart_and_fails_the_run() {
    let f = Fixture::new(&[(
        "harness.feature",
        "Feature: harness\n  Scenario: cannot judge\n    Given the runner self-test fails with \"suite error (not a verdict on the target): the issuer refused a mint\"\n\n  Scenario: fine\n    Given the runner self-test passes\n",
    )]);
    let junit = f.path("r.xml");
    let json = f.path("r.json");
    let out = f.run_spawned(&[
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("Suite errors (1; the suite could not judge these"),
        "{text}"
    );
    assert!(!text.contains("\nFailures ("), "{text}");
    assert_eq!(last_line(&out), "1 passed, 1 failed, 0 skipped");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("failures=\"0\" skipped=\"0\" errors=\"1\""),
        "{xml}"
    );
    assert!(xml.contains("<error message="), "{xml}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["features"][0]["scenarios"][0]["status"], "error");
    assert_eq!(v["summary"]["errors"], 1);
    assert_eq!(v["summary"]["failed"], 1);
    assert_eq!(v["summary"]["exit_code"], 1);
}

// ---------------------------------------------------------------- --issuer (attach)

fn attach_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_running_issuer_is_attached_with_its_control_key() {
    let rt = attach_runtime();
    let issuer = rt
        .block_on(xauth_issuer::Issuer::builder().port(0).spawn())
        .unwrap();
    let info = issuer.info();
    let f = Fixture::new(&[("pass.feature", PASSING)]);
    let json = f.path("r.json");
    let spawn = format!("{BIN} stub-target");
    let out = Command::new(BIN)
        .arg("run")
        // The properties need a real implementation; these stand-ins only answer scenarios.
        .arg("--no-properties")
        .arg("--features")
        .arg(f.path("features"))
        .args([
            "--issuer",
            &info.api_url,
            "--control-key",
            &info.service_role_key,
        ])
        .args(["--spawn", &spawn, "--json", json.to_str().unwrap()])
        .arg("--log-dir")
        .arg(f.path("logs"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["run"]["issuer_in_process"], false);
    assert_eq!(
        v["run"]["issuer"].as_str().unwrap().trim_end_matches('/'),
        info.api_url
    );

    // A wrong key is a setup error naming the likely cause.
    let out = Command::new(BIN)
        .arg("run")
        // The properties need a real implementation; these stand-ins only answer scenarios.
        .arg("--no-properties")
        .arg("--features")
        .arg(f.path("features"))
        .args(["--issuer", &info.api_url, "--control-key", "not-the-key"])
        .args(["--spawn", &spawn])
        .arg("--log-dir")
        .arg(f.path("logs"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("wrong --control-key?"),
        "{}",
        stderr(&out)
    );
    rt.block_on(issuer.shutdown());
}

#[test]
fn list_counts_scenarios_by_feature_without_running_anything() {
    let f = Fixture::new(&[("mixed.feature", MIXED), ("pass.feature", PASSING)]);
    let out = Command::new(BIN)
        .args(["list", "--features"])
        .arg(f.path("features"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!("list", stdout(&out));
    let out = Command::new(BIN)
        .args(["list", "--tags", "@known", "--scenarios", "--features"])
        .arg(f.path("features"))
        .output()
        .unwrap();
    assert!(
        stdout(&out).contains("mixed.feature:9: second fails"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("| **total** | | **1** | **0** |"),
        "{}",
        stdout(&out)
    );
}
