//! Developer commands for the xauth workspace: `cargo xtask <command>`.
//!
//! Dependency-free on purpose (it compiles in about a second). Every command shells out to the
//! same `cargo` that runs it, from the workspace root, and stops at the first failing step.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod targets;

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  conformance [ARGS]   run the conformance suite; without --target/--spawn it builds and spawns
                       the embedded reference API (xauth-reference). ARGS go to `xauth-conformance run`.
  mock [ARGS]          run the fake Supabase auth server (xauth-issuer) on 127.0.0.1:54321
  interop              drive xauth-issuer with the real supabase-js and jose (needs node + npm)
  targets [NAME...] [-- ARGS]
                       the suite (default mode) against each correct implementation in
                       interop/targets/ (node-jose, python-pyjwt; needs node + npm and python3
                       with venv): installs its dependencies, runs it with the spawn command its
                       profile.toml names, requires 0 failed. ARGS go to `xauth-conformance run`.
  ci                   what CI runs: fmt check, clippy -D warnings, all tests, the supabase-js
                       interop tests, the interop targets, conformance, the mutation gate
  mutants [ARGS]       the mutation gate: the whole suite against xauth-reference clean and once
                       per seeded defect; fails if a defect survives. Uses
                       fixtures/profiles/reference-fast.toml (and the reference flags its header
                       names) when present. ARGS go to `xauth-conformance gate`.
  bench <issuer|verifier|reference|all>
                       run a benchmark (release build)
  help                 this text";

fn main() -> ExitCode {
    let mut args = env::args_os().skip(1);
    let Some(command) = args.next() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest: Vec<OsString> = args.collect();
    let result = match command.to_str() {
        Some("conformance") => conformance(&rest),
        Some("mock") => mock(&rest),
        Some("interop") => interop(true),
        Some("targets") => targets::targets(&rest, true),
        Some("ci") => ci(),
        Some("bench") => bench(&rest),
        Some("mutants") => mutants(&rest),
        Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("unknown command {command:?}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { code, message }) => {
            if !message.is_empty() {
                eprintln!("xtask: {message}");
            }
            ExitCode::from(code)
        }
    }
}

/// A failed step: the exit code to pass on and what to say about it.
#[derive(Debug)]
struct Failure {
    code: u8,
    message: String,
}

type Outcome = Result<(), Failure>;

fn workspace_root() -> PathBuf {
    // xtask/ lives directly under the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn target_dir() -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        }
        None => workspace_root().join("target"),
    }
}

fn cargo() -> Command {
    let mut cmd = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(workspace_root());
    cmd
}

/// Runs `cmd`, echoing it first; a non-zero exit becomes a `Failure` with the same code.
fn run(mut cmd: Command) -> Outcome {
    eprintln!("$ {}", render(&cmd));
    let status = cmd.status().map_err(|e| Failure {
        code: 2,
        message: format!("cannot start {}: {e}", render(&cmd)),
    })?;
    if status.success() {
        Ok(())
    } else {
        let code = status.code().map_or(1, |c| u8::try_from(c).unwrap_or(1));
        Err(Failure {
            code: code.max(1),
            message: format!("`{}` failed ({status})", render(&cmd)),
        })
    }
}

fn render(cmd: &Command) -> String {
    let mut out = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        out.push(' ');
        out.push_str(&arg.to_string_lossy());
    }
    out
}

fn has_flag(args: &[OsString], flag: &str) -> bool {
    args.iter().any(|a| {
        a.to_str()
            .is_some_and(|s| s == flag || s.starts_with(&format!("{flag}=")))
    })
}

/// `cargo xtask conformance`: build, then run the suite.
fn conformance(args: &[OsString]) -> Outcome {
    conformance_with(args, true)
}

/// Runs the suite; `build` false reuses binaries that `cargo test --workspace` just built
/// (building them again with the non-test feature set would recompile ~25 crates).
fn conformance_with(args: &[OsString], build: bool) -> Outcome {
    let against_reference = !has_flag(args, "--target") && !has_flag(args, "--spawn");
    let bin_dir = target_dir().join("debug");
    let built = bin_dir.join("xauth-conformance").is_file()
        && (!against_reference || bin_dir.join("xauth-reference").is_file());
    if build || !built {
        let mut cmd = cargo();
        cmd.args(["build", "--quiet", "-p", "xauth-conformance"]);
        if against_reference {
            cmd.args(["-p", "xauth-reference"]);
        }
        run(cmd)?;
    }

    let mut suite = Command::new(bin_dir.join("xauth-conformance"));
    suite.current_dir(workspace_root()).arg("run");
    if against_reference {
        let mut spawn = bin_dir.join("xauth-reference").display().to_string();
        if !has_flag(args, "--profile") {
            // The reference started with short TTL/cooldown/window values and the profile that
            // declares them, so the stateful families wait seconds, not minutes.
            let (reference_args, run_flags) = fast_profile()?;
            spawn = format!("{spawn} {reference_args}");
            suite.arg("--profile").arg(FAST_PROFILE).args(run_flags);
        }
        suite.arg("--spawn").arg(spawn);
        // The reference claims the strict reading too, so its run includes the @strict scenarios.
        if !has_flag(args, "--strict") {
            suite.arg("--strict");
        }
        if !has_flag(args, "--issuer-addr") && !has_flag(args, "--issuer") {
            // An ephemeral port, so a developer's running mock on 54321 never collides.
            suite.args(["--issuer-addr", "127.0.0.1:0"]);
        }
    }
    // Against another implementation without --profile, the suite's built-in default applies:
    // it declares no leeway, so the leeway-boundary scenarios are skipped rather than guessed.
    suite.args(args);
    run(suite)
}

/// The reference flags and extra `run` flags named in the fast profile's header comment.
fn fast_profile() -> Result<(String, Vec<String>), Failure> {
    let text =
        std::fs::read_to_string(workspace_root().join(FAST_PROFILE)).map_err(|e| Failure {
            code: 2,
            message: format!("{FAST_PROFILE}: {e}"),
        })?;
    fast_profile_flags(&text).ok_or_else(|| Failure {
        code: 2,
        message: format!(
            "{FAST_PROFILE}: its header comment names no `xauth-conformance run ... --spawn \"... xauth-reference FLAGS\"` command"
        ),
    })
}

/// `cargo xtask mock`: the fake Supabase auth server in the foreground.
fn mock(args: &[OsString]) -> Outcome {
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--quiet",
        "-p",
        "xauth-issuer",
        "--bin",
        "xauth-issuer",
        "--",
    ]);
    cmd.args(args);
    run(cmd)
}

/// `cargo xtask ci`: the full gate, in the order that fails fastest.
fn ci() -> Outcome {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run(fmt)?;

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run(clippy)?;

    let mut test = cargo();
    test.args(["test", "--workspace"]);
    run(test)?;

    interop(false)?;
    // Correct implementations in other languages must pass the default suite: a failure here
    // is a false alarm of the suite (or a broken target), never a finding.
    targets::targets(&[], false)?;
    conformance_with(&[], false)?;
    // The mutation gate: the suite must catch every seeded defect, so a weakened scenario
    // cannot land.
    mutants(&[])
}

/// `cargo xtask interop`: the real supabase-js and jose clients against the issuer binary.
/// `build` false reuses the binary `cargo test --workspace` built.
fn interop(build: bool) -> Outcome {
    let issuer = target_dir().join("debug").join("xauth-issuer");
    if build || !issuer.is_file() {
        let mut cmd = cargo();
        cmd.args([
            "build",
            "--quiet",
            "-p",
            "xauth-issuer",
            "--bin",
            "xauth-issuer",
        ]);
        run(cmd)?;
    }
    let dir = workspace_root().join("interop").join("supabase-js");
    let mut install = Command::new("npm");
    install
        .current_dir(&dir)
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
    run(install)?;
    let mut test = Command::new("node");
    test.current_dir(&dir)
        .args(["--test", "--test-reporter=spec"])
        .env("XAUTH_ISSUER_BIN", &issuer);
    run(test)
}

/// `cargo xtask bench <name>`: one benchmark, release build.
fn bench(args: &[OsString]) -> Outcome {
    let which = args.first().and_then(|a| a.to_str()).unwrap_or("all");
    let targets: &[(&str, &str)] = match which {
        "issuer" => &[("xauth-issuer", "server")],
        "verifier" => &[("xauth-verifier", "verify")],
        "reference" => &[("xauth-reference", "load")],
        "all" => &[
            ("xauth-verifier", "verify"),
            ("xauth-issuer", "server"),
            ("xauth-reference", "load"),
        ],
        other => {
            return Err(Failure {
                code: 2,
                message: format!("unknown benchmark {other:?}: issuer, verifier, reference, all"),
            });
        }
    };
    for (package, bench) in targets {
        let mut cmd = cargo();
        cmd.args(["bench", "-p", package, "--bench", bench]);
        cmd.args(args.iter().skip(1));
        run(cmd)?;
    }
    Ok(())
}

/// The fast profile for the reference; its header names the reference flags it matches.
const FAST_PROFILE: &str = "fixtures/profiles/reference-fast.toml";

/// `cargo xtask mutants`: build, then run the mutation gate and report its wall time.
fn mutants(args: &[OsString]) -> Outcome {
    let started = std::time::Instant::now();
    let mut build = cargo();
    build.args([
        "build",
        "--quiet",
        "-p",
        "xauth-conformance",
        "-p",
        "xauth-reference",
    ]);
    run(build)?;
    let built = started.elapsed();
    let bin_dir = target_dir().join("debug");
    let mut gate = Command::new(bin_dir.join("xauth-conformance"));
    gate.current_dir(workspace_root())
        .arg("gate")
        .arg("--reference")
        .arg(bin_dir.join("xauth-reference"))
        // the reference claims the strict reading too (as in `cargo xtask conformance`)
        .arg("--run-arg=--strict");
    if !has_flag(args, "--profile") {
        let (reference_args, run_flags) = fast_profile()?;
        gate.arg("--profile").arg(FAST_PROFILE);
        if !has_flag(args, "--reference-args") {
            gate.arg(format!("--reference-args={reference_args}"));
        }
        for flag in run_flags {
            gate.arg(format!("--run-arg={flag}"));
        }
    }
    gate.args(args);
    let gated = std::time::Instant::now();
    let result = run(gate);
    eprintln!(
        "xtask mutants: build {:.0} s, gate {:.0} s, total {:.0} s",
        built.as_secs_f64(),
        gated.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    result
}

/// From a profile's leading comment block, the `xauth-conformance run … --spawn "…
/// xauth-reference FLAGS"` command: (the reference FLAGS, the other `run` flags except
/// `--profile`). Lines ending in `\` continue.
fn fast_profile_flags(text: &str) -> Option<(String, Vec<String>)> {
    let (spawn, run_flags) = header_run_command(text)?;
    let spawn = split_words(&spawn?)?;
    Some((spawn.get(1..)?.join(" "), run_flags))
}

/// From a profile's leading comment block (lines ending in `\` continue), the first
/// `xauth-conformance run …` command: (its `--spawn` value, the other `run` flags except
/// `--profile FILE`). `None` when there is no such line or a quote is unbalanced.
fn header_run_command(text: &str) -> Option<(Option<String>, Vec<String>)> {
    let mut joined = String::new();
    for line in text.lines() {
        let Some(comment) = line.trim_start().strip_prefix('#') else {
            break;
        };
        let comment = comment.trim();
        match comment.strip_suffix('\\') {
            Some(cont) => {
                joined.push_str(cont);
                joined.push(' ');
            }
            None => {
                joined.push_str(comment);
                joined.push('\n');
            }
        }
    }
    let line = joined
        .lines()
        .find(|l| l.contains("xauth-conformance run"))?;
    let words = split_words(line)?;
    let start = words.iter().position(|w| w == "run")? + 1;
    let mut run_flags = Vec::new();
    let mut spawn = None;
    let mut i = start;
    while i < words.len() {
        match words[i].as_str() {
            "--spawn" => {
                spawn = Some(words.get(i + 1)?.clone());
                i += 2;
            }
            "--profile" => i += 2,
            w => {
                run_flags.push(w.to_owned());
                i += 1;
            }
        }
    }
    Some((spawn, run_flags))
}

/// Splits like a shell (whitespace, single and double quotes; no escapes); `None` on an
/// unbalanced quote.
fn split_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return None;
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}
