//! `cargo xtask targets`: the suite against the correct implementations in `interop/targets/`.
//! (Just over 500 lines: installing, running and summarising one target read best in one place.)
//!
//! Each `interop/targets/<name>/` holds a server written the way its libraries' documentation
//! shows and a `profile.toml` whose header comment names the `xauth-conformance run … --spawn
//! "…"` command (with the short TTL/cooldown/window values it declares). For each target this
//! installs its dependencies (`npm ci` for a `package-lock.json`, a `.venv` and `pip install -r
//! requirements.txt` for a `requirements.txt`), runs the suite in its default mode and requires
//! exit 0: a scenario that fails a correct implementation is a false alarm of the suite.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::process::{Failure, Outcome, cargo, render, run, target_dir, workspace_root};
use crate::profile::header_run_command;

/// The longest one target's suite run may take before it is stopped (the suite bounds every
/// scenario itself; this only guards CI against a wedged run).
const RUN_LIMIT: Duration = Duration::from_secs(15 * 60);

/// The longest one dependency install may take.
const INSTALL_LIMIT: Duration = Duration::from_secs(10 * 60);

const TARGETS_DIR: &str = "interop/targets";

/// One target's outcome, for the closing table.
struct Report {
    name: String,
    counts: Option<String>,
    install: Duration,
    suite: Duration,
    ok: bool,
}

/// `cargo xtask targets [NAME...] [-- RUN-ARGS]`: every target (or the named ones), each in the
/// suite's default mode. `build` false reuses an `xauth-conformance` binary already built.
pub fn targets(args: &[std::ffi::OsString], build: bool) -> Outcome {
    let (names, extra) = split_args(args)?;
    let all = discover()?;
    let selected: Vec<PathBuf> = if names.is_empty() {
        all
    } else {
        let mut chosen = Vec::new();
        for name in &names {
            match all
                .iter()
                .find(|d| d.file_name().is_some_and(|n| n == name.as_str()))
            {
                Some(dir) => chosen.push(dir.clone()),
                None => {
                    return Err(Failure {
                        code: 2,
                        message: format!(
                            "no target {name:?} under {TARGETS_DIR}/ (have: {})",
                            all.iter()
                                .filter_map(|d| d.file_name())
                                .map(|n| n.to_string_lossy().into_owned())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                }
            }
        }
        chosen
    };
    if selected.is_empty() {
        return Err(Failure {
            code: 2,
            message: format!("no target under {TARGETS_DIR}/ has a profile.toml"),
        });
    }

    let suite_bin = target_dir().join("debug").join("xauth-conformance");
    if build || !suite_bin.is_file() {
        let mut cmd = cargo();
        cmd.args(["build", "--quiet", "-p", "xauth-conformance"]);
        run(cmd)?;
    }

    let mut reports = Vec::new();
    for dir in &selected {
        reports.push(run_target(dir, &suite_bin, &extra)?);
    }

    eprintln!("\nxtask targets:");
    for r in &reports {
        eprintln!(
            "  {:<14} {:<4} {:<36} install {:>3.0} s, suite {:>3.0} s",
            r.name,
            if r.ok { "ok" } else { "FAIL" },
            r.counts.as_deref().unwrap_or("(no closing line)"),
            r.install.as_secs_f64(),
            r.suite.as_secs_f64(),
        );
    }
    let failed: Vec<&str> = reports
        .iter()
        .filter(|r| !r.ok)
        .map(|r| r.name.as_str())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure {
            code: 1,
            message: format!(
                "the suite failed correct implementation(s): {} (full logs under {})",
                failed.join(", "),
                log_dir().display()
            ),
        })
    }
}

/// Target names before `--`, `xauth-conformance run` arguments after it.
fn split_args(args: &[std::ffi::OsString]) -> Result<(Vec<String>, Vec<String>), Failure> {
    let mut names = Vec::new();
    let mut extra = Vec::new();
    let mut after = false;
    for arg in args {
        let arg = arg.to_str().ok_or_else(|| Failure {
            code: 2,
            message: format!("argument {arg:?} is not UTF-8"),
        })?;
        if after {
            extra.push(arg.to_owned());
        } else if arg == "--" {
            after = true;
        } else if arg.starts_with('-') {
            return Err(Failure {
                code: 2,
                message: format!(
                    "unknown option {arg:?}: usage: cargo xtask targets [NAME...] [-- RUN-ARGS]"
                ),
            });
        } else {
            names.push(arg.to_owned());
        }
    }
    Ok((names, extra))
}

/// Every `interop/targets/<name>/` that has a `profile.toml`, sorted by name.
fn discover() -> Result<Vec<PathBuf>, Failure> {
    let root = workspace_root().join(TARGETS_DIR);
    let entries = std::fs::read_dir(&root).map_err(|e| Failure {
        code: 2,
        message: format!("{}: {e}", root.display()),
    })?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("profile.toml").is_file())
        .collect();
    dirs.sort();
    Ok(dirs)
}

fn log_dir() -> PathBuf {
    target_dir().join("xtask-targets")
}

fn run_target(dir: &Path, suite_bin: &Path, extra: &[String]) -> Result<Report, Failure> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    eprintln!("\n== target {name} ==");

    let started = Instant::now();
    install(dir)?;
    let install = started.elapsed();

    let profile_path = dir.join("profile.toml");
    let text = std::fs::read_to_string(&profile_path).map_err(|e| Failure {
        code: 2,
        message: format!("{}: {e}", profile_path.display()),
    })?;
    let (spawn, run_flags) = header_run_command(&text)
        .and_then(|(spawn, flags)| Some((spawn?, flags)))
        .ok_or_else(|| Failure {
            code: 2,
            message: format!(
                "{}: its header comment names no `xauth-conformance run ... --spawn \"CMD\"` command",
                profile_path.display()
            ),
        })?;
    if let Some(bad) = run_flags
        .iter()
        .find(|f| matches!(f.as_str(), "--strict" | "--slow" | "--expect-fail"))
    {
        return Err(Failure {
            code: 2,
            message: format!(
                "{}: targets run in the default mode, but its command has {bad}",
                profile_path.display()
            ),
        });
    }

    let relative_profile = profile_path
        .strip_prefix(workspace_root())
        .unwrap_or(&profile_path)
        .to_path_buf();
    let mut suite = Command::new(suite_bin);
    suite
        .current_dir(workspace_root())
        .arg("run")
        .arg("--profile")
        .arg(&relative_profile)
        .arg("--spawn")
        .arg(&spawn)
        .args(&run_flags);
    if !run_flags
        .iter()
        .chain(extra)
        .any(|f| f.starts_with("--issuer"))
    {
        // An ephemeral port, so a developer's running mock on 54321 never collides.
        suite.args(["--issuer-addr", "127.0.0.1:0"]);
    }
    suite.args(extra);

    std::fs::create_dir_all(log_dir()).map_err(|e| Failure {
        code: 2,
        message: format!("{}: {e}", log_dir().display()),
    })?;
    let log_path = log_dir().join(format!("{name}.log"));
    let started = Instant::now();
    let (ok, counts) = run_suite(suite, &log_path)?;
    let suite = started.elapsed();
    eprintln!(
        "xtask targets: {name}: {} in {:.0} s{}",
        counts.as_deref().unwrap_or("no closing line"),
        suite.as_secs_f64(),
        if ok { "" } else { " (FAILED)" }
    );
    Ok(Report {
        name,
        counts,
        install,
        suite,
        ok,
    })
}

/// Installs the target's dependencies from its lock file.
fn install(dir: &Path) -> Outcome {
    if dir.join("package.json").is_file() {
        if !dir.join("package-lock.json").is_file() {
            return Err(Failure {
                code: 2,
                message: format!(
                    "{}: package.json without package-lock.json (commit the lock file: `npm install` there)",
                    dir.display()
                ),
            });
        }
        let mut cmd = Command::new("npm");
        cmd.current_dir(dir)
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
        run_bounded(cmd, INSTALL_LIMIT)?;
    }
    if dir.join("requirements.txt").is_file() {
        let venv = dir.join(".venv");
        let python = venv.join("bin").join("python");
        let usable = python.is_file()
            && Command::new(&python)
                .args(["-c", "import sys; sys.exit(sys.version_info < (3, 9))"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
        if !usable {
            let mut cmd = Command::new("python3");
            cmd.current_dir(dir)
                .args(["-m", "venv", "--clear", ".venv"]);
            run_bounded(cmd, INSTALL_LIMIT).map_err(|f| Failure {
                code: f.code,
                message: format!(
                    "{} (creating a venv needs Python 3.9+ with the venv module and ensurepip; on Debian: apt-get install python3-venv)",
                    f.message
                ),
            })?;
        }
        let mut cmd = Command::new(&python);
        cmd.current_dir(dir).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "-r",
            "requirements.txt",
        ]);
        run_bounded(cmd, INSTALL_LIMIT)?;
    }
    Ok(())
}

/// `run`, but the command is stopped once `limit` has passed.
fn run_bounded(mut cmd: Command, limit: Duration) -> Outcome {
    eprintln!("$ {}", render(&cmd));
    let child = cmd.spawn().map_err(|e| Failure {
        code: 2,
        message: format!("cannot start {}: {e}", render(&cmd)),
    })?;
    match wait_bounded(child, limit)? {
        Some(status) if status.success() => Ok(()),
        Some(status) => Err(Failure {
            code: status
                .code()
                .map_or(1, |c| u8::try_from(c).unwrap_or(1))
                .max(1),
            message: format!("`{}` failed ({status})", render(&cmd)),
        }),
        None => Err(Failure {
            code: 1,
            message: format!(
                "`{}` did not finish within {} s",
                render(&cmd),
                limit.as_secs()
            ),
        }),
    }
}

/// Waits for `child` at most `limit`; past it, asks it to stop (SIGTERM, so the suite stops the
/// implementation it spawned), then kills it. `None` when it had to be stopped.
fn wait_bounded(
    mut child: Child,
    limit: Duration,
) -> Result<Option<std::process::ExitStatus>, Failure> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(Some(status)),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Ok(None) => break,
            Err(e) => {
                return Err(Failure {
                    code: 2,
                    message: format!("waiting for a child process: {e}"),
                });
            }
        }
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let grace = Instant::now() + Duration::from_secs(10);
    while Instant::now() < grace {
        if let Ok(Some(_)) = child.try_wait() {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    Ok(None)
}

/// Runs the suite with its output echoed (less the list of skipped scenarios) and written whole
/// to `log_path`; returns (exit 0, the closing `N passed, N failed, N skipped` line).
fn run_suite(mut suite: Command, log_path: &Path) -> Result<(bool, Option<String>), Failure> {
    eprintln!("$ {}", render(&suite));
    let mut child = suite
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Failure {
            code: 2,
            message: format!("cannot start {}: {e}", render(&suite)),
        })?;
    let mut log = std::fs::File::create(log_path).map_err(|e| Failure {
        code: 2,
        message: format!("{}: {e}", log_path.display()),
    })?;

    // Both streams feed one channel; the readers end when the suite closes them.
    let (tx, rx) = mpsc::channel::<String>();
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        }));
    }
    if let Some(err) = child.stderr.take() {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        }));
    }
    drop(tx);
    let waiter = std::thread::spawn(move || wait_bounded(child, RUN_LIMIT));

    let mut counts = None;
    let mut in_skipped = false;
    for line in rx {
        let _ = writeln!(log, "{line}");
        if line.starts_with("Skipped (") {
            in_skipped = true;
            eprintln!("{line} (listed in {})", log_path.display());
            continue;
        }
        if in_skipped && line.starts_with("  - ") {
            continue;
        }
        in_skipped = false;
        if is_counts_line(&line) {
            counts = Some(line.trim().to_owned());
        }
        eprintln!("{line}");
    }
    for reader in readers {
        let _ = reader.join();
    }
    let status = waiter.join().map_err(|_| Failure {
        code: 2,
        message: "the thread waiting for the suite panicked".to_owned(),
    })??;
    match status {
        Some(status) => Ok((status.success(), counts)),
        None => {
            eprintln!(
                "xtask targets: the suite did not finish within {} s and was stopped",
                RUN_LIMIT.as_secs()
            );
            Ok((false, counts))
        }
    }
}

/// `N passed, N failed, N skipped`, alone on the line.
fn is_counts_line(line: &str) -> bool {
    let parts: Vec<&str> = line.trim().split(", ").collect();
    parts.len() == 3
        && ["passed", "failed", "skipped"]
            .iter()
            .zip(&parts)
            .all(|(word, part)| {
                part.split_once(' ').is_some_and(|(n, w)| {
                    w == *word && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
                })
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_line() {
        assert!(is_counts_line("370 passed, 0 failed, 60 skipped"));
        assert!(!is_counts_line(
            "[ ok ] a.feature: 3 passed, 0 failed, 1 skipped"
        ));
        assert!(!is_counts_line("370 passed, 0 failed"));
    }

    #[test]
    fn every_target_profile_names_its_spawn_command() {
        let dirs = discover().expect("interop/targets exists");
        assert!(!dirs.is_empty());
        for dir in dirs {
            let text = std::fs::read_to_string(dir.join("profile.toml")).unwrap();
            let (spawn, flags) = header_run_command(&text).expect("a run command in the header");
            let spawn = spawn.expect("a --spawn value");
            assert!(!spawn.is_empty(), "{}", dir.display());
            assert!(
                !flags.iter().any(|f| f == "--strict" || f == "--slow"),
                "{}: default mode only",
                dir.display()
            );
        }
    }

    #[test]
    fn args_split_at_double_dash() {
        let args: Vec<std::ffi::OsString> = ["node-jose", "--", "--tags", "@errors"]
            .iter()
            .map(Into::into)
            .collect();
        let (names, extra) = split_args(&args).ok().unwrap();
        assert_eq!(names, ["node-jose"]);
        assert_eq!(extra, ["--tags", "@errors"]);
    }
}
