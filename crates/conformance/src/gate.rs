//! The mutation gate (`xauth-conformance gate`): proves the suite has teeth.
//!
//! It runs the whole suite (scenarios and properties) against `xauth-reference` once clean and
//! once per seeded defect (`xauth-reference --list-defects`, first column), each run in its own
//! process (`xauth-conformance run --spawn '<reference> --defect NAME' --issuer-addr
//! 127.0.0.1:0 --json FILE --quiet`, so every run has a fresh issuer on an ephemeral port and a
//! fresh implementation), `--jobs` at a time. It reads each JSON report: a defect is caught by
//! the scenarios whose status is `failed` (a suite `error` is not a catch). It prints a table
//! defect → catching scenarios, and exits 0 when the clean run passes and every defect is
//! caught, 1 when a defect survives or the clean run fails, 2 on a usage or setup error.
//!
//! ```text
//! $ xauth-conformance gate --reference target/debug/xauth-reference
//! defect                       verdict   caught by
//! (clean)                      passed    349 passed, 0 failed, 20 skipped
//! alg-none                     caught    9 scenarios: algorithms :: An unsigned token …; … (+7 more)
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use futures::StreamExt as _;
use serde_json::Value;

/// `xauth-conformance gate`.
#[derive(Debug, Clone, Args)]
pub struct GateArgs {
    /// The `xauth-reference` binary (built with its seeded defects).
    #[arg(long, value_name = "PATH")]
    pub reference: PathBuf,

    /// Extra flags for every reference run, split like a shell would, e.g.
    /// '--jwks-ttl-max 2 --rate-window 2' (they must agree with --profile).
    #[arg(
        long,
        value_name = "ARGS",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub reference_args: String,

    /// Target profile for every run (default: the built-in default profile).
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,

    /// Directory of .feature files (default as for `run`).
    #[arg(long, value_name = "DIR")]
    pub features: Option<PathBuf>,

    /// Only these defects (repeatable; default: every defect the reference lists).
    #[arg(long = "defect", value_name = "NAME")]
    pub defects: Vec<String>,

    /// Runs at the same time. Most of a run's stateful scenarios wait (cache TTLs, windows,
    /// slow JWKS answers) rather than compute, so more runs than cores keep the CPU busy
    /// (measured on 2 shared cores: 4 at a time 609 s, 8 at a time 414 s).
    #[arg(long, value_name = "N", default_value = "8", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub jobs: u32,

    /// Cases per property in each run (kept small: the gate runs the suite many times).
    #[arg(long, value_name = "N", default_value = "24", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub properties_cases: u32,

    /// Seed of the properties in every run (default: one random seed for the whole gate, printed).
    #[arg(long, value_name = "SEED")]
    pub properties_seed: Option<u64>,

    /// Bound on one run (the run is stopped, and counts as a setup error, after this).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = crate::cli::parse_duration)]
    pub run_timeout: Duration,

    /// Directory for the runs' JSON reports and implementation logs (default: a fresh
    /// temporary directory, kept and printed).
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,

    /// Extra arguments for every `run` (repeatable), e.g. --run-arg=--slow or
    /// --run-arg=--tags --run-arg='@claims'.
    #[arg(long = "run-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub run_args: Vec<String>,
}

/// Exit status of the gate: clean run passed and every defect caught.
pub const GATE_PASSED: i32 = 0;
/// Exit status: a defect survived or the clean run failed.
pub const GATE_FAILED: i32 = 1;
/// Exit status: usage or setup error.
pub const GATE_SETUP: i32 = 2;

/// How many catching scenarios the table names before `(+N more)`.
const NAMES_SHOWN: usize = 3;

/// The outcome of one suite run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// The run finished and wrote its report.
    Report {
        /// The process's exit status.
        exit_code: i32,
        /// `feature :: scenario` of every scenario whose status is `failed`.
        failed: Vec<String>,
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
    /// The defect name, or `None` for the clean run.
    pub defect: Option<String>,
    /// What the run produced.
    pub outcome: RunOutcome,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl Row {
    /// Whether this row is what the gate needs: the clean run passes, a defect is caught.
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
            (Some(_), RunOutcome::Report { failed, .. }) => !failed.is_empty(),
            (_, RunOutcome::Broken(_)) => false,
        }
    }
}

/// Reads a JSON report (`xauth-conformance/report/v1`) into a [`RunOutcome`].
///
/// ```
/// use xauth_conformance::gate::{read_report, RunOutcome};
/// let json = r#"{"summary":{"passed":1,"failed":1,"skipped":0,"exit_code":1},
///   "features":[{"name":"Claims","file":"claims.feature","scenarios":[
///     {"name":"a","status":"passed"},{"name":"b","status":"failed"}]}]}"#;
/// match read_report(json, 1) {
///     RunOutcome::Report { failed, .. } => assert_eq!(failed, ["claims :: b"]),
///     other => panic!("{other:?}"),
/// }
/// ```
pub fn read_report(text: &str, exit_code: i32) -> RunOutcome {
    let v: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return RunOutcome::Broken(format!("unreadable JSON report: {e}")),
    };
    let mut failed = Vec::new();
    let mut errors = Vec::new();
    for f in v["features"].as_array().into_iter().flatten() {
        let file = f["file"].as_str().unwrap_or("");
        let short = file.strip_suffix(".feature").unwrap_or(file);
        for s in f["scenarios"].as_array().into_iter().flatten() {
            let name = format!("{short} :: {}", s["name"].as_str().unwrap_or("?"));
            match s["status"].as_str() {
                Some("failed") => failed.push(name),
                Some("error") => errors.push(name),
                _ => {}
            }
        }
    }
    let sum = &v["summary"];
    let n = |k: &str| sum[k].as_u64().unwrap_or(0);
    RunOutcome::Report {
        exit_code,
        failed,
        errors,
        closing: format!(
            "{} passed, {} failed, {} skipped",
            n("passed"),
            n("failed"),
            n("skipped")
        ),
    }
}

/// Lists the defect names of a reference binary (`--list-defects`, first column).
pub async fn list_defects(reference: &Path) -> Result<Vec<String>, String> {
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new(reference)
            .arg("--list-defects")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .map_err(|_| {
        format!(
            "{} --list-defects did not answer within 30 s",
            reference.display()
        )
    })?
    .map_err(|e| format!("cannot run {}: {e}", reference.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} --list-defects exited with {}: {}",
            reference.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Err(format!(
            "{} --list-defects listed no defect",
            reference.display()
        ));
    }
    Ok(names)
}

fn quote(s: &str) -> Result<String, String> {
    shlex::try_quote(s)
        .map(|c| c.into_owned())
        .map_err(|e| format!("cannot quote {s:?}: {e}"))
}

/// The `--spawn` command of one run.
fn spawn_command(args: &GateArgs, defect: Option<&str>) -> Result<String, String> {
    let mut cmd = quote(&args.reference.display().to_string())?;
    if !args.reference_args.trim().is_empty() {
        let words = shlex::split(&args.reference_args).ok_or_else(|| {
            format!(
                "--reference-args {:?}: unbalanced quotes",
                args.reference_args
            )
        })?;
        for w in words {
            cmd.push(' ');
            cmd.push_str(&quote(&w)?);
        }
    }
    if let Some(d) = defect {
        cmd.push_str(" --defect ");
        cmd.push_str(&quote(d)?);
    }
    Ok(cmd)
}

async fn run_one(
    exe: &Path,
    args: &GateArgs,
    seed: u64,
    dir: &Path,
    defect: Option<String>,
) -> Row {
    let started = Instant::now();
    let label = defect.clone().unwrap_or_else(|| "clean".to_owned());
    let outcome = run_one_inner(exe, args, seed, dir, defect.as_deref(), &label).await;
    Row {
        defect,
        outcome,
        elapsed: started.elapsed(),
    }
}

async fn run_one_inner(
    exe: &Path,
    args: &GateArgs,
    seed: u64,
    dir: &Path,
    defect: Option<&str>,
    label: &str,
) -> RunOutcome {
    let spawn = match spawn_command(args, defect) {
        Ok(s) => s,
        Err(e) => return RunOutcome::Broken(e),
    };
    let json = dir.join(format!("{label}.json"));
    let log_dir = dir.join(label);
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg("run")
        .arg("--spawn")
        .arg(&spawn)
        .arg("--issuer-addr")
        .arg("127.0.0.1:0")
        .arg("--json")
        .arg(&json)
        .arg("--log-dir")
        .arg(&log_dir)
        .arg("--quiet")
        .arg("--properties-cases")
        .arg(args.properties_cases.to_string())
        .arg("--properties-seed")
        .arg(seed.to_string());
    if let Some(p) = &args.profile {
        cmd.arg("--profile").arg(p);
    }
    if let Some(f) = &args.features {
        cmd.arg("--features").arg(f);
    }
    cmd.args(&args.run_args);
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return RunOutcome::Broken(format!("cannot start {}: {e}", exe.display())),
    };
    let pid = child.id();
    let waited = tokio::time::timeout(args.run_timeout, child.wait_with_output()).await;
    let out = match waited {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return RunOutcome::Broken(format!("waiting for the run: {e}")),
        Err(_) => {
            // SIGTERM lets the runner stop the implementation it spawned; the child itself is
            // killed when its handle is dropped (kill_on_drop).
            if let Some(pid) = pid.and_then(|p| rustix::process::Pid::from_raw(p as i32)) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
            return RunOutcome::Broken(format!(
                "the run did not finish within --run-timeout {:.0} s",
                args.run_timeout.as_secs_f64()
            ));
        }
    };
    let code = out.status.code().unwrap_or(-1);
    if code != 0 && code != 1 {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return RunOutcome::Broken(format!("the run exited with {code}: {last}"));
    }
    match std::fs::read_to_string(&json) {
        Ok(text) => read_report(&text, code),
        Err(e) => RunOutcome::Broken(format!("no JSON report {}: {e}", json.display())),
    }
}

fn describe(row: &Row) -> (&'static str, String) {
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
                let mut names: Vec<&String> = failed.iter().chain(errors.iter()).collect();
                let more = names.len().saturating_sub(NAMES_SHOWN);
                names.truncate(NAMES_SHOWN);
                let list = names
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("; ");
                let more = if more > 0 {
                    format!(" (+{more} more)")
                } else {
                    String::new()
                };
                ("FAILED", format!("{closing}: {list}{more}"))
            }
        }
        (Some(_), RunOutcome::Report { failed, errors, .. }) => {
            if failed.is_empty() {
                let note = if errors.is_empty() {
                    String::new()
                } else {
                    format!(" ({} suite errors: {})", errors.len(), errors.join("; "))
                };
                ("SURVIVED", format!("no scenario failed{note}"))
            } else {
                let shown: Vec<&str> = failed
                    .iter()
                    .take(NAMES_SHOWN)
                    .map(String::as_str)
                    .collect();
                let more = failed.len().saturating_sub(NAMES_SHOWN);
                let more = if more > 0 {
                    format!(" (+{more} more)")
                } else {
                    String::new()
                };
                (
                    "caught",
                    format!(
                        "{} scenario{}: {}{more}",
                        failed.len(),
                        if failed.len() == 1 { "" } else { "s" },
                        shown.join("; ")
                    ),
                )
            }
        }
    }
}

/// Copies the `.feature` files the runner would use (`explicit`, else the repository's
/// `features/`, else the embedded ones) into `to`, so that edits made while the gate runs
/// cannot give its runs different suites.
fn snapshot_features(explicit: Option<&Path>, to: &Path) -> Result<PathBuf, String> {
    let source = crate::feature_files::resolve(explicit).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let entries =
        std::fs::read_dir(source.dir()).map_err(|e| format!("{}: {e}", source.dir().display()))?;
    let mut copied = 0;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "feature")
            && let Some(name) = path.file_name()
        {
            std::fs::copy(&path, to.join(name))
                .map_err(|e| format!("copying {}: {e}", path.display()))?;
            copied += 1;
        }
    }
    if copied == 0 {
        return Err(format!("no .feature files in {}", source.dir().display()));
    }
    Ok(to.to_owned())
}

/// The gate's table (one row per run, clean first).
pub fn render_table(rows: &[Row]) -> String {
    use std::fmt::Write as _;
    let width = rows
        .iter()
        .map(|r| r.defect.as_deref().unwrap_or("(clean)").len())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<width$}  {:<8}  {:>5}  caught by",
        "defect", "verdict", "time"
    );
    for r in rows {
        let (verdict, detail) = describe(r);
        let _ = writeln!(
            out,
            "{:<width$}  {:<8}  {:>4}s  {detail}",
            r.defect.as_deref().unwrap_or("(clean)"),
            verdict,
            r.elapsed.as_secs()
        );
    }
    out
}

/// Runs the gate; returns the exit status.
pub async fn gate(args: &GateArgs) -> i32 {
    match gate_inner(args).await {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("xauth-conformance gate: error: {msg}");
            GATE_SETUP
        }
    }
}

async fn gate_inner(args: &GateArgs) -> Result<i32, String> {
    let started = Instant::now();
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    if !args.reference.is_file() {
        return Err(format!(
            "--reference {}: no such file",
            args.reference.display()
        ));
    }
    spawn_command(args, None)?;
    let listed = list_defects(&args.reference).await?;
    let defects = if args.defects.is_empty() {
        listed
    } else {
        for d in &args.defects {
            if !listed.contains(d) {
                return Err(format!(
                    "--defect {d}: the reference does not list it (known: {})",
                    listed.join(", ")
                ));
            }
        }
        args.defects.clone()
    };
    let dir = match &args.work_dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| format!("--work-dir {}: {e}", d.display()))?;
            d.clone()
        }
        None => tempfile::Builder::new()
            .prefix("xauth-gate-")
            .tempdir()
            .map_err(|e| format!("cannot create a work directory: {e}"))?
            .keep(),
    };
    // Every run judges the same suite: the feature files are copied once, before any run.
    let features = snapshot_features(args.features.as_deref(), &dir.join("features"))?;
    let seed = args.properties_seed.unwrap_or_else(rand::random);
    println!(
        "mutation gate: the suite against {} clean and with each of {} seeded defects, {} at a time \
         (properties: {} cases, seed {seed}); reports in {}",
        args.reference.display(),
        defects.len(),
        args.jobs,
        args.properties_cases,
        dir.display()
    );
    let runs: Vec<Option<String>> = std::iter::once(None)
        .chain(defects.into_iter().map(Some))
        .collect();
    let total = runs.len();
    let mut run_args = args.clone();
    run_args.features = Some(features);
    let run_args = &run_args;
    let exe_ref = &exe;
    let dir_ref = &dir;
    let mut stream = futures::stream::iter(
        runs.into_iter()
            .enumerate()
            .map(|(i, d)| async move { (i, run_one(exe_ref, run_args, seed, dir_ref, d).await) }),
    )
    .buffer_unordered(args.jobs as usize);
    let mut rows: Vec<(usize, Row)> = Vec::new();
    while let Some((i, row)) = stream.next().await {
        let (verdict, _) = describe(&row);
        println!(
            "  [{}/{total}] {} {verdict} ({} s)",
            rows.len() + 1,
            row.defect.as_deref().unwrap_or("(clean)"),
            row.elapsed.as_secs()
        );
        rows.push((i, row));
    }
    rows.sort_by_key(|(i, _)| *i);
    let rows: Vec<Row> = rows.into_iter().map(|(_, r)| r).collect();
    print!("\n{}", render_table(&rows));
    let defects_total = rows.iter().filter(|r| r.defect.is_some()).count();
    let caught = rows.iter().filter(|r| r.defect.is_some() && r.ok()).count();
    let clean_ok = rows.iter().any(|r| r.defect.is_none() && r.ok());
    println!(
        "\n{caught} of {defects_total} defects caught; clean run {}; {:.0} s",
        if clean_ok { "passed" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    if rows
        .iter()
        .all(|r| matches!(r.outcome, RunOutcome::Broken(_)))
    {
        // the suite could not run at all: a setup problem, not a verdict on the suite's teeth
        return Ok(GATE_SETUP);
    }
    Ok(if clean_ok && caught == defects_total {
        GATE_PASSED
    } else {
        GATE_FAILED
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(defect: Option<&str>, failed: &[&str], exit_code: i32) -> Row {
        Row {
            defect: defect.map(str::to_owned),
            outcome: RunOutcome::Report {
                exit_code,
                failed: failed.iter().map(|s| (*s).to_owned()).collect(),
                errors: Vec::new(),
                closing: format!("1 passed, {} failed, 0 skipped", failed.len()),
            },
            elapsed: Duration::from_secs(3),
        }
    }

    #[test]
    fn verdicts_and_table() {
        let rows = vec![
            row(None, &[], 0),
            row(
                Some("alg-none"),
                &["a :: 1", "a :: 2", "b :: 3", "c :: 4", "c :: 5"],
                1,
            ),
            row(Some("no-rate-limit"), &[], 0),
            Row {
                defect: Some("x".into()),
                outcome: RunOutcome::Broken("the run exited with 2: bad".into()),
                elapsed: Duration::ZERO,
            },
        ];
        assert!(rows[0].ok() && rows[1].ok());
        assert!(!rows[2].ok() && !rows[3].ok());
        let t = render_table(&rows);
        assert!(
            t.contains("caught    ") && t.contains("5 scenarios: a :: 1; a :: 2; b :: 3 (+2 more)"),
            "{t}"
        );
        assert!(t.contains("SURVIVED") && t.contains("BROKEN"), "{t}");
        assert!(!row(None, &["a :: 1"], 1).ok());
    }

    #[test]
    fn spawn_commands_are_quoted() {
        let args = GateArgs {
            reference: PathBuf::from("/path with space/xauth-reference"),
            reference_args: "--jwks-ttl-max 2 --rate-window '3'".into(),
            profile: None,
            features: None,
            defects: Vec::new(),
            jobs: 2,
            properties_cases: 8,
            properties_seed: None,
            run_timeout: Duration::from_secs(60),
            work_dir: None,
            run_args: Vec::new(),
        };
        let cmd = spawn_command(&args, Some("alg-none")).unwrap();
        assert_eq!(
            shlex::split(&cmd).unwrap(),
            [
                "/path with space/xauth-reference",
                "--jwks-ttl-max",
                "2",
                "--rate-window",
                "3",
                "--defect",
                "alg-none"
            ]
        );
    }
}
