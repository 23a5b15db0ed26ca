//! Starting one suite run of the gate: its `--spawn` command, the `xauth-conformance run`
//! process (bounded by `--run-timeout`), and the feature files every run shares.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::defects::Defect;
use super::table::{Row, RunOutcome, read_report};
use crate::cli::GateArgs;

fn quote(s: &str) -> Result<String, String> {
    shlex::try_quote(s)
        .map(|c| c.into_owned())
        .map_err(|e| format!("cannot quote {s:?}: {e}"))
}

/// The `--spawn` command of one run.
pub(super) fn spawn_command(args: &GateArgs, defect: Option<&str>) -> Result<String, String> {
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

/// The `--tags` expression of a defect's run: only the scenarios (and properties) tagged with
/// the rows it declares, the only ones that can count as its catch. `None` with
/// `--whole-suite`, when the gate's own `--run-arg`s choose tags, or when it declares no row.
pub(super) fn row_filter(args: &GateArgs, defect: &Defect) -> Option<String> {
    if args.whole_suite
        || defect.rows.is_empty()
        || args.run_args.iter().any(|a| a.starts_with("--tags"))
    {
        return None;
    }
    Some(
        defect
            .rows
            .iter()
            .map(|r| format!("@{r}"))
            .collect::<Vec<_>>()
            .join(" or "),
    )
}

pub(super) async fn run_one(
    exe: &Path,
    args: &GateArgs,
    seed: u64,
    dir: &Path,
    defect: Option<Defect>,
) -> Row {
    let started = Instant::now();
    let outcome = run_one_inner(exe, args, seed, dir, defect.as_ref()).await;
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
    defect: Option<&Defect>,
) -> RunOutcome {
    let label = defect.map_or("clean", |d| d.name.as_str());
    let spawn = match spawn_command(args, defect.map(|d| d.name.as_str())) {
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
    if let Some(tags) = defect.and_then(|d| row_filter(args, d)) {
        cmd.arg("--tags").arg(tags);
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

/// Copies the `.feature` files the runner would use (`explicit`, else the repository's
/// `features/`, else the embedded ones) into `to`, so that edits made while the gate runs
/// cannot give its runs different suites.
pub(super) fn snapshot_features(explicit: Option<&Path>, to: &Path) -> Result<PathBuf, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
            whole_suite: false,
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

    #[test]
    fn a_defect_runs_only_its_declared_rows_unless_asked_otherwise() {
        let mut args = GateArgs {
            reference: PathBuf::from("r"),
            reference_args: String::new(),
            profile: None,
            features: None,
            defects: Vec::new(),
            jobs: 1,
            properties_cases: 1,
            properties_seed: None,
            run_timeout: Duration::from_secs(1),
            work_dir: None,
            run_args: Vec::new(),
            whole_suite: false,
        };
        let d = Defect {
            name: "x".into(),
            rows: vec!["A01".into(), "properties".into()],
        };
        assert_eq!(
            row_filter(&args, &d).as_deref(),
            Some("@A01 or @properties")
        );
        args.run_args = vec!["--tags=@A02".into()];
        assert_eq!(row_filter(&args, &d), None);
        args.run_args.clear();
        args.whole_suite = true;
        assert_eq!(row_filter(&args, &d), None);
    }
}
