//! What every command shares: where the workspace and its target directory are, the `cargo`
//! that runs us, running a command with an echo, and the one error type ([`Failure`]).

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A failed step: the exit code to pass on and what to say about it.
#[derive(Debug)]
pub struct Failure {
    /// The exit code to exit with.
    pub code: u8,
    /// What to say (empty: nothing).
    pub message: String,
}

impl Failure {
    /// A usage or setup error (exit 2).
    pub fn setup(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }
}

/// The result of a command.
pub type Outcome = Result<(), Failure>;

/// The workspace root (xtask/ lives directly under it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `$CARGO_TARGET_DIR` (relative to the workspace root) or `<root>/target`.
pub fn target_dir() -> PathBuf {
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

/// The `cargo` that runs us, in the workspace root.
pub fn cargo() -> Command {
    let mut cmd = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(workspace_root());
    cmd
}

/// Runs `cmd`, echoing it first; a non-zero exit becomes a `Failure` with the same code.
pub fn run(mut cmd: Command) -> Outcome {
    eprintln!("$ {}", render(&cmd));
    let status = cmd
        .status()
        .map_err(|e| Failure::setup(format!("cannot start {}: {e}", render(&cmd))))?;
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

/// The command as one line, for echoing.
pub fn render(cmd: &Command) -> String {
    let mut out = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        out.push(' ');
        out.push_str(&arg.to_string_lossy());
    }
    out
}

/// Whether `args` hold `flag` (as `--flag` or `--flag=value`).
pub fn has_flag(args: &[OsString], flag: &str) -> bool {
    args.iter().any(|a| {
        a.to_str()
            .is_some_and(|s| s == flag || s.starts_with(&format!("{flag}=")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_found_with_or_without_a_value() {
        let args: Vec<OsString> = ["--tags", "@x", "--profile=p.toml"]
            .iter()
            .map(Into::into)
            .collect();
        assert!(has_flag(&args, "--tags"));
        assert!(has_flag(&args, "--profile"));
        assert!(!has_flag(&args, "--prof"));
        assert!(!has_flag(&args, "--spawn"));
    }

    #[test]
    fn commands_render_on_one_line() {
        let mut cmd = Command::new("cargo");
        cmd.args(["build", "-p", "x"]);
        assert_eq!(render(&cmd), "cargo build -p x");
    }
}
