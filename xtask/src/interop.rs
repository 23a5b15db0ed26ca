//! `cargo xtask interop`: the real supabase-js and jose clients against the issuer binary.

use std::process::Command;

use crate::process::{Outcome, cargo, run, target_dir, workspace_root};

/// Runs the interop tests; `build` false reuses the binary `cargo test --workspace` built.
pub fn interop(build: bool) -> Outcome {
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
